"""Start real applications on a private X display: Chromium, xterm, Tk, openbox.

Each launcher starts one window in its own session (process group), so that stopping it
takes the application's helper processes with it; ``wait_*`` helpers wait, bounded, until
the window is mapped and its application is ready, and raise ``RuntimeError`` naming the
log file otherwise.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from automation.desktop.virtual_desktop import XServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--no-sandbox", "--test-type", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic", "--disable-features=Translate,MediaRouter", "--password-store=basic",
    "--force-device-scale-factor=1",
)  # fmt: skip
XTERM_FONT = "-misc-fixed-medium-r-normal--13-120-75-75-c-70-iso10646-1"  # 7x13, xfonts-base
XTERM_CELL = (7, 13)
XTERM_BORDER = 2  # xterm's default internal border, in pixels
XTERM_PASTE = "XTerm*VT100.translations: #override Ctrl Shift <Key>V: insert-selection(CLIPBOARD)"
UTF8 = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
REPO = Path(__file__).resolve().parents[2]
OPENBOX_RC = """<?xml version="1.0" encoding="UTF-8"?>
<openbox_config xmlns="http://openbox.org/3.4/rc">
  <focus><focusNew>yes</focusNew><followMouse>no</followMouse></focus>
  <placement><policy>Smart</policy></placement>
  <desktops><number>1</number></desktops>
