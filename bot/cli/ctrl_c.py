"""A long command's Ctrl+C, whose work runs in a thread the key cannot reach (``swarm desktop
up``): the first press asks the work to stop after its current step and says so at once, the
second ends the process at once."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator


class CtrlC:
    """The presses of one command (``name``: how its lines start); ``stop`` is set by the
    first."""

    def __init__(self, name: str, first: str, second: str) -> None:
        self.stop = threading.Event()
        self.name, self.first, self.second = name, first, second

    @contextlib.contextmanager
    def installed(self) -> Iterator[threading.Event]:
        """The presses handled while the block runs (in the main thread: a command run in
        another has no Ctrl+C of its own); ``stop``."""
        if threading.current_thread() is not threading.main_thread():
            yield self.stop
            return
        previous = signal.signal(signal.SIGINT, self.pressed)
        try:
            yield self.stop
        finally:
            signal.signal(signal.SIGINT, previous)

    def pressed(self, signum: int, frame: object) -> None:
        if self.stop.is_set():
            sys.stdout.flush()
            print(f"{self.name}: stopped at once: {self.second}", file=sys.stderr, flush=True)
            os._exit(130)  # its thread cannot be stopped: the process ends around it
        self.stop.set()
        print(f"{self.name}: {self.first} (Ctrl+C again stops at once)", file=sys.stderr,
              flush=True)  # fmt: skip
