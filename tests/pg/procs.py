"""Real ``swarm`` processes on one PostgreSQL database: start, wait for a log line, kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import ROOT


@dataclass
class Proc:
    """A running ``swarm`` command whose stderr goes to a file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        """Everything it logged so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, needle: str, timeout_s: float = 30.0) -> None:
        """Until ``needle`` is in its log; AssertionError (with the log) otherwise."""
        deadline = time.monotonic() + timeout_s
        while needle not in self.text():
            if self.popen.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited {self.popen.returncode} before {needle!r}:\n{self.text()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no {needle!r} in {timeout_s} s:\n{self.text()}")
            time.sleep(0.05)

    def kill9(self) -> None:
        """``kill -9``."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not stop within 10 s."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()


def start(
    name: str, folder: Path, env: dict[str, str], *args: str, prefix: Sequence[str] = ()
) -> Proc:
    """``python -m bot.cli.main ARGS`` with ``env`` over a clean environment; stderr to a file
    (``prefix``: a command that runs it, such as ``ip netns exec NAME``).

    No dashboard (``SWARM_WEB=off`` unless ``env`` says otherwise): a ``swarm run`` would
    bind the default port, 127.0.0.1:8765, which any other ``swarm run`` on the machine (a
    test run beside this one) may hold; a standby that takes over then stops on "cannot
    listen", and nothing schedules any more."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_") and k != "DISPLAY"}
    log = folder / f"{name}.log"
    with log.open("wb") as err:
        popen = subprocess.Popen(
            [*prefix, sys.executable, "-m", "bot.cli.main", *args],
            cwd=ROOT,
            env={**base, "XDG_CONFIG_HOME": str(folder / "xdg"), "SWARM_WEB": "off", **env},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    return Proc(name, popen, log)
