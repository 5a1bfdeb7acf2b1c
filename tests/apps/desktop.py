"""A mixed desktop of real applications on a private Xvfb, for the driver tests and benches.

``MixedDesktop(["chrome", "chrome", "xterm", "tk", "tk-slow"], workdir).start()`` starts
Xvfb (``automation.desktop.virtual_desktop.start_xvfb``), optionally openbox, the chat web server,
and one window per entry in a 4x2 grid of 480x540 cells on the 1920x1080 screen, named
``Agent-1``, ``Agent-2``, ... in order. Kinds:

- ``chrome``: a Chromium ``--app`` window on the chat page of ``chat_server`` (app ``chat``);
- ``xterm``: an xterm running ``term_chat`` (app ``terminal``);
- ``tk`` / ``tk-slow``: a ``tk_chat`` window, ``tk-slow`` showing a paste late (app ``chat``,
  clear keys Ctrl+/ then Delete: Tk's default Text bindings on X11 select all with
  Control-slash, while Control-a moves to the line start).

Every window's ``input`` point and ``input_box`` are measured from where the window really
is once it is mapped and ready. ``agents_toml()`` is the matching agents file.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageGrab

from automation.desktop.terminal_modes import read_state
from automation.desktop.virtual_desktop import XServer, display_env
from tests.apps import launchers
from tests.apps.chat_server import ChatServer
from tests.apps.launchers import Box, Launched
from tests.apps.tk_chat import INPUT_MARGIN as TK_MARGIN
from tests.apps.tk_chat import INPUT_SIZE as TK_INPUT_SIZE
from tests.helpers import start_xvfb

log = logging.getLogger(__name__)

CELL_W, CELL_H, COLUMNS, MAX_WINDOWS = 480, 540, 4, 8
KINDS = ("chrome", "xterm", "tk", "tk-slow")
FRAME_ALLOWANCE = (4, 26)  # width, height left for openbox's frame inside a cell
TK_CLEAR = ("ctrl+/", "delete")
SESSION_SPEC = ("chrome", "chrome", "xterm", "xterm", "tk", "tk-slow")  # the apps_desktop fixture
SLOW_PASTE_MS = 800  # its tk-slow window's paste delay


@dataclass
class AppWindow:
    """One application window of the desktop and where a person types into it."""

    name: str
    kind: str
    window: int
    input: tuple[int, int]
    input_box: Box
    watch: Box
    outfile: Path | None

    @property
    def app(self) -> str:
        """The driver's application preset for this window."""
        return "terminal" if self.kind == "xterm" else "chat"

    def toml(self) -> str:
        """This window as an ``[[agent]]`` entry of an agents file."""
        lines = ["[[agent]]", f'id = "{self.name}"', f'role = "{self.kind}-{self.name[6:]}"',
                 'capabilities = ["python"]', f"input = {list(self.input)}",
                 f"input_box = {list(self.input_box)}", f"watch = {list(self.watch)}",
                 f'app = "{self.app}"']  # fmt: skip
        if self.kind.startswith("tk"):
            lines.append(f"clear = {json.dumps(list(TK_CLEAR))}")
        return "\n".join(lines) + "\n"


