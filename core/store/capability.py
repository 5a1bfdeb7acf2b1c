"""What only some databases can do, asked of the store here: whether a connection implements
an optional protocol (decided once per class), and PostgreSQL's scheduler lock (its failover
module is imported only when a PostgreSQL database is used).

``isinstance`` against a ``runtime_checkable`` protocol looks up each of the protocol's
members on the object every time (~8 us in Python 3.11), and store functions on the hot path
ask it per statement (``row_locks.read_held``: is this PostgreSQL's row-locking connection?).
A connection's class decides the answer (the protocols here name methods, never attributes
set on an instance), so it is worked out once per (class, protocol).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, cast

_DECIDED: dict[tuple[type, type], bool] = {}


def implements(conn: object, protocol: type) -> bool:
    """``isinstance(conn, protocol)`` for a runtime-checkable protocol of methods, cached by
    ``conn``'s class."""
    key = (type(conn), protocol)
    found = _DECIDED.get(key)
    if found is None:
        found = _DECIDED[key] = isinstance(conn, protocol)
    return found


class Fenced(Protocol):
    """A store that can be told to refuse all work (``StoreAccess.fence``)."""

    def fence(self, reason: str) -> None:
        """Refuse all work from now on, raising StorageError(reason)."""


class SchedulerLock(Protocol):
    """The PostgreSQL scheduler lock while it is held."""

    def fence(self, store: Fenced) -> None:
        """Fence ``store`` when the lock is lost."""


def scheduler_lock(
    url: str, failover_s: float, wait: bool
) -> AbstractAsyncContextManager[SchedulerLock]:
    """The scheduler lock of the PostgreSQL database ``url``, held around the body of an
    ``async with`` (``core.store.postgres.failover.scheduler_lock``)."""
    from core.store.postgres.failover import scheduler_lock as held

    return cast("AbstractAsyncContextManager[SchedulerLock]", held(url, failover_s, wait))


def scheduler_holder(conn: Any) -> tuple[int, float] | None:
    """The pid and start time of the ``swarm run`` holding the scheduler lock of the
    PostgreSQL database ``conn`` is connected to; None when nobody holds it."""
    from core.store.postgres.failover import scheduler_holder as holder

    return holder(conn)


def scheduler_holder_at(url: str, connect_s: float) -> tuple[int, float] | None:
    """``scheduler_holder`` of the PostgreSQL database ``url`` (connected within
    ``connect_s``; StorageError, one line without credentials, when it cannot be)."""
    from core.store.postgres.failover import scheduler_holder as holder
    from core.store.postgres.store import connect

    conn = connect(url, connect_s)
    try:
        return holder(conn)
    finally:
        conn.raw.close()
