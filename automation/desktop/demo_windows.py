"""Eight demo agent chat windows in a 4x2 grid (the demo, the desktop tests, the benchmark).

Run as a program: ``python -m automation.desktop.demo_windows RECORDS_DIR [--slow-paste I:MS]
[--ctrl-enter I]``.
Window ``i`` (0-based) covers the cell ``(i % 4) * 480, (i // 4) * 540`` (480x540) and has a
multi-line input whose centre area holds the point ``(cell_x + 240, cell_y + 480)``.
The submit key takes the whole input, appends ``{"text": ...}`` as one JSON line to
``RECORDS_DIR/agent-<i+1>.jsonl`` and clears the input. Everything else is Tk's default
``Text`` behaviour: Ctrl+A moves to the line start, Ctrl+/ selects all, and a click does not
take the keyboard from another application when no window manager runs.
``--slow-paste I:MS`` makes window I show a paste only MS milliseconds after Ctrl+V.
``--ctrl-enter I`` makes window I submit on Ctrl+Enter (plain Enter adds a new line).
When every window is drawn the program writes ``RECORDS_DIR/ready``.
"""

from __future__ import annotations

import argparse
import json
import tkinter as tk
from pathlib import Path

from automation.desktop.virtual_desktop import CELL_H, CELL_W, COLUMNS, COUNT


class AgentWindow:
    """One chat window: a header, a counter of received messages and the input."""

    def __init__(self, root: tk.Tk, index: int, records: Path, delay_ms: int, ctrl: bool):
        self.index = index
        self.records = records / f"agent-{index + 1}.jsonl"
        self.delay_ms = delay_ms
        self.count = 0
        top = tk.Toplevel(root, background="#20242c")
        x, y = (index % COLUMNS) * CELL_W, (index // COLUMNS) * CELL_H
        top.geometry(f"{CELL_W}x{CELL_H}+{x}+{y}")
        top.title(f"Agent-{index + 1}")
        header = tk.Label(top, text=f"Agent-{index + 1}", fg="white", bg="#20242c")
        header.place(x=20, y=30)
        self.status = tk.Label(top, text="received: 0", fg="#b0b0b0", bg="#20242c")
        self.status.place(x=20, y=60)
        self.last = tk.Label(
            top,
            text="",
            fg="#d8dee9",
            bg="#20242c",
            justify="left",
            anchor="nw",
            wraplength=430,
            font="TkFixedFont",
        )
        self.last.place(x=20, y=95, width=440, height=310)
        self.input = tk.Text(top, wrap="char", undo=False, font="TkFixedFont")
        self.input.place(x=10, y=420, width=460, height=110)
        self._bind(ctrl)

    def _bind(self, ctrl: bool) -> None:
        if self.delay_ms:
            self.input.bind("<<Paste>>", self._paste)
        if ctrl:
            self.input.bind("<Control-Return>", self._submit)
        else:
            self.input.bind("<Return>", self._submit)

    def _paste(self, _event: tk.Event) -> str:
        try:
            text = self.input.clipboard_get(type="UTF8_STRING")
        except tk.TclError:
            return "break"
        if self.delay_ms:
            self.input.after(self.delay_ms, self._insert, text)
        else:
            self._insert(text)
        return "break"

    def _insert(self, text: str) -> None:
        if self.input.tag_ranges("sel"):
            self.input.delete("sel.first", "sel.last")
        self.input.insert("insert", text)
        self.input.see("insert")

    def _submit(self, _event: tk.Event) -> str:
        text = self.input.get("1.0", "end-1c")
        with self.records.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"text": text}, ensure_ascii=True) + "\n")
        self.input.delete("1.0", "end")
        self.count += 1
        self.status.configure(text=f"received: {self.count}")
        self.last.configure(text=text[:700])  # the chat "history": the latest message
        return "break"


def _index_value(spec: str) -> tuple[int, int]:
    index, _, ms = spec.partition(":")
    return int(index), int(ms or 0)


def main() -> None:
    """Open the eight windows and run until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("records", type=Path)
    parser.add_argument("--slow-paste", action="append", default=[], type=_index_value)
    parser.add_argument("--ctrl-enter", action="append", default=[], type=int)
    args = parser.parse_args()
    slow = dict(args.slow_paste)
    root = tk.Tk()
    root.withdraw()
    windows = [
        AgentWindow(root, i, args.records, slow.get(i, 0), i in args.ctrl_enter)
        for i in range(COUNT)
    ]
    root.update()
    root.after(200, lambda: (args.records / "ready").write_text(str(len(windows))))
    root.mainloop()


if __name__ == "__main__":
    main()
