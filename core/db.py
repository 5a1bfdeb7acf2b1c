"""SQLite connection set-up and numbered migrations (version in ``PRAGMA user_version``)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import aiosqlite

from core.errors import ConfigError, DatabaseTooNew, StorageError
from core.private import create_empty, make_dirs

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

# Each migration is a tuple of statements, applied in one transaction. Never edit a
# released migration: add a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE tasks (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            details TEXT NOT NULL DEFAULT '',
            priority INTEGER NOT NULL,
            role TEXT,
            capabilities TEXT NOT NULL DEFAULT '[]',
            pinned_agent TEXT,
            assignee TEXT,
            prev_agent TEXT,
            status TEXT NOT NULL,
            reason TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL DEFAULT 3,
            created_by TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            assigned_at REAL,
            started_at REAL,
            finished_at REAL,
            lease_expires_at REAL,
            not_before REAL NOT NULL DEFAULT 0,
            result_note TEXT,
            plan_id TEXT
        )""",
        "CREATE INDEX tasks_by_status ON tasks(status, priority DESC, id)",
        "CREATE INDEX tasks_by_assignee ON tasks(assignee, status)",
        "CREATE INDEX tasks_by_lease ON tasks(lease_expires_at) WHERE lease_expires_at IS NOT NULL",
        """CREATE TABLE task_deps (
            task_id INTEGER NOT NULL REFERENCES tasks(id),
            dep_id INTEGER NOT NULL REFERENCES tasks(id),
            PRIMARY KEY (task_id, dep_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX task_deps_by_dep ON task_deps(dep_id, task_id)",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            ts REAL NOT NULL,
            kind TEXT NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            task_id INTEGER,
            agent_id TEXT,
            actor TEXT,
            data TEXT
        )""",
        "CREATE INDEX events_by_task ON events(task_id) WHERE task_id IS NOT NULL",
    ),
    (
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            sender TEXT NOT NULL,
            target TEXT NOT NULL,
            text TEXT NOT NULL,
            task_id INTEGER REFERENCES tasks(id),
            priority INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL
        )""",
        """CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES messages(id),
            agent_id TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            reason TEXT,
            method TEXT,
            not_before REAL NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        "CREATE INDEX deliveries_by_state ON deliveries(state, not_before, id)",
        "CREATE INDEX deliveries_by_message ON deliveries(message_id)",
        """CREATE TABLE agent_state (
            id TEXT PRIMARY KEY,
            paused INTEGER NOT NULL DEFAULT 0,
            score REAL NOT NULL DEFAULT 1.0,
            done_count INTEGER NOT NULL DEFAULT 0,
            fail_count INTEGER NOT NULL DEFAULT 0,
            last_report_at REAL,
            last_assigned_at REAL,
            idle_since REAL NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE event_cursors (
            consumer TEXT PRIMARY KEY,
            last_id INTEGER NOT NULL
        )""",
    ),
    (
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            ts REAL NOT NULL,
            user_id TEXT NOT NULL,
            user_name TEXT NOT NULL,
            command TEXT NOT NULL,
            allowed INTEGER NOT NULL,
            outcome TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX audit_by_ts ON audit(ts)",
    ),
    (
        """CREATE TABLE plans (
            id INTEGER PRIMARY KEY,
            goal TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            plan TEXT NOT NULL,
            model TEXT,
            notes TEXT NOT NULL DEFAULT '[]',
            task_ids TEXT NOT NULL DEFAULT '[]',
            created_by TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            decided_by TEXT,
            decided_at REAL
        )""",
        "CREATE INDEX plans_by_status ON plans(status, id)",
        "CREATE INDEX tasks_by_plan ON tasks(plan_id) WHERE plan_id IS NOT NULL",
        """CREATE TABLE usage (
            id INTEGER PRIMARY KEY,
            ts REAL NOT NULL,
            purpose TEXT NOT NULL,
            model TEXT NOT NULL,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            cost REAL,
            latency_s REAL NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 1,
            ok INTEGER NOT NULL,
            error TEXT,
            actor TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX usage_by_ts ON usage(ts)",
    ),
    (  # watching the swarm: screen activity, nudges, alerts, schedules
        """CREATE TABLE agent_watch (
            agent_id TEXT PRIMARY KEY,
            screen_active_at REAL,
            watched_tasks TEXT,
            nudges INTEGER NOT NULL DEFAULT 0,
            last_nudge_at REAL
        )""",
        """CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            agent_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            opened_at REAL NOT NULL,
            cleared_at REAL,
            cleared_text TEXT
        )""",
        "CREATE UNIQUE INDEX alerts_open ON alerts(agent_id, kind) WHERE cleared_at IS NULL",
        """CREATE TABLE schedules (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            target TEXT,
            text TEXT NOT NULL DEFAULT '',
            period TEXT,
            cron TEXT,
            every_s REAL,
            next_run_at REAL,
            last_run_at REAL,
            runs INTEGER NOT NULL DEFAULT 0,
            enabled INTEGER NOT NULL DEFAULT 1,
            builtin TEXT UNIQUE,
            created_by TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            removed_at REAL
        )""",
        "CREATE INDEX deliveries_by_agent ON deliveries(agent_id, id)",
    ),
    (  # workflows and campaigns
        """CREATE TABLE campaigns (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            workflow TEXT,
            vars TEXT,
            status TEXT NOT NULL DEFAULT 'open',
            created_by TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            cancelled_at REAL,
            finished_at REAL
        )""",
        "ALTER TABLE tasks ADD COLUMN campaign_id INTEGER REFERENCES campaigns(id)",
        "ALTER TABLE tasks ADD COLUMN kind TEXT NOT NULL DEFAULT 'work'",
        "CREATE INDEX tasks_by_campaign ON tasks(campaign_id) WHERE campaign_id IS NOT NULL",
        """CREATE TABLE task_triggers (
            task_id INTEGER NOT NULL REFERENCES tasks(id),
            dep_id INTEGER NOT NULL REFERENCES tasks(id),
            PRIMARY KEY (task_id, dep_id)
        ) WITHOUT ROWID""",
    ),
    (  # workspaces (task heads and commits), onboarding
        """CREATE TABLE task_work (
            task_id INTEGER NOT NULL REFERENCES tasks(id),
            agent_id TEXT NOT NULL,
            path TEXT NOT NULL,
            branch TEXT,
            base TEXT,
            start_sha TEXT,
            end_sha TEXT,
            started_at REAL NOT NULL,
            finished_at REAL,
            PRIMARY KEY (task_id, agent_id)
        )""",
        "ALTER TABLE agent_state ADD COLUMN onboarded_at REAL",
    ),
    (  # the live message (and thread) of each task or message; agents' questions
        """CREATE TABLE posts (
            key TEXT PRIMARY KEY,
            message_id INTEGER NOT NULL,
            thread_id INTEGER,
            note TEXT,
            shown TEXT
        ) WITHOUT ROWID""",
        """CREATE TABLE questions (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES tasks(id),
            agent_id TEXT,
            text TEXT NOT NULL,
            asked_by TEXT NOT NULL,
            asked_at REAL NOT NULL,
            answer TEXT,
            answered_by TEXT,
            answered_at REAL
        )""",
        "CREATE INDEX questions_open ON questions(task_id, id) WHERE answered_at IS NULL",
    ),
    (  # the dashboard's bearer tokens: only a hash is kept
        """CREATE TABLE web_tokens (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            created_at REAL NOT NULL,
            expires_at REAL,
            revoked_at REAL
        )""",
    ),
    (  # delivery nodes (PostgreSQL): who claimed a delivery and until when; heartbeats
        "ALTER TABLE deliveries ADD COLUMN node TEXT",
        "ALTER TABLE deliveries ADD COLUMN claim_until REAL",
        """CREATE TABLE nodes (
            name TEXT PRIMARY KEY,
            agents TEXT NOT NULL DEFAULT '[]',
            host TEXT NOT NULL DEFAULT '',
            pid INTEGER,
            started_at REAL NOT NULL,
            heartbeat_at REAL NOT NULL
        )""",
    ),
    (  # a live post outside the notifier's channel (a campaign's, where it was asked for)
        "ALTER TABLE posts ADD COLUMN channel_id INTEGER",
    ),
    (  # the screen watch of a node's agents: when its node first captured the screen
        "ALTER TABLE agent_watch ADD COLUMN screen_seen_at REAL",
    ),
)

LATEST = len(MIGRATIONS)

T = TypeVar("T")


class Store(Protocol):
    """What the service needs of a database: SQLite (``Database``) or PostgreSQL
    (``core.pg.PgDatabase``), chosen by ``open_store``."""

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` outside any write transaction."""

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` as one atomic write transaction."""

    async def close(self) -> None:
        """Close the connection."""


async def open_store(settings: Settings) -> Store:
    """PostgreSQL when ``settings.database_url`` is set, else the SQLite file in the home."""
    if settings.database_url:
        try:
            from core.pg import PgDatabase  # psycopg: only for a PostgreSQL store
        except ImportError as exc:
            raise ConfigError(f"SWARM_DATABASE_URL needs psycopg ({exc.name} is missing): "
                              "pip install 'swarm[postgresql]'") from None
        return await PgDatabase.open(settings.database_url)
    return await Database.open(settings.db_path, settings.busy_timeout_s)


class Database:
    """One aiosqlite connection; each read or write runs whole in its worker thread.

    Store functions are plain functions of a ``sqlite3.Connection``. ``write`` runs one of
    them inside ``BEGIN IMMEDIATE`` ... ``COMMIT`` as a single hop to the connection's
    thread, so a transaction never interleaves with another coroutine's statements and
    costs one thread switch instead of one per statement.
    """

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._aio = conn
        self.path = path

    @classmethod
    async def open(cls, path: Path, busy_timeout_s: float = 30.0) -> Database:
        """Open ``path`` in WAL mode with a busy timeout, migrated to the latest version."""
        try:
            make_dirs(path.parent)
            create_empty(path)  # 0600 before SQLite makes it: its -wal and -shm copy the mode
        except OSError as exc:
            raise StorageError(f"cannot use {path.parent} as the swarm's home (SWARM_HOME): "
                               f"{exc.strerror}") from None
        conn = await aiosqlite.connect(path, isolation_level=None, timeout=busy_timeout_s)
        db = cls(conn, path)
        try:
            await check_thread_access(conn)
            await db._call(_setup, busy_timeout_s)
            await db._call(migrate)
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        """Close the connection (and its thread)."""
        await self._aio.close()

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` outside any write transaction."""
        return await self._call(fn, *args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` as one atomic write transaction."""
        return await self._call(run_in_transaction, fn, *args)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await _in_thread(self._aio, fn, *args)


