"""The scheduler lock is let go even when the stop comes as the lock check's query answers."""

from __future__ import annotations

import asyncio
from typing import Any

from core.store.postgres.failover import SchedulerLock


class _GatedConnection:
    """A lock connection whose ``SELECT 1`` answers when the test opens the gate."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self.gate = asyncio.Event()
        self.closed = False

    async def execute(self, sql: str, *args: Any) -> None:
        self.asked.set()
        await self.gate.wait()

    async def close(self) -> None:
        self.closed = True


async def test_release_ends_the_lock_check_cancelled_as_its_query_answers() -> None:
    lock = SchedulerLock("postgresql://unused", failover_s=1.0)
    conn = _GatedConnection()
    lock._conn = conn  # type: ignore[assignment]
    body = asyncio.create_task(asyncio.sleep(60))
    lock.watch(body)
    await asyncio.wait_for(conn.asked.wait(), 5)
    conn.gate.set()  # the answer and the stop in the same turn of the loop
    release = asyncio.create_task(lock.release())
    try:
        # on Python 3.11 asyncio.wait_for swallowed this cancellation: the check went on
        # forever, release() never returned, and the lock stayed held (no standby took over)
        done, _ = await asyncio.wait({release}, timeout=3)
        assert release in done, "release() still waits for the lock check"
    finally:
        body.cancel()
        release.cancel()
        assert lock._watch is not None
        lock._watch.cancel()
    assert conn.closed and not lock.lost
