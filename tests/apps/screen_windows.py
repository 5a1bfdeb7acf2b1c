"""Windows whose screens the watcher judges: carets that blink by default, text that streams.

Run as a program (Tk): ``python -m tests.apps.screen_windows MODE --name N --geometry
WxH+X+Y --ready PATH``, MODE one of ``caret`` (a Text with some text and the focus: Tk's
default caret, 2 pixels wide, 600 ms on, 300 ms off), ``stream`` (a line appended every
150 ms), ``scroll`` (a long text scrolled a line every 200 ms), ``spinner`` (one character
cycling through ``|/-\\`` every 100 ms, nothing else), ``resize`` (the window grows and
shrinks by 12 pixels every 200 ms). Tk's defaults otherwise.

``open_window(server, kind, box, workdir)`` starts one of: ``tk-<mode>``; ``xterm`` (a
shell waiting at its prompt, xterm's default steady block cursor), ``xterm-blink`` (the
same with ``-bc``: a blinking block), ``xterm-stream`` (a program printing a line every
150 ms), ``xterm-spinner`` (a Claude-Code-like status line: a spinner and the seconds
elapsed, redrawn in place); ``chrome`` (a Chromium ``--app`` page with a focused textarea:
Chromium's default caret, 1 pixel wide, 500 ms on and off), ``chrome-stream`` (the same
page appending a line every 150 ms). Each is placed on ``box`` and has the keyboard focus.
"""

from __future__ import annotations

import argparse
import itertools
import shlex
import sys
import tkinter as tk
from dataclasses import dataclass
from pathlib import Path

from automation.desktop.virtual_desktop import XServer
from tests.apps import launchers
from tests.apps.launchers import CHROMIUM, CHROMIUM_FLAGS, REPO, UTF8, XTERM_FONT, Box, Launched

