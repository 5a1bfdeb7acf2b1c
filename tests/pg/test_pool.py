"""PostgreSQL's connections in one process: a read never queues behind a write (readers have
a pool of their own), and a call whose caller is cancelled does not run on to its commit."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, cast

import pytest

from core.event_kinds import EventKind
from core.service.swarm import SwarmService
from core.store.tables import insert_event

HELD = cast(EventKind, "test.held")  # a kind no code writes: these rows are the test's own

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


def _hold(conn: Any, ctx: Any, started: threading.Event, go: threading.Event) -> None:
    """Write an event, then keep the transaction open until ``go``."""
    insert_event(conn, ctx.now, HELD, "held")
    started.set()
    go.wait(30)


def _count(conn: Any) -> int:
    row = conn.execute("SELECT count(*) AS n FROM events WHERE kind = 'test.held'").fetchone()
    return int(row["n"])


async def test_a_read_does_not_wait_for_a_write_in_progress(
    service: SwarmService, database_url: str | None
) -> None:
    if database_url is None:
        pytest.skip("SQLite has one connection per process: a read waits for the write")
    started, go = threading.Event(), threading.Event()
    write = asyncio.create_task(service.store.write("test", _hold, started, go))
    try:
        assert await asyncio.to_thread(started.wait, 10)
        # generous bound: the write is held for 30 s, so a queued read would hang past it
        assert await asyncio.wait_for(service.store.read(_count), 10) == 0
    finally:
        go.set()
    await write
    assert await service.store.read(_count) == 1


async def test_a_cancelled_write_does_not_commit_after_its_caller_went(
    service: SwarmService,
) -> None:
    started, go = threading.Event(), threading.Event()
    write = asyncio.create_task(service.store.write("test", _hold, started, go))
    assert await asyncio.to_thread(started.wait, 10)
    write.cancel()
    with pytest.raises(asyncio.CancelledError):
        await write
    go.set()  # the thread goes on from here: it must roll back, not commit
    assert await service.store.read(_count) == 0  # after the write thread: reads queue on SQLite
    await service.store.write("test", lambda conn, ctx: insert_event(conn, ctx.now, HELD, "x"))
    assert await service.store.read(_count) == 1, "the store goes on working"
