"""A store fenced after a lost scheduler lock: its statement in flight fails at once and it
refuses everything after, so nothing the old scheduler started can commit later."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import StorageError
from core.store.conn import Conn
from core.store.postgres.store import PgDatabase


def _sleep_then_write(conn: Conn) -> None:
    conn.execute("SELECT pg_sleep(3)")
    conn.execute("INSERT INTO swarm_clock VALUES (2, 0)")  # never reached


@pytest.mark.timeout(30)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_fencing_fails_the_statement_in_flight_and_refuses_the_rest(
    database_url: str,
) -> None:
    db = await PgDatabase.open(database_url)
    try:
        in_flight = asyncio.create_task(db.write(_sleep_then_write))
        await asyncio.sleep(0.5)  # the worker thread is in pg_sleep
        db.fence("lost the scheduler lock (test)")
        with pytest.raises(Exception) as failed:
            await in_flight
        assert "postgresql" in str(failed.value)  # the driver's error, from the cut socket
        with pytest.raises(StorageError, match="lost the scheduler lock"):
            await db.read(lambda conn: conn.execute("SELECT 1").fetchone())
    finally:
        await db.close()
    check = await PgDatabase.open(database_url)
    try:
        rows = await check.read(
            lambda conn: conn.execute("SELECT count(*) AS n FROM swarm_clock").fetchone()["n"]
        )
    finally:
        await check.close()
    assert rows == 1  # the write after the sleep never ran
