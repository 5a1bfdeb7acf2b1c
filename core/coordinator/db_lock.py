"""One coordinator per database, as the front ends ask for it, and who it is.

``hold`` holds the PostgreSQL scheduler lock around a coordinator (through
``core/store/capability.py``, from ``core/store/postgres/failover.py``: standby until it is
free, takeover, ``LockLost`` when it is lost); the service it ``guard``s is fenced at that
moment, so nothing it has in flight commits after. On SQLite the lock is the home's lock
file (``home_lock``). ``running`` names the coordinator of an open store (``swarm status``),
``running_at`` that of a PostgreSQL database without opening a store (``swarm doctor``): its
pid and start time.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from core.coordinator.home_lock import running_coordinator
from core.store.capability import (
    SchedulerLock,
    scheduler_holder,
    scheduler_holder_at,
    scheduler_lock,
)

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

Running = tuple[int, float]  # a coordinator's pid (0: not told) and start (epoch seconds)


class HeldLock:
    """The scheduler lock while ``hold`` holds it."""

    def __init__(self, lock: SchedulerLock) -> None:
        self._lock = lock

    def guard(self, service: SwarmService) -> None:
        """Fence ``service``'s store when the lock is lost (before the body is cancelled):
        what the coordinator has in flight on it can then never commit."""
        self._lock.fence(service.store)


@contextlib.asynccontextmanager
async def hold(url: str, failover_s: float, wait: bool = True) -> AsyncIterator[HeldLock]:
    """Hold the scheduler lock of the PostgreSQL database ``url`` around the body: in
    standby until it is free (``wait``; without it SchedulerHeld names the holder);
    LockLost when it is lost meanwhile."""
    async with scheduler_lock(url, failover_s, wait) as lock:
        yield HeldLock(lock)


async def running(service: SwarmService) -> Running | None:
    """The coordinator of ``service``'s database, if one runs: on a store shared by
    machines (PostgreSQL: it serves nodes) the holder of its scheduler lock, on any
    machine; on SQLite the holder of the home's lock file, on this machine."""
    if service.store.serves_nodes:
        return await service.store.read(scheduler_holder)
    return running_coordinator(service.settings.home)


def running_at(url: str, connect_s: float) -> Running | None:
    """Who holds the scheduler lock of the PostgreSQL database ``url`` (connected within
    ``connect_s``; StorageError, one line without credentials, when it cannot be)."""
    return scheduler_holder_at(url, connect_s)
