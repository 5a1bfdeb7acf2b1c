"""A Tk chat window with Tk's default Text bindings and an input larger than any probe.

Run as a program: ``python -m tests.apps.tk_chat OUTFILE --name N [--geometry WxH+X+Y]
[--slow-paste MS] [--ready PATH]``.
The input is a ``Text`` of 460x300 pixels, 10 pixels from the window's left and bottom
edges: its centre is where a person clicks, and pasted text shows at its top. Everything
but Return is Tk's own behaviour (on X11: Ctrl+A moves to the line start, Ctrl+/ selects
all, a paste does not replace the selection, a click sets the focus only within the
application).
Return takes the whole input, appends ``{"text": ...}`` as one JSON line to OUTFILE and
clears the input. ``--slow-paste MS`` shows a paste only MS milliseconds after the paste key.
When the window is drawn the program writes the ``--ready`` file.
"""

from __future__ import annotations

import argparse
import json
import tkinter as tk
from pathlib import Path

WIDTH, HEIGHT = 480, 540
INPUT_SIZE = (460, 300)
INPUT_MARGIN = 10  # from the window's left and bottom edges to the input


class TkChat:
    """One chat window: a header, the latest message and the input."""

    def __init__(self, root: tk.Tk, name: str, outfile: Path, slow_paste_ms: int) -> None:
        self.root = root
        self.outfile = outfile
        self.slow_paste_ms = slow_paste_ms
        self.count = 0
        root.title(name)
        root.configure(background="#20242c")
        tk.Label(root, text=name, fg="white", bg="#20242c").place(x=10, y=8)
        self.status = tk.Label(root, text="received: 0", fg="#b0b0b0", bg="#20242c")
        self.status.place(x=10, y=32)
        self.last = tk.Label(root, text="", fg="#d8dee9", bg="#20242c", justify="left",
                             anchor="nw", wraplength=450, font="TkFixedFont")  # fmt: skip
        self.last.place(x=10, y=60, width=460, height=160)
        self.input = tk.Text(root, wrap="char", font="TkFixedFont")
        width, height = INPUT_SIZE
        self.input.place(x=INPUT_MARGIN, y=-INPUT_MARGIN, rely=1.0, anchor="sw", width=width,
                         height=height)  # fmt: skip
        self.input.bind("<Return>", self._submit)
        if slow_paste_ms:
            self.input.bind("<<Paste>>", self._slow_paste)

    def _slow_paste(self, _event: tk.Event) -> str:
        """Read the clipboard now, show it later (as Tk's own paste would: at the cursor)."""
        try:
            text = self.input.clipboard_get(type="UTF8_STRING")
        except tk.TclError:
            return "break"
        self.input.after(self.slow_paste_ms, self._insert, text)
        return "break"

    def _insert(self, text: str) -> None:
        self.input.insert("insert", text)
        self.input.see("insert")

    def _submit(self, _event: tk.Event) -> str:
        text = self.input.get("1.0", "end-1c")
        with self.outfile.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"text": text}, ensure_ascii=True) + "\n")
        self.input.delete("1.0", "end")
        self.count += 1
        self.status.configure(text=f"received: {self.count}")
        self.last.configure(text=text[:600])
        return "break"


def main(argv: list[str] | None = None) -> None:
    """Open the window and run until it is closed or killed."""
    parser = argparse.ArgumentParser(description="A Tk chat window with default bindings.")
    parser.add_argument("outfile", type=Path, help="append each message here as a JSON line")
    parser.add_argument("--name", default="agent", help="the window title")
    parser.add_argument("--geometry", default=f"{WIDTH}x{HEIGHT}+0+0", help="WxH+X+Y")
    parser.add_argument("--slow-paste", type=int, default=0, metavar="MS")
    parser.add_argument("--ready", type=Path, help="written once the window is drawn")
    args = parser.parse_args(argv)
    root = tk.Tk()
    root.geometry(args.geometry)
    TkChat(root, args.name, args.outfile, args.slow_paste)
    root.update()
    if args.ready is not None:
        root.after(100, args.ready.write_text, "ready")
    root.mainloop()


if __name__ == "__main__":
    main()