def cell(index: int) -> Box:
    """The grid cell (x, y, width, height) of window ``index`` (0-based)."""
    return (index % COLUMNS) * CELL_W, (index // COLUMNS) * CELL_H, CELL_W, CELL_H


def missing_reason() -> str | None:
    """Why the applications cannot run here (a missing program), or None."""
    missing = launchers.missing_programs()
    if not missing:
        return None
    return (
        f"{', '.join(missing)} not installed (apt-get install xvfb xdotool xsel x11-utils "
        "xterm chromium)"
    )


def grab(server: XServer, box: Box) -> Image.Image:
    """A screenshot of ``box`` (x, y, width, height) on ``server``."""
    x, y, width, height = box
    with display_env(server):
        return ImageGrab.grab(bbox=(x, y, x + width, y + height), xdisplay=server.display)


def read_records(path: Path | None) -> list[str]:
    """The texts recorded as JSON lines in ``path`` (a line still being written is skipped)."""
    if path is None or not path.exists():
        return []
    texts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            texts.append(json.loads(line)["text"])
        except (json.JSONDecodeError, KeyError):
            break
    return texts


class MixedDesktop:
    """Xvfb plus real application windows laid out from ``spec``; ``stop()`` ends them all."""

    def __init__(self, spec: Sequence[str], workdir: Path, window_manager: bool = False,
                 slow_paste_ms: int = 400, timeout: float = 40.0,
                 server: XServer | None = None,
                 beside: Mapping[str, str] | None = None) -> None:  # fmt: skip
        unknown = sorted(set(spec) - set(KINDS))
        if unknown or not 0 < len(spec) <= MAX_WINDOWS:
            raise ValueError(f"spec must list 1-{MAX_WINDOWS} of {KINDS}; got {list(spec)}")
        self.spec = list(spec)
        self.workdir = workdir
        self.window_manager = window_manager
        self.slow_paste_ms = slow_paste_ms
        self.timeout = timeout
        self.server: XServer | None = server
        self.beside = dict(beside or {})  # window name -> a command run beside its program
        self._own_server = server is None  # else a shared X server, left running at stop()
        self.chat = ChatServer()
        self.windows: list[AppWindow] = []
        self.startup_s = 0.0
        self._launched: list[Launched] = []

    @property
    def xserver(self) -> XServer:
        """The running X server."""
        if self.server is None:
            raise RuntimeError("the desktop is not started")
        return self.server

    def start(self) -> MixedDesktop:
        """Start everything and wait until every window is ready; stops all on failure."""
        began = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            if self._own_server:
                self.server = start_xvfb(self.workdir / "xvfb")
            if self.window_manager:
                self._launched.append(launchers.start_openbox(self.xserver, self.workdir))
            self.chat.start()
            pending = [self._launch(i, kind) for i, kind in enumerate(self.spec)]
            deadline = began + self.timeout
            self.windows = [self._ready(kind, launched, deadline) for kind, launched in pending]
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.monotonic() - began
        log.info("mixed desktop %s ready in %.2f s", self.spec, self.startup_s)
        return self

    def __enter__(self) -> MixedDesktop:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def window(self, name: str) -> AppWindow:
        """The window called ``name``."""
        for window in self.windows:
            if window.name == name:
                return window
        raise KeyError(name)

    def pid(self, name: str) -> int:
        """The process of window ``name``'s application (an xterm's ``_NET_WM_PID``)."""
        return next(one for one in self._launched if one.name == name).process.pid

    def texts(self, name: str) -> list[str]:
        """Every text the application of window ``name`` received, in order."""
        window = self.window(name)
        if window.kind == "chrome":
            return self.chat.texts(name)
        return read_records(window.outfile)

    def wait_for(self, name: str, count: int, timeout: float = 5.0) -> list[str]:
        """``name``'s texts once there are at least ``count`` (or whatever came by the timeout)."""
        if self.window(name).kind == "chrome":
            return self.chat.wait_for(name, count, timeout)
        deadline = time.monotonic() + timeout
        texts = self.texts(name)
        while len(texts) < count and time.monotonic() < deadline:
            time.sleep(0.02)
            texts = self.texts(name)
        return texts

    def wait_at_prompt(self, name: str, timeout: float = 10.0) -> None:
        """Wait until the chat program of terminal window ``name`` reads keys again (the
        terminal's raw mode). Between two prompts prompt_toolkit is in the canonical mode and
        its next prompt flushes what was typed or pasted meanwhile (``tty.setraw``), which a
        loaded machine makes long enough to matter. Other kinds of window return at once."""
        if self.window(name).kind != "xterm":
            return
        launched = next(launched for launched in self._launched if launched.name == name)
        pid = launched.extra_pids[0]
        tty = os.readlink(f"/proc/{pid}/fd/0")

        def reads_keys() -> bool:
            state = read_state(pid, tty)
            return state is not None and not state.canonical

        launchers.wait_until(reads_keys, timeout, f"{name} did not come back to its prompt")

    def replace(self, name: str) -> AppWindow:
        """Kill window ``name``'s application at once (it died) and open the same kind again
        at the same place, as a person does; the new window (a new X window and process)."""
        index = next(i for i, window in enumerate(self.windows) if window.name == name)
        kind = self.windows[index].kind
        old = next(launched for launched in self._launched if launched.name == name)
        old.kill()
        self._launched.remove(old)
        _kind, launched = self._launch(index, kind)
        self.windows[index] = self._ready(kind, launched, time.monotonic() + self.timeout)
        return self.windows[index]

    def agents_toml(self, extra: str = "") -> str:
        """An agents file for the windows (``extra`` appended)."""
        header = f"# agents of the mixed test desktop: {', '.join(self.spec)}\n"
        return header + "".join("\n" + window.toml() for window in self.windows) + extra

    def stop(self) -> None:
        """Stop every window, openbox, the chat server, Chromium helpers, xsel and Xvfb."""
        for launched in reversed(self._launched):
            launched.stop()
        self._launched.clear()
        self.chat.stop()
        if self.server is not None:
            for leftover in ("chromium", "chrome_crashpad"):  # /proc's comm: 15 characters
                _kill_own_leftovers(self.server.display, leftover, self.workdir)
            if self._own_server:
                self.server.stop()
                self.server = None

    def _cell(self, index: int) -> Box:
        x, y, width, height = cell(index)
        if self.window_manager:
            extra_w, extra_h = FRAME_ALLOWANCE
            return x, y, width - extra_w, height - extra_h
        return x, y, width, height

    def _launch(self, index: int, kind: str) -> tuple[str, Launched]:
        name, box, server = f"Agent-{index + 1}", self._cell(index), self.xserver
        outfile = self.workdir / f"{name}.jsonl"
        if kind == "chrome":
            launched = launchers.launch_chromium(server, name, self.chat.url(name), box,
                                                 self.workdir)  # fmt: skip
        elif kind == "xterm":
            launched = launchers.launch_xterm(server, name, box, outfile, self.workdir,
                                              beside=self.beside.get(name))  # fmt: skip
        else:
            slow = self.slow_paste_ms if kind == "tk-slow" else 0
            launched = launchers.launch_tk(server, name, box, outfile, self.workdir, slow)
        self._launched.append(launched)
        return kind, launched

    def _ready(self, kind: str, launched: Launched, deadline: float) -> AppWindow:
        name, left = launched.name, max(0.1, deadline - time.monotonic())
        if kind == "chrome":
            launchers.wait_until(lambda: self.chat.loaded(name), left,
                                 f"the chat page of {name} did not load: see {launched.log}",
                                 launched.process)  # fmt: skip
        else:
            suffix = "term" if kind == "xterm" else "tk"
            ready = self.workdir / f"{name}-{suffix}.ready"
            launchers.wait_until(lambda: ready.exists(), left,
                                 f"{name} ({kind}) did not start: see {launched.log}",
                                 launched.process)  # fmt: skip
            if kind == "xterm":
                launched.extra_pids = (int(ready.read_text(encoding="utf-8")),)
        return self._measure(kind, launched, deadline)

    def _measure(self, kind: str, launched: Launched, deadline: float) -> AppWindow:
        server, name = self.xserver, launched.name
        left = max(0.1, deadline - time.monotonic())
        window = launchers.wait_for_window(server, name, left, launched.log)
        box = launchers.window_box(server, window)
        outfile = None if kind == "chrome" else self.workdir / f"{name}.jsonl"
        if kind == "chrome":
            point, input_box, watch = self._chrome_geometry(name, box)
        elif kind == "xterm":
            point, input_box, watch = _xterm_geometry(box)
        else:
            point, input_box, watch = _tk_geometry(box)
        return AppWindow(name, kind, window, point, input_box, watch, outfile)

    def _chrome_geometry(self, name: str, box: Box) -> tuple[tuple[int, int], Box, Box]:
        """From the page's own layout report: the textarea and the area it grows into."""
        layout = self.chat.layout(name)
        (inner_w, inner_h), (outer_w, outer_h) = layout["inner"], layout["outer"]
        side = (outer_w - inner_w) // 2
        left, top = box[0] + side, box[1] + outer_h - inner_h - side
        x, y, width, height = (round(v) for v in layout["textarea"])
        bottom = top + y + height
        grown = min(layout["max_height"], y + height)
        input_box = (left + x, bottom - grown, width, grown)
        watch = (left, top, inner_w, max(1, bottom - grown - top))
        return (left + x + width // 2, top + y + height // 2), input_box, watch


def _kill_own_leftovers(display: str, name: str, workdir: Path) -> None:
    """Stop the processes called ``name`` on ``display`` that this desktop started (their
    ``XDG_CONFIG_HOME`` is under ``workdir``), never another desktop's on a shared display."""
    wanted = {f"DISPLAY={display}".encode()}
    mine = f"XDG_CONFIG_HOME={workdir}/".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() != name:
                continue
            environ = (proc / "environ").read_bytes().split(b"\0")
            if wanted <= set(environ) and any(item.startswith(mine) for item in environ):
                os.kill(int(proc.name), signal.SIGTERM)
        except (OSError, ValueError):
            continue


def _xterm_geometry(box: Box) -> tuple[tuple[int, int], Box, Box]:
    """The terminal's text area; the input point is its centre (a click there types)."""
    x, y, width, height = box
    border = launchers.XTERM_BORDER
    text = (x + border, y + border, width - 2 * border, height - 2 * border)
    return (x + width // 2, y + height // 2), text, text


def _tk_geometry(box: Box) -> tuple[tuple[int, int], Box, Box]:
    """The Text widget: its centre is the input point, the whole widget the input box."""
    x, y, _width, height = box
    width, input_h = TK_INPUT_SIZE
    left, top = x + TK_MARGIN, y + height - TK_MARGIN - input_h
    history = (x + 10, y + 60, 460, 160)
    return (left + width // 2, top + input_h // 2), (left, top, width, input_h), history
