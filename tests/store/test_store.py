"""Database set-up: WAL, migrations, refusing a newer file, the outbox invariant."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any, cast

import pytest

from core.assignment import _agent_queries as agent_queries
from core.context import Ctx
from core.errors import DatabaseTooNew
from core.event_kinds import EventKind
from core.history import event_queries
from core.models import TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store import row_locks, tables
from core.store import sqlite as dbmod
from core.store.conn import EVENT_COLUMNS, Conn, SqliteConn
from core.store.migrations import LATEST, migrations
from core.store.sqlite import Database
from tests.helpers import query_plan, run_cli


async def test_database_is_wal_with_busy_timeout(service: SwarmService) -> None:
    with sqlite3.connect(service.settings.db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
    assert await service.store.read(lambda c: c.execute("PRAGMA busy_timeout").fetchone()[0]) > 0


async def test_the_wal_is_copied_back_in_longer_stretches(service: SwarmService) -> None:
    """A checkpoint every 4,000 WAL pages, not SQLite's 1,000: hot pages copied once."""
    pages = await service.store.read(lambda c: c.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    assert pages == dbmod.WAL_CHECKPOINT_PAGES == 4000


async def test_connections_opening_a_new_file_at_once_all_open_it(tmp_path: Path) -> None:
    """Three connections opening one new file at once (``swarm run`` and a first CLI command): the
    one that switches the file to WAL second got ``database is locked`` at once in about 6 %
    of such rounds (SQLite calls no busy handler there); each waits for the file now."""

    async def opened(path: Path) -> None:
        db = await Database.open(path, 30.0)
        await db.close()

    for round_ in range(60):
        path = tmp_path / f"round-{round_}" / "swarm.db"
        results = await asyncio.gather(*(opened(path) for _ in range(3)), return_exceptions=True)
        assert [r for r in results if r is not None] == [], f"round {round_}"


async def test_old_database_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.isolation_level = None
        dbmod.migrate(conn, target=1)
        conn.execute(
            "INSERT INTO tasks (title, priority, status, created_at, updated_at) "
            "VALUES ('kept', 1, 'ready', 0, 0)"
        )
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert "deliveries" not in {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    db = await Database.open(path)
    try:
        assert await db.read(lambda c: dbmod.user_version(cast(sqlite3.Connection, c))) == LATEST
        titles = await db.read(lambda c: [r[0] for r in c.execute("SELECT title FROM tasks")])
        assert titles == ["kept"]
        tables = await db.read(
            lambda c: {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        )
        assert {"deliveries", "messages", "agent_state"} <= tables
    finally:
        await db.close()


# the version before the migration that gives SQLite its own indexes (later ones may follow)
_BEFORE_SQLITE_INDEXES = next(
    number
    for number, steps in enumerate(migrations("sqlite"))
    if "DROP INDEX IF EXISTS events_txid" in steps
)


async def test_sqlite_keeps_only_the_indexes_its_hot_path_reads(tmp_path: Path) -> None:
    """SQLite's events are read in id order (txid is always 0 there): the outbox's (txid, id)
    index, which PostgreSQL reads by, is not kept on SQLite. Tasks are looked up by assignee
    only among the active ones: the index holds those alone (an upgrade converts it), and
    an agent's load is read through it."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.isolation_level = None
        dbmod.migrate(conn, target=_BEFORE_SQLITE_INDEXES)

    def indexes(c: Conn, table: str) -> set[str]:
        return {r["name"] for r in c.execute(f"SELECT name FROM pragma_index_list('{table}')")}

    db = await Database.open(path)
    try:
        events, tasks = await db.read(indexes, "events"), await db.read(indexes, "tasks")
        plan = await db.read(query_plan, agent_queries.ASSIGNABLE_AND_EXPIRY.text, 0.0)
    finally:
        await db.close()
    assert "events_txid" not in events and "events_by_task" in events
    assert "tasks_by_assignee" not in tasks and "tasks_active_by_assignee" in tasks
    assert "tasks_active_by_assignee" in plan


def test_a_connection_class_is_checked_against_a_store_protocol_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``isinstance`` against a runtime-checkable protocol inspects the object each time (~8
    us): the row-lock and commit-order checks of the hot path decide it once per class."""
    checks: list[type] = []
    meta: Any = type(row_locks.RowLocking)
    plain = meta.__instancecheck__

    def counted(cls: type, instance: object) -> bool:
        checks.append(cls)
        return bool(plain(cls, instance))

    monkeypatch.setattr(meta, "__instancecheck__", counted)
    with sqlite3.connect(tmp_path / "x.db", factory=SqliteConn) as conn:
        conn.row_factory = sqlite3.Row
        dbmod.migrate(conn)
        for _ in range(3):
            assert row_locks.read_held(conn, "tasks", "id", 1) is None
            row_locks.hold(conn, "tasks", [1])
            assert event_queries.events_after(conn) == []
    assert checks.count(row_locks.RowLocking) <= 1
    assert checks.count(tables.CommitOrdered) <= 1


def test_an_event_is_bound_by_number_not_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lifecycle's most frequent statement runs in SQLite's own placeholders (``?1``..):
    no dict of ``$n`` names built per event; every column lands where it belongs."""
    with sqlite3.connect(tmp_path / "x.db", factory=SqliteConn) as conn:
        conn.row_factory = sqlite3.Row
        dbmod.migrate(conn)

        def by_name(*args: object) -> None:
            raise AssertionError("bound by name")

        monkeypatch.setattr(SqliteConn, "execute", by_name)
        conn.add_event((1.5, "task.done", "T-1 done", 1, "Agent-1", "cli", '{"a": 1}'))
        monkeypatch.undo()
        row = conn.execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM events").fetchone()
    assert tuple(row) == (1.5, "task.done", "T-1 done", 1, "Agent-1", "cli", '{"a": 1}')


async def test_newer_database_is_refused(tmp_path: Path, settings: Settings) -> None:
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(settings.db_path) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(DatabaseTooNew, match="newer than this swarm"):
        await SwarmService.open(settings)
    result = run_cli(settings.home, "task", "list")
    assert result.code == 2
    assert "newer than this swarm" in result.err
    with sqlite3.connect(settings.db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST + 1


@pytest.mark.both_databases
async def test_every_change_writes_its_event_in_the_same_transaction(
    service: SwarmService,
) -> None:
    """Each state change adds events; a change that fails half-way adds neither."""
    steps = [
        lambda: service.tasks.create(TaskSpec("A"), "me"),
        lambda: service.tasks.create(TaskSpec("B", after=("T-1",)), "me"),
        lambda: service.queue.assign_next(),
        lambda: service.tasks.start("T-1", "Agent-1"),
        lambda: service.tasks.complete("T-1", "Agent-1"),
        lambda: service.messages.send("Agent-2", "hi", "me"),
        lambda: service.roster.set_paused("Agent-2", True, "me"),
        lambda: service.tasks.cancel("T-2", "me"),
        lambda: service.tasks.retry("T-2", "me"),
    ]
    for step in steps:
        before = len(await service.history.events(limit=10_000))
        await step()
        assert len(await service.history.events(limit=10_000)) > before

    def explode(conn: Conn) -> None:
        from core.store import tables

        conn.execute("UPDATE tasks SET title = 'changed' WHERE id = 1")
        tables.insert_event(conn, 0, cast(EventKind, "test.half"), "half-way")
        raise RuntimeError("crash in the middle of a transaction")

    with pytest.raises(RuntimeError):
        await service.store.update(explode)
    assert (await service.tasks.get("T-1")).title == "A"
    assert all(e.kind != "test.half" for e in await service.history.events(limit=10_000))


@pytest.mark.both_databases
async def test_a_change_is_dated_when_it_runs_not_when_it_queued_for_the_writer(
    service: SwarmService, clock: ManualClock
) -> None:
    """A write that waits behind another for the store's writer reads its time as its
    transaction starts: what it writes (an assignment's event, a lease) is not dated
    before it happened, so a delivery is not measured as queued while it waited."""
    started = clock.now()
    seen: list[float] = []

    def slow(conn: Conn, ctx: Ctx) -> None:
        assert ctx.now == started
        clock.advance(30)  # the time this transaction holds the writer

    def dated(conn: Conn, ctx: Ctx) -> None:
        seen.append(ctx.now)
        tables.insert_event(conn, ctx.now, cast(EventKind, "test.dated"), "dated")

    await asyncio.gather(service.store.write("me", slow), service.store.write("me", dated))
    assert seen == [started + 30]
    [event] = [e for e in await service.history.events(limit=100) if e.kind == "test.dated"]
    assert event.ts == started + 30
