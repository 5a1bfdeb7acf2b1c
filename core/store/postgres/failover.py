"""One scheduler at a time over PostgreSQL: a session advisory lock, standby and takeover.

``swarm run`` with ``SWARM_DATABASE_URL`` takes ``pg_try_advisory_lock(SCHEDULER_LOCK)`` on a
connection of its own, held for the life of the process. The server drops a session's
advisory locks when the session ends: at once when the holder's process dies (``kill -9``
closes its socket), and at the first check after ``drop_s`` of silence when its machine or
network dies (the lock connection asks the server for TCP keepalives and
``TCP_USER_TIMEOUT``, see ``core/store/postgres/net.py``: 3 s for ``SWARM_FAILOVER=5``). A second
``swarm run`` waits in standby and tries again every ``SWARM_FAILOVER / 5`` seconds
(``poll_s``); when it gets the lock it becomes the scheduler and carries on from the
database: within about 3-4 s of a dead machine for ``SWARM_FAILOVER=5``.

The holder proves it still holds the lock every ``poll_s`` (``SELECT 1`` on the lock
connection). When no proof came for ``fence_s`` (shorter than ``drop_s``, counted from when
the last answered check was sent) it stops at once (``LockLost``), without waiting for the
network: a holder cut off from the database has stopped before the server can free its lock,
so two schedulers never run together, and when its network comes back it does not resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from typing import Any, Protocol

import psycopg

from core.errors import InvalidState, LockLost, StorageError
from core.privacy.redact import redact_urls
from core.store.postgres.net import client_timeouts, server_timeouts_sql
from core.store.postgres.store import SCHEDULER_LOCK, CannotConnect, connect_error, error_line
from core.waits import Background, ErrorBackoff

log = logging.getLogger(__name__)
APP_NAME = "swarm scheduler"


class SchedulerHeld(InvalidState):
    """Another scheduler holds the lock (``--burst`` does not wait)."""


class Fenced(Protocol):
    """What must stop at once when the lock is lost (the store: ``PgDatabase.fence``)."""

    def fence(self, reason: str) -> None:
        """Refuse all work from now on."""


class SchedulerLock:
    """The scheduler's advisory lock on a dedicated connection."""

    def __init__(self, url: str, failover_s: float = 5.0) -> None:
        self.url = url
        self.failover_s = failover_s
        self.poll_s = max(0.05, failover_s / 5)
        self.drop_s = max(1.0, failover_s - 2.5 * self.poll_s)  # the server frees the lock
        self.fence_s = self.drop_s - self.poll_s / 2  # the holder stops before that
        self.retry_max_s = max(self.poll_s, failover_s)  # backoff of an unreachable database
        self.lost = False
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._tasks = Background("scheduler lock")  # the watch, the proof in flight
        self._watch: asyncio.Task[None] | None = None
        self._query: asyncio.Future[Any] | None = None
        self._asked = time.monotonic()  # when the lock was last asked for
        self._fenced: list[Fenced] = []

    async def acquire(self, wait: bool = True) -> None:
        """Take the lock; in standby until it is free (``wait``), else SchedulerHeld.

        A database that cannot be reached for now (refused while it restarts, starting up)
        is tried again with backoff, one log line per attempt; CannotConnect (wrong
        password, no such database, unknown host) is raised at once: waiting cannot fix it.
        """
        announced = False
        backoff = ErrorBackoff(self.poll_s, self.retry_max_s)
        while True:
            try:
                taken = await self._try()
            except CannotConnect:
                raise
            except StorageError as exc:
                if not wait:
                    raise
                delay = backoff.failed()
                log.warning(
                    "standby: %s; trying again in %.1f s (attempt %d)", exc, delay, backoff.failures
                )
                await asyncio.sleep(delay)
                continue
            backoff.succeeded()
            if taken:
                if announced:
                    log.warning("took over as the scheduler")
                return
            if not wait:
                raise SchedulerHeld(
                    f"already running: {await self.holder()} holds the "
                    "scheduler lock of this database; stop it first"
                )
            if not announced:
                log.warning(
                    "standby: %s is the scheduler; taking over when it stops", await self.holder()
                )
                announced = True
            await asyncio.sleep(self.poll_s)

    async def _try(self) -> bool:
        """One try for the lock; StorageError when the database cannot be asked."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = await self._connect()
        self._asked = time.monotonic()
        try:
            row = await (
                await self._conn.execute("SELECT pg_try_advisory_lock(%s)", (SCHEDULER_LOCK,))
            ).fetchone()
        except psycopg.OperationalError as exc:
            await self._conn.close()
            raise StorageError(f"scheduler lock: {error_line(exc)}") from None
        return bool(row and row[0])

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        name = f"{APP_NAME} {socket.gethostname()} pid {os.getpid()}"[:63]
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.url,
                autocommit=True,
                application_name=name,
                connect_timeout=max(2, int(self.failover_s)),
                **client_timeouts(self.drop_s),
            )
            await conn.execute(server_timeouts_sql(self.drop_s))
            return conn
        except psycopg.Error as exc:
            raise connect_error(self.url, exc) from None

    async def holder(self) -> str:
        """Who holds the lock (``swarm scheduler host pid 123``), as far as the server says."""
        assert self._conn is not None
        with contextlib.suppress(psycopg.Error):
            row = await (
                await self._conn.execute(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                    "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                    "AND l.objid = %s AND l.database = (SELECT oid FROM pg_database WHERE "
                    "datname = current_database())",
                    (SCHEDULER_LOCK & 0xFFFFFFFF,),
                )
            ).fetchone()
            if row and row[0]:
                return str(row[0]).removeprefix("swarm ")
        return "another scheduler"

    def fence(self, store: Fenced) -> None:
        """Fence ``store`` when the lock is lost (before the body is cancelled): what the
        scheduler has in flight on it can then never commit."""
        self._fenced.append(store)

    def watch(self, on_lost: asyncio.Task[Any]) -> None:
        """Prove the lock every ``poll_s``; cancel ``on_lost`` when no proof came for
        ``fence_s``."""
        self._watch = self._tasks.start(self._check(on_lost), name="scheduler-lock")

    async def _check(self, on_lost: asyncio.Task[Any]) -> None:
        proven = self._asked  # the lock was held from when it was asked for
        while True:
            await asyncio.sleep(self.poll_s)
            sent = time.monotonic()
            failure = await self._prove(proven + self.fence_s - sent)
            if failure is None:
                proven = sent  # the lock was held when this check was sent
                continue
            log.error("lost the scheduler lock (%s): stopping", failure)
            self.lost = True
            for store in self._fenced:
                store.fence(f"lost the scheduler lock ({failure}): stopped")
            on_lost.cancel()
            return

    async def _prove(self, within_s: float) -> str | None:
        """None when the lock connection answers within ``within_s``, else why not. A check
        left unanswered is cancelled in the background (psycopg then tries to cancel it on
        the server); ``release`` waits for that before it closes the connection."""
        assert self._conn is not None
        query = self._query = self._tasks.start(
            self._conn.execute("SELECT 1"), name="scheduler-lock-proof", awaited=True
        )
        # asyncio.wait, not wait_for: on Python 3.11 wait_for swallows a cancellation that
        # comes as the query answers, and this loop would outlive release() (no takeover)
        done, _ = await asyncio.wait({query}, timeout=max(0.0, within_s))
        if not done:
            query.cancel()
            return f"no answer for {self.fence_s:.1f} s"
        error = query.exception()
        if error is None:
            return None
        return redact_urls(str(error).splitlines()[0] if str(error) else type(error).__name__)

    async def release(self) -> None:
        """Let a standby take over (closing the session drops the lock)."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self._query is not None:
            self._query.cancel()
            await asyncio.wait({self._query})
            if not self._query.cancelled():
                self._query.exception()  # retrieved: it was logged as the loss
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()
            self._conn = None


def scheduler_holder(conn: Any) -> tuple[int, float] | None:
    """The pid and start time (epoch seconds) of the ``swarm run`` holding the scheduler lock
    of this database, as its lock connection names it; None when nobody holds it."""
    row = conn.execute(
        "SELECT a.application_name AS name, extract(epoch FROM a.backend_start) AS since "
        "FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND "
        "l.granted AND l.objid = $1 AND l.database = (SELECT oid FROM pg_database WHERE "
        "datname = current_database())",
        (SCHEDULER_LOCK & 0xFFFFFFFF,),
    ).fetchone()
    if row is None:
        return None
    name = str(row["name"] or "")
    pid = name.rsplit(" pid ", 1)[1] if " pid " in name else ""
    return (int(pid) if pid.isdigit() else 0), float(row["since"])


@contextlib.asynccontextmanager
async def scheduler_lock(url: str, failover_s: float, wait: bool = True) -> Any:
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
            raise LockLost(
                "lost the scheduler lock (the database connection failed); "
                "stopped so that the standby takes over"
            ) from None
        raise
    finally:
        await lock.release()
