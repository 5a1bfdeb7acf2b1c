"""The scheduler hears other processes' writes on PostgreSQL at once: LISTEN swarm_changes.

On SQLite the loop notices another process's commit through ``PRAGMA data_version``, polled
twice a second. On PostgreSQL every write transaction that changed rows also sends ``NOTIFY
swarm_changes`` (``core.store.postgres.store.run_in_transaction``); ``ChangeListener`` listens on a
connection
of its own and wakes the loop when the notification comes from another connection (a node's
receipt, ``swarm task done`` in an agent's terminal), so a finished task frees its agent for
the next assignment without waiting for the poll. Notifications that come within
``GATHER_S`` of the first wake the loop once (a fleet's nodes commit their agents' journals
many times a second: one scheduler step for each was most of the coordinator's work). It is
a ``Timer`` of the loop with no deadline of its own: started and stopped with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from core.service.swarm import SwarmService
from core.waits import Background, Gathered

log = logging.getLogger(__name__)
GATHER_S = 0.05  # notifications within this of the first wake the loop once


class ChangeListener:
    """Calls ``on_change`` for each change committed by another connection."""

    def __init__(self, service: SwarmService) -> None:
        self.service = service
        self.on_change: Callable[[], None] = lambda: None
        self._task: asyncio.Task[None] | None = None
        self._listening = Background("change listener")
        self._gathered = Gathered(GATHER_S, lambda: self.on_change())

    async def start(self) -> None:
        """Start listening; this process's own commits stop notifying (nobody else
        listens: the one scheduler is here, and its own writes wake it directly)."""
        self._quiet(True)
        self._task = self._listening.start(self._listen(), name="pg-changes")

    def _quiet(self, quiet: bool) -> None:
        self.service.store.notify_changes(not quiet)

    async def next_due(self) -> float | None:
        """Never due: it only wakes the loop."""
        return None

    async def fire(self) -> int:
        """Nothing to run."""
        return 0

    async def stop(self) -> None:
        """Stop listening; this process's commits notify again."""
        self._quiet(False)
        self._gathered.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        own = self.service.store.backend_pid

        def heard(pid: int, _payload: str) -> None:
            if pid != own():
                self._gathered.soon()

        await self.service.store.listen("changes", heard, lambda: None, "listening for changes")
