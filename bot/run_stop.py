"""What ``swarm run`` tells its terminal: a start banner (even when the log goes to a file),
what a Ctrl+C waits for, and the stop line; a second Ctrl+C stops at once.

The first SIGINT/SIGTERM sets the coordinator's stop event: it finishes the delivery in
flight (bounded by the deliverer's own deadline) and stops. The second exits the process at
once with status 130, as a ``kill -9`` would, which swarm is built to survive: the delivery in
flight stays ``delivering`` and is retried at the next start, tasks keep their leases, and
the desktop driver's marks (``input.unsent``, keys held down) are cleaned up by the next
driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from core.coordinator.scheduler import Scheduler
    from core.service.swarm import SwarmService

FORCED_EXIT = 130  # as a shell reports a command stopped by SIGINT


def say(text: str, out: TextIO | None = None) -> None:
    """One line to the terminal (stdout), at once."""
    print(f"swarm run: {text}", file=out or sys.stdout, flush=True)


def banner(
    service: SwarmService,
    sock: socket.socket | None,
    log_file: str,
    discord: bool,
    others: Sequence[str] = (),
) -> None:
    """Where this coordinator lives and how to stop it (``others``: the front ends beside
    Discord it starts, ``Telegram``)."""
    agents = list(service.agents)
    discord_state = "on (connecting)" if discord else "off" if others else "off (--no-discord)"
    shown = ", ".join(agents[:8]) + (f" and {len(agents) - 8} more" if len(agents) > 8 else "")
    lines = [
        f"started on {service.settings.home} (database {service.settings.database_shown})",
        f"  agents:    {len(agents)} ({shown}) from {service.settings.config_path}",
        f"  dashboard: {dashboard_url(sock) if sock is not None else 'off'}",
        f"  Discord:   {discord_state}",
        *(f"  {name + ':':<11}on (connecting)" for name in others),
        f"  log:       {log_file or 'this terminal'}",
        "  Ctrl+C stops (finishing the delivery in flight); Ctrl+C twice stops at once",
    ]
    say("\n".join(lines))


def dashboard_url(sock: socket.socket) -> str:
    """``http://HOST:PORT/`` of the dashboard's listening socket."""
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/"


class RunStopper:
    """SIGINT/SIGTERM while ``swarm run`` runs: the first stops it gently and says what it
    waits for, the second stops it at once and says what was left."""

    def __init__(self, stop: asyncio.Event, scheduler: Scheduler) -> None:
        self.stop = stop
        self.scheduler = scheduler

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Handle the signals while the block runs."""
        with on_signals(self.signalled):
            yield

    def signalled(self) -> None:
        """A stop signal arrived."""
        if self.stop.is_set():
            self.force()
        self.stop.set()
        flight = self.scheduler.in_flight
        if flight is None:
            say("stopping (Ctrl+C again stops at once)")
            return
        left = max(0.0, flight.ends_by - time.monotonic())
        say(
            f"stopping: waiting for {self._flights()} to finish (the desktop driver may be "
            f"waiting for the mouse to rest: someone is using it); it ends within {left:.0f} s. "
            "Ctrl+C again stops at once"
        )

    def _flights(self) -> str:
        """``the T-3 prompt to Agent-2 (delivery 5)``, ``... and 3 more`` (different agents'
        deliveries made at once)."""
        flight = self.scheduler.in_flight
        more = len(self.scheduler.flights) - 1
        said = flight.describe() if flight else "nothing"
        return f"{said} and {more} more" if more > 0 else said

    def force(self) -> None:
        """Exit now, saying what was left; nothing is lost (see the module's docstring)."""
        flight = self.scheduler.in_flight
        many = len(self.scheduler.flights) > 1
        left = (
            f"{self._flights()} {'were' if many else 'was'} left in flight; "
            f"{'they are' if many else 'it is'} retried at the next start"
            if flight
            else "nothing was in flight"
        )
        say(
            f"stopped at once: {left}. Tasks keep their leases and queued deliveries wait in "
            "the database: nothing is lost"
        )
        logging.shutdown()
        os._exit(FORCED_EXIT)


@contextlib.contextmanager
def on_signals(handler: Callable[[], object]) -> Iterator[None]:
    """Call ``handler`` on SIGINT/SIGTERM while the block runs (in the event loop)."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, handler)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
