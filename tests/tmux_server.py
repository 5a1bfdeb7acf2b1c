"""A private tmux server for the tests (its own socket under the test's folder)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from core.tmux import PaneRef, capture
from core.workspaces._procs import alive_of, end_processes, session_members


class Tmux:
    """A private tmux server on a socket under the test's temporary folder."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def run(self, *args: str) -> None:
        """``tmux -S SOCKET ARGS``, checked."""
        subprocess.run(["tmux", "-S", str(self.socket), *args], check=True, timeout=10)

    def window(self, session: str, window: str, command: str, size: str = "100x30") -> None:
        """A detached window running ``command`` (a new session first, then new windows)."""
        width, height = size.split("x")
        has = subprocess.run(
            ["tmux", "-S", str(self.socket), "has-session", "-t", session],
            capture_output=True,
            timeout=10,
        )
        if has.returncode != 0:
            self.run("new-session", "-d", "-s", session, "-n", window, "-x", width, "-y", height,
                     command)  # fmt: skip
        else:
            self.run("new-window", "-d", "-t", f"{session}:", "-n", window, command)

    def ref(self, target: str) -> PaneRef:
        """The pane ``target`` of this server."""
        return PaneRef(target, str(self.socket))

    def stop(self) -> None:
        """Kill the server and what its panes ran (a program that ignores the SIGHUP, as
        Gemini CLI does, is ended too: it would run on after the test)."""
        panes = ["tmux", "-S", str(self.socket), "list-panes", "-a", "-F", "#{pane_pid}"]
        listed = subprocess.run(panes, capture_output=True, text=True, timeout=10)
        leaders = [int(pid) for pid in listed.stdout.split() if pid.isdigit()]
        procs = alive_of([pid for leader in leaders for pid in session_members(leader)])
        subprocess.run(["tmux", "-S", str(self.socket), "kill-server"], capture_output=True,
                       timeout=10, check=False)  # fmt: skip
        end_processes(procs, 1.0)


def wait_text(ref: PaneRef, text: str, timeout: float = 10.0) -> list[str]:
    """The pane's lines once ``text`` shows in them (fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        read = capture(ref)
        if read.ok and any(text in line for line in read.lines):
            return list(read.lines)
        assert time.monotonic() < deadline, f"{text!r} never showed: {read}"
        time.sleep(0.05)