</openbox_config>
"""

Box = tuple[int, int, int, int]


@dataclass
class Launched:
    """A started application window: its process and where it logs."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    extra_pids: tuple[int, ...] = ()

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the process group (and any extra pids), then kill what is left."""
        for pid in self.extra_pids:
            _signal(pid, signal.SIGTERM, group=False)
        _signal(self.process.pid, signal.SIGTERM, group=True)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal(self.process.pid, signal.SIGKILL, group=True)
            self.process.wait(timeout)

    def kill(self, timeout: float = 5.0) -> None:
        """SIGKILL everything at once, as when the application dies (extra pids first)."""
        for pid in self.extra_pids:
            _signal(pid, signal.SIGKILL, group=False)
        _signal(self.process.pid, signal.SIGKILL, group=True)
        self.process.wait(timeout)


def _signal(pid: int, signum: int, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def missing_programs() -> list[str]:
    """The programs the applications need that are not installed."""
    programs = ("Xvfb", "xdotool", "xsel", "xwininfo", "xprop", "xterm", CHROMIUM)
    return [name for name in programs if shutil.which(name) is None]


def _popen(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip


def launch_chromium(server: XServer, name: str, url: str, cell: Box, workdir: Path) -> Launched:
    """Open ``url`` in a Chromium ``--app`` window with its own profile, placed on ``cell``."""
    x, y, width, height = cell
    profile = tempfile.mkdtemp(prefix=f"chromium-{name}-", dir=workdir)
    args = [CHROMIUM, f"--app={url}", f"--user-data-dir={profile}", *CHROMIUM_FLAGS,
            f"--window-position={x},{y}", f"--window-size={width},{height}"]  # fmt: skip
    log = workdir / f"{name}-chromium.log"
    home = workdir / "chromium-home"  # crashpad's database and caches, kept out of ~/.config
    env = {**server.env, "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_CACHE_HOME": str(home / "cache")}  # fmt: skip
    return Launched(name, _popen(args, env, log), log)


def xterm_size(cell: Box) -> tuple[int, int]:
    """The columns and rows of an xterm that fits ``cell``."""
    _x, _y, width, height = cell
    cell_w, cell_h = XTERM_CELL
    return (width - 2 * XTERM_BORDER) // cell_w, (height - 2 * XTERM_BORDER) // cell_h


def launch_xterm(server: XServer, name: str, cell: Box, outfile: Path, workdir: Path,
                 program: list[str] | None = None,
                 beside: str | None = None) -> Launched:  # fmt: skip
    """Open an xterm on ``cell`` running ``term_chat`` that records into ``outfile`` (or
    ``program``, which writes its pid to ``<workdir>/<name>-term.ready`` when ready);
    ``beside``: a shell command run in the background in the same window (a child of the
    program: what the agent's tools and hooks would be)."""
    x, y, _width, _height = cell
    columns, rows = xterm_size(cell)
    ready = workdir / f"{name}-term.ready"
    ready.unlink(missing_ok=True)
    if program is None:
        program = [sys.executable, "-m", "tests.apps.term_chat", str(outfile), "--name", name,
                   "--ready", str(ready)]  # fmt: skip
    if beside is not None:
        program = ["sh", "-c", f'({beside}) </dev/null & exec "$@"', "sh", *program]
    args = ["xterm", "-u8", "-fn", XTERM_FONT, "-geometry", f"{columns}x{rows}+{x}+{y}",
            "-T", name, "-xrm", XTERM_PASTE, "-e", *program]  # fmt: skip
    env = {**server.env, **UTF8, "PYTHONPATH": str(REPO)}
    log = workdir / f"{name}-xterm.log"
    return Launched(name, _popen(args, env, log), log)


def launch_tk(server: XServer, name: str, cell: Box, outfile: Path, workdir: Path,
              slow_paste_ms: int = 0) -> Launched:  # fmt: skip
    """Open a ``tk_chat`` window on ``cell`` that records into ``outfile``."""
    x, y, width, height = cell
    ready = workdir / f"{name}-tk.ready"
    ready.unlink(missing_ok=True)
    args = [sys.executable, "-m", "tests.apps.tk_chat", str(outfile), "--name", name,
            "--geometry", f"{width}x{height}+{x}+{y}", "--ready", str(ready)]  # fmt: skip
    if slow_paste_ms:
        args.append(f"--slow-paste={slow_paste_ms}")
    log = workdir / f"{name}-tk.log"
    return Launched(name, _popen(args, {**server.env, "PYTHONPATH": str(REPO)}, log), log)


def start_openbox(server: XServer, workdir: Path, timeout: float = 10.0) -> Launched:
    """Start openbox on the display with a minimal rc; wait until it manages the screen."""
    rc = workdir / "openbox-rc.xml"
    rc.write_text(OPENBOX_RC, encoding="utf-8")
    args = ["openbox", "--sm-disable", "--config-file", str(rc)]
    log = workdir / "openbox.log"
    home = workdir / "openbox-home"  # its session log and cache, kept out of ~/.cache
    env = {**server.env, "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_CACHE_HOME": str(home / "cache")}  # fmt: skip
    launched = Launched("openbox", _popen(args, env, log), log)
    wait_until(lambda: _root_property(server, "_NET_SUPPORTING_WM_CHECK"), timeout,
               f"openbox did not start: see {log}", launched.process)  # fmt: skip
    return launched


def _root_property(server: XServer, name: str) -> bool:
    done = subprocess.run(["xprop", "-root", name], env=server.env, capture_output=True,
                          text=True, timeout=10)  # fmt: skip
    return done.returncode == 0 and "not found" not in done.stdout and "#" in done.stdout


def wait_until(ready: Callable[[], object], timeout: float, message: str,
               process: subprocess.Popen[bytes] | None = None) -> None:  # fmt: skip
    """Poll ``ready`` until it is true; ``RuntimeError(message)`` at the timeout or exit."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{message} (exited with {process.returncode})")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{message} (not ready within {timeout:.0f} s)")
        time.sleep(0.03)


def find_window(server: XServer, name: str) -> int | None:
    """The visible top-level window titled exactly ``name``, if there is one."""
    done = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", f"^{name}$"],
                          env=server.env, capture_output=True, text=True, timeout=10)  # fmt: skip
    ids = [int(line) for line in done.stdout.split()]
    return ids[-1] if ids else None


def wait_for_window(server: XServer, name: str, timeout: float, log: Path) -> int:
    """Wait, bounded, until a window titled ``name`` is mapped; its id."""
    deadline = time.monotonic() + timeout
    while (window := find_window(server, name)) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no window titled {name} within {timeout:.0f} s: see {log}")
        time.sleep(0.03)
    return window


def window_box(server: XServer, window: int) -> Box:
    """The screen position and size of ``window``'s own area (without a manager's frame).

    From ``xwininfo``: ``xdotool getwindowgeometry`` adds a window manager's frame offset
    twice.
    """
    done = subprocess.run(["xwininfo", "-id", str(window)], env=server.env,
                          capture_output=True, text=True, timeout=10)  # fmt: skip
    done.check_returncode()
    fields = dict(line.strip().split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    keys = ("Absolute upper-left X", "Absolute upper-left Y", "Width", "Height")
    x, y, width, height = (int(fields[key]) for key in keys)
    return x, y, width, height


def focused_window(server: XServer) -> int | None:
    """The window that has the X input focus (None for PointerRoot or no focus)."""
    done = subprocess.run(["xdotool", "getwindowfocus", "-f"], env=server.env,
                          capture_output=True, text=True, timeout=10)  # fmt: skip
    value = int(done.stdout.strip() or 0) if done.returncode == 0 else 0
    return value if value > 1 else None


def find_all(server: XServer, text: str) -> list[int]:
    """The visible windows whose title contains ``text`` (a regular expression)."""
    done = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", text],
                          env=server.env, capture_output=True, text=True, timeout=10)  # fmt: skip
    return [int(line) for line in done.stdout.split()]