# aiosqlite's documented methods cost one thread hop per statement; its internal
# ``Connection._execute`` runs a whole function in the connection's thread, on the
# ``sqlite3.Connection`` it keeps as ``_conn`` (both unchanged since 0.11). They are used here
# and nowhere else; the range in pyproject.toml is the one tested, and ``Database.open``
# checks them so that a release that moved them fails at start-up with the remedy.
TESTED_AIOSQLITE = ">=0.20,<0.23"


async def _in_thread(conn: aiosqlite.Connection, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(sqlite3_connection, *args)`` whole in ``conn``'s worker thread: one hop."""
    return cast(T, await conn._execute(lambda: fn(conn._conn, *args)))  # type: ignore[no-untyped-call]


async def check_thread_access(conn: aiosqlite.Connection) -> None:
    """Raise ConfigError with the remedy if aiosqlite's internals used above have moved."""
    try:
        raw, thread = await _in_thread(conn, _connection_and_thread)
    except (AttributeError, TypeError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    else:
        if not isinstance(raw, sqlite3.Connection):
            problem = f"_conn is a {type(raw).__name__}, not a sqlite3.Connection"
        elif thread == threading.get_ident():
            problem = "_execute no longer runs in the connection's thread"
        else:
            return
    raise ConfigError(
        f"aiosqlite {_version('aiosqlite')} changed Connection._execute/_conn, which swarm "
        f"runs its transactions through ({problem}): install a tested release with "
        f"pip install 'aiosqlite{TESTED_AIOSQLITE}'")


def _connection_and_thread(conn: sqlite3.Connection) -> tuple[sqlite3.Connection, int]:
    return conn, threading.get_ident()


def _version(dist: str) -> str:
    from importlib import metadata  # 30 ms: only on the way to an error

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "(version unknown)"


def _setup(conn: sqlite3.Connection, busy_timeout_s: float) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # new files only; see core/retention.py
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")


def user_version(conn: sqlite3.Connection) -> int:
    """The schema version stored in the file."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = LATEST) -> int:
    """Apply the migrations up to ``target`` in one transaction; refuse a newer file."""
    if user_version(conn) > LATEST:
        raise DatabaseTooNew(
            f"database schema version {user_version(conn)} is newer than this swarm "
            f"({LATEST}): upgrade swarm or point SWARM_HOME elsewhere"
        )
    if user_version(conn) >= target:
        return user_version(conn)
    return run_in_transaction(conn, _apply_migrations, target)


def _apply_migrations(conn: sqlite3.Connection, target: int) -> int:
    current = user_version(conn)  # another process may have migrated meanwhile
    for version in range(current + 1, target + 1):
        for statement in MIGRATIONS[version - 1]:
            conn.execute(statement)
        log.info("database migrated to version %d", version)
    conn.execute(f"PRAGMA user_version = {max(current, target)}")
    return max(current, target)


def run_in_transaction(conn: sqlite3.Connection, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(conn, *args)`` between BEGIN IMMEDIATE and COMMIT (ROLLBACK on error)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn, *args)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result
