"""The store's own errors (``core.errors``) on both databases: a constraint, a lock held
too long, a lost connection, a deadlock; the driver's error is kept as ``__cause__``, and what
the front ends say (``bot.errors.describe``) is one line, the same on both databases."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from bot.errors import describe
from core.errors import (
    Busy,
    Conflict,
    IntegrityError,
    StoreError,
    Transient,
    Unavailable,
)
from core.service.swarm import SwarmService
from core.store.conn import Conn
from core.store.sqlite import Database

pytestmark = pytest.mark.both_databases

RESERVE = (
    "INSERT INTO reservations (agent, task_id, pattern, exclusive, created_at) "
    "VALUES ($1, NULL, $2, 1, 0)"
)


def _reserve_twice(conn: Conn, _ctx: object) -> None:
    conn.execute(RESERVE, ("A", "src/*.py"))
    conn.execute(RESERVE, ("A", "src/*.py"))


def _no_agent(conn: Conn, _ctx: object) -> None:
    conn.execute(RESERVE, (None, "src/*.py"))


def _reservations(conn: Conn) -> int:
    return int(conn.execute("SELECT count(*) AS n FROM reservations").fetchone()["n"])


async def test_a_duplicate_key_is_a_unique_error_told_the_same_on_both_databases(
    service: SwarmService, database_url: str | None
) -> None:
    with pytest.raises(IntegrityError) as caught:
        await service.store.write("test", _reserve_twice)
    exc = caught.value
    assert exc.unique and (exc.table, exc.columns) == ("reservations", ("agent", "pattern"))
    assert not isinstance(exc.__cause__, StoreError)  # the driver's own error, kept
    assert type(exc.__cause__).__module__.split(".")[0] == (
        "psycopg" if database_url else "sqlite3"
    )
    assert (
        describe(exc) == "database error: unique constraint failed: reservations (agent, pattern)"
    )
    assert await service.store.read(_reservations) == 0  # nothing written


async def test_a_missing_value_is_a_not_null_error_told_the_same_on_both_databases(
    service: SwarmService,
) -> None:
    with pytest.raises(IntegrityError) as caught:
        await service.store.write("test", _no_agent)
    assert not caught.value.unique
    assert (
        describe(caught.value) == "database error: not null constraint failed: reservations (agent)"
    )


async def test_a_bad_statement_is_a_store_error_not_one_to_retry(service: SwarmService) -> None:
    def bad(conn: Conn) -> None:
        conn.execute("SELECT id FROM no_such_table")

    with pytest.raises(StoreError) as caught:
        await service.store.read(bad)
    assert not isinstance(caught.value, Transient)
    assert "no_such_table" in str(caught.value)


async def test_a_lock_held_longer_than_the_timeout_is_busy(
    tmp_path: Path, database_url: str | None
) -> None:
    if database_url is None:
        error = await _sqlite_busy(tmp_path)
    else:
        error = _postgres_busy(database_url)
    assert isinstance(error, Busy)
    assert (describe(error) or "").startswith("the database stayed busy")


async def _sqlite_busy(tmp_path: Path) -> Busy:
    """The error of a write while another connection holds SQLite's write lock."""
    db = await Database.open(tmp_path / "swarm.db", busy_timeout_s=0.05)
    other = sqlite3.connect(tmp_path / "swarm.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process's write transaction
        with pytest.raises(Busy) as caught:
            await db.write(_reservations)
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        return caught.value
    finally:
        other.close()
        await db.close()


def _postgres_busy(url: str) -> Busy:
    """The error of a read that waited past its lock_timeout for a table another session
    holds."""
    from core.store.postgres.store import connect, run_unlocked

    holder, waiter = connect(url), connect(url)
    try:
        holder.raw.execute("BEGIN")
        holder.raw.execute("LOCK TABLE reservations IN ACCESS EXCLUSIVE MODE")

        def count(conn: Conn) -> int:
            conn.execute("SET LOCAL lock_timeout = '50ms'")
            return _reservations(conn)

        with pytest.raises(Busy) as caught:
            run_unlocked(waiter, count)
        assert type(caught.value.__cause__).__name__ == "LockNotAvailable"
        return caught.value
    finally:
        holder.raw.close()
        waiter.raw.close()


def test_a_lost_postgresql_connection_is_unavailable(database_url: str | None) -> None:
    if database_url is None:
        pytest.skip("SQLite has no connection to lose")
    from core.store.postgres.store import connect

    conn, admin = connect(database_url), connect(database_url)
    try:
        pid = conn.raw.info.backend_pid
        admin.execute("SELECT pg_terminate_backend($1::int)", (pid,))
        with pytest.raises(Unavailable):
            conn.execute("SELECT 1")
    finally:
        conn.raw.close()
        admin.raw.close()


def test_a_postgresql_deadlock_is_a_conflict_and_a_write_runs_again(
    database_url: str | None,
) -> None:
    if database_url is None:
        pytest.skip("SQLite has one writer at a time: no deadlock")
    from core.store.postgres.store import connect, run_in_transaction, run_unlocked

    setup = connect(database_url)
    setup.execute(
        "INSERT INTO reservations (id, agent, pattern, exclusive, created_at) "
        "VALUES (1, 'A', 'a', 1, 0), (2, 'B', 'b', 1, 0)"
    )
    setup.raw.close()
    unretried = _cross_locks(database_url, run_unlocked)
    errors = [r for r in unretried if isinstance(r, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], Conflict), unretried
    assert type(errors[0].__cause__).__name__ == "DeadlockDetected"
    assert _cross_locks(database_url, run_in_transaction) == [2, 2]  # the loser ran again


def _cross_locks(url: str, run: Any) -> list[Any]:
    """Two transactions lock reservations 1 and 2 in opposite orders: one deadlocks."""
    from core.store.postgres.store import connect

    barrier = threading.Barrier(2, timeout=10)
    results: list[Any] = [None, None]

    ran: set[int] = set()

    def lock(conn: Conn, first: int, second: int) -> int:
        conn.execute("SET LOCAL deadlock_timeout = '20ms'")
        conn.execute("SELECT id FROM reservations WHERE id = $1 FOR UPDATE", (first,))
        if first not in ran:  # both hold their first row (a second run does not wait)
            ran.add(first)
            barrier.wait()
        got = conn.execute("SELECT id FROM reservations WHERE id = $1 FOR UPDATE", (second,))
        return len(got.fetchall()) + 1

    def side(index: int, first: int, second: int) -> None:
        conn = connect(url)
        try:
            results[index] = run(conn, lock, first, second)
        except StoreError as exc:
            results[index] = exc
        finally:
            conn.raw.close()

    threads = [
        threading.Thread(target=side, args=(0, 1, 2)),
        threading.Thread(target=side, args=(1, 2, 1)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