TK_MODES = ("caret", "stream", "scroll", "spinner", "resize")
KINDS = (
    *(f"tk-{mode}" for mode in TK_MODES),
    "xterm",
    "xterm-blink",
    "xterm-stream",
    "xterm-spinner",
    "chrome",
    "chrome-stream",
)
LINES = [f"line {i:03d}: the agent writes some output, word after word" for i in range(400)]
STREAM_PY = (
    "import time\n"
    "for i in range(100000):\n"
    "    print(f'step {i:05d}: compiling module_{i % 97}.py ... ok', flush=True)\n"
    "    time.sleep(0.15)\n"
)
SPINNER_PY = (
    "import itertools, sys, time\n"
    "start = time.monotonic()\n"
    "for glyph in itertools.cycle('·✢✳✶✻✽'):\n"
    "    secs = int(time.monotonic() - start)\n"
    "    sys.stdout.write(f'\\r{glyph} Thinking… ({secs}s · esc to interrupt) ')\n"
    "    sys.stdout.flush()\n"
    "    time.sleep(0.12)\n"
)
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{name}</title>
<style>body{{margin:0;background:#1e1f22;color:#d4d4d4;font:13px/1.4 sans-serif}}
#log{{height:60%;overflow:hidden;padding:6px;white-space:pre}}
textarea{{width:90%;height:25%;margin:5%;background:#25262a;color:#e6e6e6;
border:1px solid #3c3f45;font:13px/18px monospace}}</style></head><body>
<div id="log">Agent ready.</div><textarea id="input" autofocus>Plan, search, build</textarea>
<script>
const input = document.getElementById("input");
input.focus(); input.setSelectionRange(input.value.length, input.value.length);
if ({stream}) {{
  let i = 0; const log = document.getElementById("log");
  setInterval(() => {{ log.textContent += "\\nstep " + (i++) + ": writing src/module.py";
                      log.scrollTop = log.scrollHeight; }}, 150);
}}
</script></body></html>"""


@dataclass
class ScreenWindow:
    """A started window: its process and where it is on the screen."""

    kind: str
    launched: Launched
    window: int
    box: Box

    def stop(self) -> None:
        """Close it."""
        self.launched.stop()


def open_window(server: XServer, kind: str, box: Box, workdir: Path, name: str) -> ScreenWindow:
    """Start a ``kind`` window titled ``name`` on ``box`` and give it the keyboard focus."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    workdir.mkdir(parents=True, exist_ok=True)
    if kind.startswith("tk-"):
        launched, ready = _launch_tk(server, kind[3:], box, workdir, name)
    elif kind.startswith("xterm"):
        launched, ready = _launch_xterm(server, kind, box, workdir, name), None
    else:
        launched, ready = _launch_chrome(server, kind, box, workdir, name), None
    try:
        if ready is not None:
            launchers.wait_until(ready.exists, 30, f"{name} did not start", launched.process)
        window = launchers.wait_for_window(server, name, 30, launched.log)
        server.xdotool("windowfocus", "--sync", str(window))
        placed = launchers.window_box(server, window)
    except BaseException:
        launched.stop()
        raise
    return ScreenWindow(kind, launched, window, placed)


def _launch_tk(
    server: XServer, mode: str, box: Box, workdir: Path, name: str
) -> tuple[Launched, Path]:
    x, y, width, height = box
    ready = workdir / f"{name}.ready"
    ready.unlink(missing_ok=True)
    args = [sys.executable, "-m", "tests.apps.screen_windows", mode, "--name", name,
            "--geometry", f"{width}x{height}+{x}+{y}", "--ready", str(ready)]  # fmt: skip
    log = workdir / f"{name}-tk.log"
    env = {**server.env, "PYTHONPATH": str(REPO)}
    return Launched(name, launchers._popen(args, env, log), log), ready


def _launch_xterm(server: XServer, kind: str, box: Box, workdir: Path, name: str) -> Launched:
    x, y, _width, _height = box
    columns, rows = launchers.xterm_size(box)
    args = ["xterm", "-u8", "-fn", XTERM_FONT, "-geometry", f"{columns}x{rows}+{x}+{y}",
            "-T", name]  # fmt: skip
    if kind == "xterm-blink":
        args.append("-bc")
    script = {"xterm-stream": STREAM_PY, "xterm-spinner": SPINNER_PY}.get(kind)
    shell = f"{sys.executable} -c {shlex.quote(script)}" if script else "PS1='$ ' exec sh -i"
    args += ["-e", "sh", "-c", shell]
    log = workdir / f"{name}-xterm.log"
    return Launched(name, launchers._popen(args, {**server.env, **UTF8}, log), log)


def _launch_chrome(server: XServer, kind: str, box: Box, workdir: Path, name: str) -> Launched:
    x, y, width, height = box
    page = workdir / f"{name}.html"
    stream = "true" if kind == "chrome-stream" else "false"
    page.write_text(PAGE.format(name=name, stream=stream), encoding="utf-8")
    profile = workdir / f"chromium-{name}"
    args = [CHROMIUM, f"--app={page.as_uri()}", f"--user-data-dir={profile}", *CHROMIUM_FLAGS,
            f"--window-position={x},{y}", f"--window-size={width},{height}"]  # fmt: skip
    home = workdir / "chromium-home"
    env = {**server.env, "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_CACHE_HOME": str(home / "cache")}  # fmt: skip
    log = workdir / f"{name}-chromium.log"
    return Launched(name, launchers._popen(args, env, log), log)


class TkScreen:
    """The Tk program: one window doing what its mode says."""

    def __init__(self, root: tk.Tk, mode: str) -> None:
        self.root = root
        self.mode = mode
        root.configure(background="white")
        self.text = tk.Text(root, wrap="none", font="TkFixedFont")
        self.text.place(x=8, y=8, relwidth=1.0, relheight=1.0, width=-16, height=-16)
        if mode == "scroll":
            self.text.insert("end", "\n".join(LINES))
            self.text.see("1.0")
        else:
            self.text.insert("end", "$ swarm task start T-3\nworking on it\n> ")
        self.text.focus_set()
        self._lines = itertools.count()
        self._glyphs = itertools.cycle("|/-\\")
        self._grow = itertools.cycle([-12] * 4 + [12] * 4)  # inside its first size
        if mode == "spinner":
            self.text.destroy()
            self.label = tk.Label(root, text="|", font="TkFixedFont", background="white")
            self.label.place(x=20, y=20)
        if mode != "caret":
            root.after(150, self._tick)

    def _tick(self) -> None:
        if self.mode == "stream":
            self.text.insert("end", f"\n{LINES[next(self._lines) % len(LINES)]}")
            self.text.see("end")
        elif self.mode == "scroll":
            self.text.yview_scroll(1, "units")
        elif self.mode == "spinner":
            self.label.configure(text=next(self._glyphs))
        elif self.mode == "resize":
            step = next(self._grow)
            self.root.geometry(f"{self.root.winfo_width() + step}x{self.root.winfo_height()}")
        delay = {"stream": 150, "scroll": 200, "spinner": 100, "resize": 200}[self.mode]
        self.root.after(delay, self._tick)


def main(argv: list[str] | None = None) -> None:
    """Open the window and run until killed."""
    parser = argparse.ArgumentParser(description="A Tk window for the screen signal's tests.")
    parser.add_argument("mode", choices=TK_MODES)
    parser.add_argument("--name", default="screen")
    parser.add_argument("--geometry", default="400x300+0+0")
    parser.add_argument("--ready", type=Path)
    args = parser.parse_args(argv)
    root = tk.Tk()
    root.title(args.name)
    root.geometry(args.geometry)
    TkScreen(root, args.mode)
    root.update()
    if args.ready is not None:
        root.after(100, args.ready.write_text, "ready")
    root.mainloop()


if __name__ == "__main__":
    main()
