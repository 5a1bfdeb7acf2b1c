"""A long-running ``swarm`` child process (``swarm run``): its stdout read line by line."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from typing import Any


class Lines:
    """The child's stdout, line by line, read by a thread (no read blocks the test)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        assert proc.stdout is not None
        self.reader = threading.Thread(target=self._read, args=(proc.stdout,))
        self.reader.start()

    def _read(self, out: Any) -> None:
        for line in out:
            self.lines.put(line)

    def until(self, start: str, timeout: float = 60) -> list[str]:
        """The lines read up to and with the first that starts with ``start``."""
        seen: list[str] = []
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                seen.append(self.lines.get(timeout=max(0.01, end - time.monotonic())))
            except queue.Empty:
                break
            if seen[-1].startswith(start):
                return seen
        raise AssertionError(f"no line starting {start!r} within {timeout} s: {seen}")


def end(proc: subprocess.Popen[str], out: Lines) -> None:
    """Kill the child if it still runs; close its pipes once read to the end."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    out.reader.join(10)
    proc.communicate(timeout=10)
