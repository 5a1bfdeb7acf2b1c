"""A private virtual desktop for the demo, the driver tests and the benchmark.

Starts Xvfb on a free display number with its own X authority cookie, opens the eight
demo agent windows of ``automation/desktop/demo_windows.py`` on it, and cleans up every process it
started (and the ``xsel`` clipboard helpers the driver left on that display).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

CELL_W, CELL_H = 480, 540
COLUMNS, COUNT = 4, 8
TK_MODULE = "automation.desktop.demo_windows"
SCREEN = (1920, 1080)
FAMILY_LOCAL = 256


def xvfb_path() -> str | None:
    """The Xvfb executable, or None when it is not installed."""
    return shutil.which("Xvfb")


def input_point(index: int) -> tuple[int, int]:
    """The input point of window ``index`` (0-based)."""
    return (index % COLUMNS) * CELL_W + 240, (index // COLUMNS) * CELL_H + 480


def input_box(index: int) -> tuple[int, int, int, int]:
    """The input box (x, y, width, height) of window ``index``: where typed text shows."""
    return (index % COLUMNS) * CELL_W + 10, (index // COLUMNS) * CELL_H + 420, 460, 110


def watch_region(index: int) -> tuple[int, int, int, int]:
    """The watch region (x, y, width, height) of window ``index``."""
    return (index % COLUMNS) * CELL_W + 20, (index // COLUMNS) * CELL_H + 40, 440, 360


@dataclass
class XServer:
    """A running Xvfb."""

    display: str
    xauthority: Path
    process: subprocess.Popen[bytes]

    @property
    def env(self) -> dict[str, str]:
        """The environment for a client of this server."""
        return {**os.environ, "DISPLAY": self.display, "XAUTHORITY": str(self.xauthority)}

    def xdotool(self, *args: str) -> str:
        """Run xdotool against this display (the "human" in the tests)."""
        done = subprocess.run(
            ["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=10
        )
        done.check_returncode()
        return done.stdout

    def pointer(self) -> tuple[int, int]:
        """Where the pointer is."""
        fields = dict(
            line.split("=") for line in self.xdotool("getmouselocation", "--shell").split()
        )
        return int(fields["X"]), int(fields["Y"])

    def set_clipboard(self, text: str, timeout: float = 5.0) -> None:
        """Put ``text`` on the clipboard (as the user would) and wait until it is there.

        ``xsel --input`` returns before its background process owns the clipboard, so the
        first read may go to the previous owner; one that never answers (a connection left
        open by a process that no longer serves it) would hold that read for good, so each
        read here gives up after a second and the next asks again.
        """
        args = ["xsel", "--clipboard", "--input"]
        run = subprocess.run(args, input=text.encode(), env=self.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, timeout=10)  # fmt: skip
        run.check_returncode()
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(subprocess.TimeoutExpired):
                if self.clipboard(answer_s=1.0) == text:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError("xsel did not take the clipboard")
            time.sleep(0.01)

    def clipboard(self, answer_s: float = 10.0) -> str:
        """The clipboard text; TimeoutExpired when its owner does not answer in ``answer_s``."""
        args = ["xsel", "--clipboard", "--output"]
        done = subprocess.run(args, env=self.env, capture_output=True, timeout=answer_s)
        return done.stdout.decode()

    def stop(self) -> None:
        """Stop the server and the clipboard helpers left on it."""
        kill_display_clients(self.display, "xsel")
        _stop(self.process)


def start_xvfb(workdir: Path, timeout: float = 15.0, auth: bool = True) -> XServer:
    """Start Xvfb on the first free display number from 60; wait until it accepts clients.

    ``auth=False`` starts it as a plain ``Xvfb :N`` would run: no cookie, and the server's
    ``xauthority`` names a file that does not exist (as on many VNC desktops).
    """
    executable = xvfb_path()
    if executable is None:
        raise RuntimeError("Xvfb is not installed (apt-get install xvfb)")
    workdir.mkdir(parents=True, exist_ok=True)
    for number in range(60, 160):
        if Path(f"/tmp/.X{number}-lock").exists() or Path(f"/tmp/.X11-unix/X{number}").exists():
            continue
        server = _try_start(executable, number, workdir, timeout, auth)
        if server is not None:
            return server
    raise RuntimeError("no free X display number between 60 and 159")


def _try_start(
    executable: str, number: int, workdir: Path, timeout: float, use_auth: bool
) -> XServer | None:
    auth = workdir / f"xauthority-{number}"
    width, height = SCREEN
    log = (workdir / f"xvfb-{number}.log").open("wb")
    args = [executable, f":{number}", "-screen", "0", f"{width}x{height}x24"]
    args += ["-nolisten", "tcp", "-noreset"]
    if use_auth:
        _write_xauthority(auth, number, secrets.token_bytes(16))
        args += ["-auth", str(auth)]
    with log:
        process = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None
        if _accepts(number) and _lock_holder(number) == process.pid:
            return XServer(f":{number}", auth, process)
        time.sleep(0.05)
    _stop(process)
    raise RuntimeError(f"Xvfb :{number} did not accept connections within {timeout:.0f} s")


def _write_xauthority(path: Path, number: int, cookie: bytes) -> None:
    def field(value: bytes) -> bytes:
        return struct.pack(">H", len(value)) + value

    host = socket.gethostname().encode()
    entry = struct.pack(">H", FAMILY_LOCAL) + field(host) + field(str(number).encode())
    path.write_bytes(entry + field(b"MIT-MAGIC-COOKIE-1") + field(cookie))


def _lock_holder(number: int) -> int | None:
    """The pid in display ``number``'s lock file: the X server that owns the display (another
    process that took the number first answers on the socket too, while ours exits)."""
    try:
        return int(Path(f"/tmp/.X{number}-lock").read_text().strip())
    except (OSError, ValueError):
        return None


def _accepts(number: int) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(f"/tmp/.X11-unix/X{number}")
        except OSError:
            return False
    return True


def _stop(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


def kill_display_clients(display: str, name: str, cmdline_has: str | None = None) -> list[int]:
    """Terminate the processes called ``name`` whose DISPLAY is ``display`` (and, when
    ``cmdline_has`` is given, whose command line contains it: only one's own, on a shared
    display); their pids."""
    marker = f"DISPLAY={display}".encode()
    killed = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() != name:
                continue
            if marker not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            if cmdline_has is not None and cmdline_has.encode() not in (
                proc / "cmdline"
            ).read_bytes().replace(b"\0", b" "):
                continue
            os.kill(int(proc.name), signal.SIGTERM)
        except (OSError, ValueError):
            continue
        killed.append(int(proc.name))
    return killed


@dataclass
class AgentWindows:
    """The running fake agent windows and the records of what each one received."""

    records: Path
    process: subprocess.Popen[bytes]
    seen: dict[int, int] = field(default_factory=dict)

    def texts(self, index: int) -> list[str]:
        """Every text window ``index`` (0-based) received, in order."""
        path = self.records / f"agent-{index + 1}.jsonl"
        if not path.exists():
            return []
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["text"] for line in lines]

    def wait_for(self, index: int, count: int, timeout: float = 5.0) -> list[str]:
        """The texts of window ``index`` once it has at least ``count`` (or at the timeout)."""
        deadline = time.monotonic() + timeout
        texts = self.texts(index)
        while len(texts) < count and time.monotonic() < deadline:
            time.sleep(0.02)
            texts = self.texts(index)
        return texts

    def stop(self) -> None:
        """Close the windows."""
        _stop(self.process)


def open_windows(
    server: XServer,
    workdir: Path,
    slow_paste: dict[int, int] | None = None,
    ctrl_enter: Sequence[int] = (),
    timeout: float = 20.0,
) -> AgentWindows:
    """Start the demo windows on ``server``; wait until every window is drawn."""
    records = workdir / "records"
    records.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", TK_MODULE, str(records)]
    args += [f"--slow-paste={i}:{ms}" for i, ms in (slow_paste or {}).items()]
    args += [f"--ctrl-enter={i}" for i in ctrl_enter]
    log = (workdir / "tk.log").open("wb")
    with log:
        process = subprocess.Popen(args, env=server.env, stdout=log, stderr=log)
    windows = AgentWindows(records, process)
    deadline = time.monotonic() + timeout
    while not (records / "ready").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            windows.stop()
            raise RuntimeError(f"the Tk windows did not start: see {workdir / 'tk.log'}")
        time.sleep(0.05)
    return windows


@contextlib.contextmanager
def display_env(server: XServer) -> Iterator[None]:
    """Point this process (DISPLAY, XAUTHORITY) at ``server`` for the duration."""
    saved = {key: os.environ.get(key) for key in ("DISPLAY", "XAUTHORITY")}
    os.environ["DISPLAY"] = server.display
    os.environ["XAUTHORITY"] = str(server.xauthority)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
