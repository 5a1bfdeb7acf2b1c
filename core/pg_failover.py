"""One scheduler at a time over PostgreSQL: a session advisory lock, standby and takeover.

``swarm run`` with ``SWARM_DATABASE_URL`` takes ``pg_try_advisory_lock(SCHEDULER_LOCK)`` on a
connection of its own, held for the life of the process. The server drops a session's
advisory locks when the session ends: at once when the holder's process dies (``kill -9``
closes its socket), and within the TCP keepalive time when its machine or network dies
(the lock connection asks the server for keepalives of 1 s, so a dead peer is found within
about ``SWARM_FAILOVER`` seconds). A second ``swarm run`` waits in standby and tries again
every ``SWARM_FAILOVER / 5`` seconds; when it gets the lock it becomes the scheduler and
carries on from the database. The holder checks its lock connection as often: when it
cannot prove it still holds the lock it stops at once (``LockLost``), so two schedulers never
run together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import Any

import psycopg

from core.errors import InvalidState, StorageError
from core.pg import SCHEDULER_LOCK
from core.redact import redact_urls

log = logging.getLogger(__name__)
APP_NAME = "swarm scheduler"


class SchedulerHeld(InvalidState):
    """Another scheduler holds the lock (``--burst`` does not wait)."""


class LockLost(StorageError):
    """The scheduler could no longer prove it holds the lock; it stopped."""


def _keepalives(failover_s: float) -> dict[str, Any]:
    """Client and server keepalives that find a dead peer within about ``failover_s``."""
    count = max(1, int(failover_s / 2))
    return {"keepalives": 1, "keepalives_idle": 1, "keepalives_interval": 1,
            "keepalives_count": count,
            "options": f"-c tcp_keepalives_idle=1 -c tcp_keepalives_interval=1 "
                       f"-c tcp_keepalives_count={count}"}


class SchedulerLock:
    """The scheduler's advisory lock on a dedicated connection."""

    def __init__(self, url: str, failover_s: float = 5.0) -> None:
        self.url = url
        self.failover_s = failover_s
        self.poll_s = max(0.05, failover_s / 5)
        self.lost = False
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._watch: asyncio.Task[None] | None = None

    async def acquire(self, wait: bool = True) -> None:
        """Take the lock; in standby until it is free (``wait``), else SchedulerHeld."""
        announced = False
        while True:
            try:
                taken = await self._try()
            except StorageError as exc:
                if not wait:
                    raise
                log.warning("standby: %s", exc)
                await asyncio.sleep(self.poll_s)
                continue
            if taken:
                if announced:
                    log.warning("took over as the scheduler")
                return
            if not wait:
                raise SchedulerHeld(f"already running: {await self.holder()} holds the "
                                    "scheduler lock of this database; stop it first")
            if not announced:
                log.warning("standby: %s is the scheduler; taking over when it stops",
                            await self.holder())
                announced = True
            await asyncio.sleep(self.poll_s)

    async def _try(self) -> bool:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = await self._connect()
        try:
            row = await (await self._conn.execute(
                "SELECT pg_try_advisory_lock(%s)", (SCHEDULER_LOCK,))).fetchone()
        except psycopg.OperationalError as exc:
            log.warning("scheduler lock: %s", redact_urls(str(exc).splitlines()[0]))
            await self._conn.close()
            return False
        return bool(row and row[0])

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        name = f"{APP_NAME} {socket.gethostname()} pid {os.getpid()}"[:63]
        try:
            return await psycopg.AsyncConnection.connect(
                self.url, autocommit=True, application_name=name,
                connect_timeout=max(2, int(self.failover_s)), **_keepalives(self.failover_s))
        except psycopg.Error as exc:
            raise StorageError(f"cannot connect to PostgreSQL at {redact_urls(self.url)}: "
                               f"{redact_urls(str(exc).splitlines()[0])}") from None

    async def holder(self) -> str:
        """Who holds the lock (``swarm scheduler host pid 123``), as far as the server says."""
        assert self._conn is not None
        with contextlib.suppress(psycopg.Error):
            row = await (await self._conn.execute(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.objid = %s AND l.database = (SELECT oid FROM pg_database WHERE "
                "datname = current_database())", (SCHEDULER_LOCK & 0xFFFFFFFF,))).fetchone()
            if row and row[0]:
                return str(row[0]).removeprefix("swarm ")
        return "another scheduler"

    def watch(self, on_lost: asyncio.Task[Any]) -> None:
        """Check the lock every ``poll_s``; cancel ``on_lost`` when it cannot be proven."""
        self._watch = asyncio.create_task(self._check(on_lost), name="scheduler-lock")

    async def _check(self, on_lost: asyncio.Task[Any]) -> None:
        assert self._conn is not None
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a
                # cancellation that comes as the query answers, and this loop would outlive
                # release(), which waits for it, holding the lock (no standby takes over)
                async with asyncio.timeout(self.failover_s):
                    await self._conn.execute("SELECT 1")
            except (psycopg.Error, TimeoutError) as exc:
                log.error("lost the scheduler lock (%s): stopping",
                          redact_urls(str(exc).splitlines()[0] if str(exc) else "timeout"))
                self.lost = True
                on_lost.cancel()
                return

    async def release(self) -> None:
        """Let a standby take over (closing the session drops the lock)."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()
            self._conn = None


def scheduler_holder(conn: Any) -> tuple[int, float] | None:
    """The pid and start time (epoch seconds) of the ``swarm run`` holding the scheduler lock
    of this database, as its lock connection names it; None when nobody holds it."""
    row = conn.execute(
        "SELECT a.application_name, extract(epoch FROM a.backend_start) FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND "
        "l.granted AND l.objid = ? AND l.database = (SELECT oid FROM pg_database WHERE "
        "datname = current_database())", (SCHEDULER_LOCK & 0xFFFFFFFF,)).fetchone()
    if row is None:
        return None
    name = str(row[0] or "")
    pid = name.rsplit(" pid ", 1)[1] if " pid " in name else ""
    return (int(pid) if pid.isdigit() else 0), float(row[1])


@contextlib.asynccontextmanager
async def scheduler_lock(url: str, failover_s: float, wait: bool = True
                         ) -> Any:
    """Hold the scheduler lock around the body; LockLost if it is lost meanwhile."""
    lock = SchedulerLock(url, failover_s)
    await lock.acquire(wait)
    task = asyncio.current_task()
    assert task is not None
    lock.watch(task)
    try:
        yield lock
    except asyncio.CancelledError:
        if lock.lost:
            task.uncancel()
            raise LockLost("lost the scheduler lock (the database connection failed); "
                           "stopped so that the standby takes over") from None
        raise
    finally:
        await lock.release()
