"""The store over PostgreSQL: ``PgConn`` (``core.store.conn.Conn`` over psycopg 3) and
``PgDatabase``.

``PgConn`` sends each statement as written (``RawCursor``: ``$n`` placeholders bound by the
server) and returns psycopg's own cursors, rows as dicts (``dict_row``); nothing rewrites
SQL. ``PgDatabase`` runs each read or write whole in one worker thread, as
``core.store.sqlite.Database`` does with aiosqlite's. Write transactions of all processes
run side by side at ``READ COMMITTED``, with no global lock: a read-then-write function holds
the rows it decides on (``core.store.row_locks``: ``FOR UPDATE``) or writes conditionally, and
event consumers read only below the outbox horizon (``events.txid`` under the oldest running
transaction, ``core.history.events``), so an event committed late is never skipped. A
transaction the server ends as a deadlock is run again whole. Driver errors leave as the
store's own (``core.errors``, by SQLSTATE), the driver's error as ``__cause__``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple, cast

import psycopg
import psycopg_pool
from psycopg.rows import dict_row

from core.errors import (
    Busy,
    Conflict,
    Constraint,
    DatabaseTooNew,
    IntegrityError,
    StorageError,
    StoreError,
    Unavailable,
)
from core.privacy.redact import redact_quoted, redact_urls
from core.store.calls import Abandoned, OneWorker, StoreCall
from core.store.commit_watch import CommitWatch
from core.store.conn import EVENT_COLUMNS, EVENT_INSERT, Channel, Conn, Dialect, Params, Sql
from core.store.migrations import migrated_text
from core.store.migrations import migrations as dialect_migrations
from core.store.postgres.listen import NotifyWait, listen
from core.store.postgres.net import DATA_TIMEOUT_S, client_timeouts, server_timeouts_sql, shut_down

if TYPE_CHECKING:
    from core.store.commit_watch import CommitWait

log = logging.getLogger(__name__)
T = TypeVar("T")
Ts = TypeVarTuple("Ts")

# advisory lock key: one migration at a time (processes that start together on an empty
# database create the schema once)
MIGRATE_LOCK = 0x5357_0001
SCHEDULER_LOCK = 0x5357_0002  # advisory lock key: the one scheduler (postgres_failover.py)
DEADLOCK = "40P01"  # SQLSTATE deadlock_detected: the transaction is run again whole
RETRY_LIMIT = 20  # tries of one write transaction before its deadlock is raised
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS swarm_schema (id INTEGER PRIMARY KEY, version INTEGER NOT NULL)",
    "INSERT INTO swarm_schema VALUES (1, 0) ON CONFLICT DO NOTHING",
    "CREATE TABLE IF NOT EXISTS swarm_clock (id INTEGER PRIMARY KEY, version BIGINT NOT NULL)",
    "INSERT INTO swarm_clock VALUES (1, 0) ON CONFLICT DO NOTHING",
)
# The data version other processes' commits move (what ``PRAGMA data_version`` is on SQLite):
# a sequence advanced right after a commit that changed rows, in the COMMIT's round trip. It
# was a row of ``swarm_clock`` updated before each such COMMIT: one row every writer of every
# process updated, so each commit waited for the one before to release its lock (with
# ``synchronous_commit`` on, for its flush to disk), and a dead row version per commit. A
# sequence takes no row lock and is not rolled back; advanced after the COMMIT, whoever reads
# the new value also sees the commit. (``swarm_clock`` stays, unused, for older processes.)
CLOCK = "swarm_clock_seq"
CLOCK_BUMP = f"SELECT nextval('{CLOCK}')"


CHANGES_CHANNEL = "swarm_changes"  # NOTIFY at each commit that changed rows (wakes the scheduler)
# A queued delivery wakes the node of its agent: NOTIFY on the agent's own channel,
# ``swarm_delivery_`` + md5 of its id (a channel name fits in 63 bytes whatever the id), with
# the id as payload; a node LISTENs on its agents' channels only, so the server sends each
# node its own wake-ups, not every node's (PostgreSQL folds identical notifications of one
# transaction into one).
DELIVERY_CHANNEL = "swarm_delivery"
_WAKE_FUNCTION = (
    "CREATE OR REPLACE FUNCTION swarm_delivery_queued() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN PERFORM pg_notify('{DELIVERY_CHANNEL}_' || md5(NEW.agent_id), NEW.agent_id); "
    "RETURN NULL; END $$"
)
# A prompt decided or closed wakes the hook that waits for it: NOTIFY swarm_prompt with its id
# (the decision is often committed by the coordinator, whose commits do not NOTIFY
# swarm_changes).
PROMPT_CHANNEL = "swarm_prompt"
_PROMPT_WAKE = (
    "CREATE OR REPLACE FUNCTION swarm_prompt_settled() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN PERFORM pg_notify('{PROMPT_CHANNEL}', NEW.id::text); RETURN NULL; END $$",
    "CREATE TRIGGER agent_prompts_settled AFTER UPDATE OF decided_at, closed_at ON agent_prompts "
    "FOR EACH ROW WHEN (NEW.decided_at IS NOT NULL OR NEW.closed_at IS NOT NULL) "
    "EXECUTE FUNCTION swarm_prompt_settled()",
)
_WAKE_TRIGGER = (
    "CREATE TRIGGER deliveries_queued AFTER INSERT OR UPDATE OF state ON deliveries "
    "FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION swarm_delivery_queued()"
)


def delivery_channels(conn: Conn, agents: list[str]) -> list[str]:
    """The channels on which queued deliveries of ``agents`` are notified (md5 by the server,
    as the trigger computes it). A ``PgDatabase``'s connection only."""
    rows = (
        cast(PgConn, conn)
        .raw.execute(
            f"SELECT '{DELIVERY_CHANNEL}_' || md5(a) AS channel FROM unnest($1::text[]) AS a",
            (agents,),
        )
        .fetchall()
    )
    return [str(r["channel"]) for r in rows]


# The events outbox: each event row carries the id of the transaction that wrote it
# (``events.txid``, a migration on both databases, NULL on SQLite); consumers read only
# below the oldest transaction still running (``core.store.tables.HORIZON``), in (txid, id)
# order.
_OUTBOX = ("ALTER TABLE events ALTER COLUMN txid SET DEFAULT pg_current_xact_id()::text::bigint",)


class PgConn:
    """``core.store.conn.Conn`` over one psycopg connection: statements sent as written
    (``$n`` placeholders bound by the server: psycopg's ``RawCursor``), rows as dicts
    (psycopg's ``dict_row``); events held and written with the commit in one INSERT."""

    dialect: Dialect = "postgres"

    def __init__(self, raw: psycopg.Connection[dict[str, Any]]) -> None:
        self.raw = raw
        self.total_changes = 0
        self.own_bumps = 0  # how many times this connection advanced the data version
        self._events: list[Sequence[Any]] | None = None  # held for the commit (in a write)
        self.notify_changes = True  # NOTIFY swarm_changes at each commit that changed rows
        self.call: StoreCall | None = None  # the store call running on it (``PgDatabase``)

    def execute(self, sql: str | Sql, params: Params = ()) -> psycopg.Cursor[dict[str, Any]]:
        """Run one statement as written (a ``Sql``'s numbered text, its values in order); the
        driver's cursor."""
        self.go_on()
        if isinstance(sql, Sql):
            text, params = sql.text, sql.bind(params)
        else:
            text = sql
        with _errors():
            cur = self.raw.execute(text, _plain(params))
        self._count(cur)
        return cur

    def executemany(self, sql: str | Sql, seq: Iterable[Params]) -> psycopg.Cursor[Any]:
        """Run one statement once per parameter sequence; no sequence, no round trip
        (psycopg's own ``executemany`` still syncs with the server: a task created with no
        dependencies paid one for its empty ``task_deps`` insert)."""
        self.go_on()
        text = sql.text if isinstance(sql, Sql) else sql
        rows = [_plain(sql.bind(p) if isinstance(sql, Sql) else p) for p in seq]
        cur = self.raw.cursor()
        if rows:
            with _errors():
                cur.executemany(text, rows)
            self.total_changes += max(cur.rowcount, 0)
        return cur

    def _count(self, cur: psycopg.Cursor[Any]) -> None:
        """Add the rows a statement changed (its command tag is not SELECT) to the total."""
        status = cur.statusmessage or ""
        if not status.startswith(("SELECT", "SHOW", "BEGIN", "COMMIT", "ROLLBACK")):
            self.total_changes += max(cur.rowcount, 0)

    def add_event(self, row: Sequence[Any]) -> None:
        """Hold the event for the commit (in a write), else insert it now."""
        if self._events is None:
            self.execute(EVENT_INSERT, row)
            return
        self._events.append(tuple(row))
        self.total_changes += 1

    def flush_events(self) -> None:
        """Insert the held events now (one statement), and go on holding."""
        rows, self._events = self._events, None if self._events is None else []
        if rows:
            with _errors():
                self.raw.execute(*_events_insert(rows))

    def data_version(self) -> int:
        """The data version (``CLOCK``) less this process's own commits: it changes when
        another process commits a change."""
        return clock_version(self) - self.own_bumps

    def give_back_space(self, idle: bool) -> str:
        """Nothing: PostgreSQL's autovacuum reuses free space itself."""
        return ""

    def hold_rows(self, table: str, ids: list[int]) -> None:
        """Lock ``ids`` of ``table`` (a name from ``core.store.row_locks.TABLES``) until the
        transaction ends, in id order."""
        self.go_on()
        with _errors():
            self.raw.execute(
                f"SELECT 1 FROM {table} WHERE id = ANY($1) ORDER BY id FOR UPDATE", (ids,)
            ).fetchall()

    def hold_key(self, key: int) -> None:
        """Take the transaction-scoped advisory lock ``key`` (a whole-table invariant)."""
        self.go_on()
        with _errors():
            self.raw.execute("SELECT pg_advisory_xact_lock($1)", (key,))

    def event_txid(self, event_id: int) -> int | None:
        """The id of the transaction that wrote event ``event_id`` (None: no such event)."""
        with _errors():
            row = self.raw.execute("SELECT txid FROM events WHERE id = $1", (event_id,)).fetchone()
        return None if row is None or row["txid"] is None else int(row["txid"])

    def go_on(self) -> None:
        """Raise Abandoned when the caller of the store call gave up on it."""
        if self.call is not None and self.call.abandoned:
            raise Abandoned("the caller was cancelled")

    def hold_events(self, on: bool) -> None:
        """Hold event rows from now on (a write transaction starts), or drop what is held."""
        self._events = [] if on else None

    def held_events_sql(self) -> str:
        """The held event rows as one INSERT statement, ``;``-ended, to send with the commit
        (values bound here, by the driver's own quoting); '' when none. Stops holding."""
        rows, self._events = self._events, None
        if not rows:
            return ""
        head = f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES "
        group = "(" + ", ".join(["%s"] * len(EVENT_COLUMNS)) + ")"
        text = head + ", ".join([group] * len(rows))
        values = [v for r in rows for v in _plain(r)]
        return psycopg.ClientCursor(self.raw).mogrify(text, values) + "; "


def _events_insert(rows: list[Sequence[Any]]) -> tuple[str, list[Any]]:
    """One INSERT of the event rows (``$n`` placeholders), and its parameters."""
    width = len(EVENT_COLUMNS)
    groups = (
        "(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")"
        for r in range(len(rows))
    )
    head = f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES "
    return head + ", ".join(groups), [v for r in rows for v in _plain(r)]


def _plain(params: Params) -> Sequence[Any]:
    """Parameters as PostgreSQL takes them: booleans as 0/1, like SQLite stores them."""
    if isinstance(params, Mapping):
        raise TypeError("PostgreSQL statements take $n parameters: pass a sequence")
    return tuple(int(p) if isinstance(p, bool) else p for p in params)


class _errors:
    """Driver errors as the store's own (``store_error``)."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if isinstance(exc, psycopg.Error):
            raise store_error(exc) from exc


# SQLSTATEs (PostgreSQL's appendix A) and what they are to the store
_CONSTRAINTS: dict[str, Constraint] = {
    "23505": "unique",
    "23502": "not_null",
    "23503": "foreign_key",
    "23514": "check",
}
_CONFLICT = frozenset({DEADLOCK, "40001"})  # deadlock_detected, serialization_failure
_BUSY = frozenset({"55P03", "57014"})  # lock_not_available, query_canceled (a timeout)
# connection_exception, insufficient_resources (disk full, out of memory, too many
# connections), operator_intervention's shutdowns, system_error (I/O)
_UNAVAILABLE_CLASSES = ("08", "53", "57P", "58")
_KEY = re.compile(r"Key \((.*?)\)=\(")  # unique_violation's detail: Key (a, b)=(1, 2) ...


def store_error(exc: psycopg.Error) -> StoreError:
    """The store's error for a driver error (raise it ``from exc``): by SQLSTATE; a lost
    connection (no SQLSTATE) is Unavailable."""
    state = exc.sqlstate or ""
    if isinstance(exc, psycopg.IntegrityError) or state.startswith("23"):
        return _integrity(exc)
    message = f"postgresql: {error_line(exc)}"
    if state in _CONFLICT:
        return Conflict(message)
    if state in _BUSY:
        return Busy(message)
    if state.startswith(_UNAVAILABLE_CLASSES) or (
        not state and isinstance(exc, psycopg.OperationalError)
    ):
        return Unavailable(message)
    return StoreError(message)


def _integrity(exc: psycopg.Error) -> IntegrityError:
    """A constraint violation, told as SQLite tells it (``core.errors.integrity_text``):
    unique keys and NOT NULL name their table and columns, the others only their kind."""
    constraint = _CONSTRAINTS.get(exc.sqlstate or "", "other")
    table = exc.diag.table_name or ""
    if constraint == "not_null" and table and exc.diag.column_name:
        return IntegrityError(constraint, table, (exc.diag.column_name,))
    key = _KEY.match(exc.diag.message_detail or "")
    if constraint == "unique" and table and key and "(" not in key.group(1):
        return IntegrityError(constraint, table, tuple(c.strip() for c in key.group(1).split(",")))
    return IntegrityError(constraint)


def schema_version(conn: PgConn) -> int:
    """The schema version stored in the database (SQLite's ``user_version``); 0 for a
    database swarm has not used yet (no ``swarm_schema`` table)."""
    found = conn.raw.execute("SELECT to_regclass('swarm_schema')").fetchone()
    if found is None or found["to_regclass"] is None:
        return 0
    row = conn.raw.execute("SELECT version FROM swarm_schema WHERE id = 1").fetchone()
    return int(row["version"]) if row else 0


def connect(url: str, timeout_s: float | None = None) -> PgConn:
    """A ``PgConn`` to ``url`` (autocommit: every statement outside ``write`` is its own
    transaction, like SQLite's ``isolation_level=None``); StorageError when it cannot
    (``timeout_s``: give up connecting after that many seconds)."""
    extra: dict[str, Any] = (
        {} if timeout_s is None else {"connect_timeout": max(1, round(timeout_s))}
    )
    try:
        raw = psycopg.connect(
            url,
            autocommit=True,
            row_factory=dict_row,
            cursor_factory=psycopg.RawCursor,
            **extra,
            **client_timeouts(DATA_TIMEOUT_S),
        )
        raw.execute(server_timeouts_sql(DATA_TIMEOUT_S))  # a dead client's locks go: pg_net.py
    except psycopg.Error as exc:
        raise connect_error(url, exc) from None
    _numeric_as_number(raw)
    return PgConn(raw)


class CannotConnect(StorageError):
    """PostgreSQL refused the connection for a reason that trying again cannot fix: wrong
    password, no such role or database, unknown host, a malformed URL."""


# SQLSTATEs of a refusal for good: invalid_password, invalid_authorization_specification
# (no such role, no pg_hba.conf entry), invalid_catalog_name (no such database),
# insufficient_privilege (no CONNECT right)
PERMANENT_STATES = frozenset({"28P01", "28000", "3D000", "42501"})
# libpq and psycopg do not give the server's SQLSTATE of a failed connection: its text then
PERMANENT_TEXTS = (
    "authentication failed",
    "no password supplied",
    "pg_hba.conf",
    "does not exist",
    "permission denied",
    "failed to resolve host",
    "could not translate host name",
    "connection is bad: invalid",
)
TRANSIENT_TEXTS = ("temporary failure in name resolution",)  # DNS down, not an unknown name


def is_permanent(exc: psycopg.Error) -> bool:
    """True when a failed connection will fail the same way however often it is tried
    (``swarm run`` stops then); False for what passes (refused while the server restarts,
    starting up, shutting down, too many clients, a timeout)."""
    if isinstance(exc, psycopg.ProgrammingError):  # the URL itself does not parse
        return True
    if exc.sqlstate in PERMANENT_STATES:
        return True
    text = str(exc).lower()
    if any(t in text for t in TRANSIENT_TEXTS):
        return False
    return any(t in text for t in PERMANENT_TEXTS)


def connect_error(url: str, exc: psycopg.Error) -> StorageError:
    """The one-line error of a failed connection to ``url``, credentials removed (also from
    the parts of the URL the driver quotes): CannotConnect when it is for good."""
    text = str(exc).strip()
    line = redact_quoted(text.splitlines()[0] if text else type(exc).__name__, url)
    kind = CannotConnect if is_permanent(exc) else StorageError
    return kind(f"cannot connect to PostgreSQL at {redact_urls(url)}: {line}")


def error_line(exc: BaseException) -> str:
    """The first line of a driver error, credentials removed (fit to log)."""
    text = str(exc).strip()
    return redact_urls(text.splitlines()[0] if text else type(exc).__name__)


def _numeric_as_number(raw: psycopg.Connection[Any]) -> None:
    """``numeric`` (what ``sum()`` of integers gives) as an int or a float, as in SQLite;
    every Python int sent as ``bigint`` (SQLite's one integer type)."""
    from psycopg.types.numeric import Int8BinaryDumper, Int8Dumper, NumericLoader

    class Loader(NumericLoader):
        def load(self, data: Any) -> Any:
            value = super().load(data)
            return int(value) if value == value.to_integral_value() else float(value)

    raw.adapters.register_loader("numeric", Loader)
    raw.adapters.register_dumper(int, Int8Dumper)
    raw.adapters.register_dumper(int, Int8BinaryDumper)


def run_in_transaction(conn: PgConn, fn: Callable[..., T], *args: Any) -> T:
    """``fn(conn, *args)`` in one ``READ COMMITTED`` transaction beside other writers (no
    global lock: ``fn`` holds the rows it decides on, ``core.store.row_locks``), run again
    whole when the server ends it as a deadlock; a commit that changed rows notifies
    ``swarm_changes`` (unless ``notify_changes`` is off: in the scheduler's process) and
    then advances the data version (``CLOCK``, what ``PRAGMA data_version`` reads here)."""
    notify = f"NOTIFY {CHANGES_CHANNEL}; " if conn.notify_changes else ""
    on_change = (notify, f"; {CLOCK_BUMP}")
    for tries in range(1, RETRY_LIMIT + 1):
        try:
            return _transaction(conn, "BEGIN", on_change, fn, *args)
        except Conflict:
            if tries == RETRY_LIMIT:
                raise
            log.info("write transaction ended as a deadlock; running it again")
    raise AssertionError("unreachable")


def run_unlocked(conn: PgConn, fn: Callable[..., T], *args: Any) -> T:
    """``fn(conn, *args)`` in one transaction that does not advance the data version: for
    functions written for concurrent writers that change nothing the scheduler waits for
    (row locks, ``SKIP LOCKED``), such as a node's claims."""
    return _transaction(conn, "BEGIN", None, fn, *args)


def run_locked(conn: PgConn, lock: int, fn: Callable[..., T], *args: Any) -> T:
    """``fn(conn, *args)`` in one transaction holding the advisory lock ``lock``."""
    return _transaction(conn, f"BEGIN; SELECT pg_advisory_xact_lock({int(lock)})", None, fn, *args)


def _transaction(
    conn: PgConn,
    begin: str,
    on_change: tuple[str, str] | None,
    fn: Callable[..., T],
    *args: Any,
) -> T:
    """``begin``, ``fn``, then the events ``fn`` wrote (held until now) and COMMIT in one
    round trip, with ``on_change``'s two parts before and after the COMMIT when rows
    changed; ROLLBACK if any of it fails."""
    before = conn.total_changes
    with _errors():
        conn.raw.execute(begin)
    conn.hold_events(True)
    try:
        result = fn(conn, *args)
        conn.go_on()  # a cancelled caller's transaction never commits
        events = conn.held_events_sql()
        bump = on_change is not None and conn.total_changes != before
        with _errors():
            before_commit, after_commit = on_change if bump and on_change is not None else ("", "")
            conn.raw.execute(f"{events}{before_commit}COMMIT{after_commit}")
    except BaseException:
        conn.hold_events(False)
        conn.total_changes = before
        _rollback(conn)
        raise
    if bump:
        conn.own_bumps += 1
    return result


def _rollback(conn: PgConn) -> None:
    if not conn.raw.broken and not conn.raw.closed:
        try:
            conn.raw.execute("ROLLBACK")
        except psycopg.Error:
            log.warning("rollback failed; the connection will be replaced")


def migrate(conn: PgConn, migrations: tuple[tuple[str, ...], ...]) -> int:
    """Apply ``migrations`` not yet applied, in one locked transaction (so processes that
    start together on an empty database create the schema once); the version. A database
    already current is read in one statement, without the lock: the 32 MCP servers of a
    fleet's agents opening the store together waited in line for it, each for the others'
    seven catalog reads (3-5 s at a day's start on a busy machine)."""
    if _is_current(conn, len(migrations)):
        return len(migrations)
    return run_locked(conn, MIGRATE_LOCK, _apply, migrations)


# everything ``_apply`` makes, read at once: the schema's version and the objects made
# beside the migrations (the clock, the node wake, the prompt wake, the outbox's default)
_CURRENT = (
    "SELECT (SELECT version FROM swarm_schema WHERE id = 1) AS version, "
    f"to_regclass('{CLOCK}') IS NOT NULL AS clock, "
    "EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'swarm_delivery_queued' "
    "AND strpos(prosrc, 'md5(NEW.agent_id)') > 0) AS wake_function, "
    "EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'deliveries_queued') AS wake, "
    "EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'agent_prompts_settled') AS prompt_wake, "
    "NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'events' "
    "AND column_name = 'txid' AND table_schema = current_schema() AND "
    "strpos(coalesce(column_default, ''), 'pg_current_xact_id') = 0) AS outbox"
)


def _is_current(conn: PgConn, version: int) -> bool:
    """Whether the database is at ``version`` with all ``_apply`` makes (False for one
    swarm has not used yet: no ``swarm_schema``)."""
    try:
        row = conn.raw.execute(_CURRENT).fetchone()
    except psycopg.errors.UndefinedTable:
        return False
    return (
        row is not None
        and row["version"] == version
        and all(row[k] for k in ("clock", "wake_function", "wake", "prompt_wake", "outbox"))
    )


def _apply(conn: PgConn, migrations: tuple[tuple[str, ...], ...]) -> int:
    # what this makes beside the migrations, ``_CURRENT`` reads: a change here changes it

    exists = conn.raw.execute("SELECT to_regclass('swarm_schema')").fetchone()
    if exists is None or exists["to_regclass"] is None:
        for statement in _SCHEMA:
            conn.raw.execute(statement)
    current = schema_version(conn)
    if current > len(migrations):
        raise DatabaseTooNew(
            f"database schema version {current} is newer than this swarm "
            f"({len(migrations)}): upgrade swarm or point SWARM_DATABASE_URL elsewhere"
        )
    for version in range(current + 1, len(migrations) + 1):
        for step in migrations[version - 1]:
            conn.raw.execute(step)
    if current < len(migrations):
        log.info("%s", migrated_text(current, len(migrations)))
        conn.raw.execute("UPDATE swarm_schema SET version = $1 WHERE id = 1", (len(migrations),))
        conn.total_changes += 1
    if _regclass(conn, CLOCK) is None:
        conn.raw.execute(f"CREATE SEQUENCE {CLOCK}")
    _node_wake(conn)
    if not _has_trigger(conn, "agent_prompts_settled"):
        for statement in _PROMPT_WAKE:
            conn.raw.execute(statement)
    if _no_txid_default(conn):
        for statement in _OUTBOX:
            conn.raw.execute(statement)
    return max(current, len(migrations))


def _regclass(conn: PgConn, name: str) -> str | None:
    """The relation (table, sequence) called ``name``, or None when there is none."""
    row = conn.raw.execute("SELECT to_regclass($1)::text AS found", (name,)).fetchone()
    return None if row is None or row["found"] is None else str(row["found"])


def clock_version(conn: Conn) -> int:
    """How many commits that changed rows advanced the data version (``CLOCK``) so far. A
    ``PgDatabase``'s connection only."""
    row = (
        cast(PgConn, conn)
        .raw.execute(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS v FROM {CLOCK}")
        .fetchone()
    )
    return int(row["v"]) if row else 0


def _has_trigger(conn: PgConn, name: str) -> bool:
    """True when the database has a trigger called ``name``."""
    found = conn.raw.execute("SELECT 1 FROM pg_trigger WHERE tgname = $1", (name,)).fetchone()
    return found is not None


def _node_wake(conn: PgConn) -> None:
    """Create the trigger that wakes a node, or bring its function up to date (a database
    made before the channel per agent notified one channel that every node heard)."""
    found = conn.raw.execute(
        "SELECT prosrc FROM pg_proc WHERE proname = 'swarm_delivery_queued'"
    ).fetchone()
    if found is None or "md5(NEW.agent_id)" not in str(found["prosrc"]):
        conn.raw.execute(_WAKE_FUNCTION)
    if not _has_trigger(conn, "deliveries_queued"):
        conn.raw.execute(_WAKE_TRIGGER)


def _no_txid_default(conn: PgConn) -> bool:
    """True when ``events.txid`` exists without its PostgreSQL default (the outbox DDL is
    due: the migration gave it SQLite's 0)."""
    row = conn.raw.execute(
        "SELECT column_default FROM information_schema.columns WHERE table_name = 'events' "
        "AND column_name = 'txid' AND table_schema = current_schema()"
    ).fetchone()
    return row is not None and "pg_current_xact_id" not in str(row["column_default"])


READERS = 4  # most reader connections per process (the dashboard, the notifier, exports)
TIMING_MIN_S = 0.1  # a write call that waited and ran this long gets a timing: line (debug)


class PgDatabase:
    """PostgreSQL for one process: writes on one connection in one worker thread (the
    scheduler's and this process's writes, in order, those made under
    ``core.store.calls.urgent`` first: a node's prompts and receipts), reads on a pool of
    up to ``readers`` connections with threads of their own (``psycopg_pool``), so a reader
    never queues behind a write. The pool starts empty and opens a connection when a read needs one;
    ``readers=0`` (a delivery node: its few reads are its own, between its own writes) opens
    no pool and reads on the write connection, so a node costs the server two connections
    (this one and its LISTEN). A call whose caller is cancelled stops at its next statement."""

    serves_nodes = True  # delivery nodes on other machines share it
    listens = True  # commits NOTIFY swarm_changes, queued deliveries swarm_delivery
    read_only: str | None = None  # a server: opened to write, or not at all

    def __init__(self, url: str, conn: PgConn, pool: OneWorker, readers: int = READERS) -> None:
        self.url = url
        self._conn = conn
        self._pool = pool
        self._notify = True
        self._fenced: str | None = None
        self._lost = False  # the write connection was lost: said once, until it is back
        self._readers: ThreadPoolExecutor | None = None
        self._read_pool: psycopg_pool.ConnectionPool[psycopg.Connection[dict[str, Any]]] | None
        self._read_pool = None
        if readers > 0:
            self._readers = ThreadPoolExecutor(
                max_workers=readers, thread_name_prefix="swarm-pg-read"
            )
            self._read_pool = _reader_pool(url, readers)

    @property
    def path(self) -> str:
        """Where the data lives, fit to show (credentials removed)."""
        return redact_urls(self.url)

    @classmethod
    async def open(cls, url: str, readers: int = READERS) -> PgDatabase:
        """Connect to ``url`` and migrate to the latest schema (``readers``: the most reader
        connections; 0: reads share the write connection)."""
        pool = OneWorker("swarm-pg")
        loop = asyncio.get_running_loop()
        try:
            conn = await loop.run_in_executor(pool, connect, url)
        except BaseException:
            pool.shutdown(wait=False)
            raise
        db = cls(url, conn, pool, readers)
        try:
            await db._call(migrate, dialect_migrations("postgres"))
        except BaseException:
            await db.close()
            raise
        return db

    async def close(self) -> None:
        """Close the connections and their threads."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool, self._conn.raw.close)
        self._pool.shutdown(wait=True)
        if self._readers is not None and self._read_pool is not None:
            await loop.run_in_executor(self._readers, self._read_pool.close)
            self._readers.shutdown(wait=True)

    async def read(self, fn: Callable[[Conn, *Ts], T], *args: *Ts) -> T:
        """Run ``fn(conn, *args)`` outside any write transaction, on a reader connection
        (without readers: on the write connection, between writes)."""
        if self._readers is None:
            return await self._submit(self._pool, self._run, fn, args)
        return await self._submit(self._readers, self._read, fn, args)

    async def write(self, fn: Callable[[Conn, *Ts], T], *args: *Ts) -> T:
        """Run ``fn(conn, *args)`` as one atomic write transaction (beside other writers:
        ``run_in_transaction``)."""
        return await self._call(run_in_transaction, fn, *args)

    async def write_concurrent(self, fn: Callable[[Conn, *Ts], T], *args: *Ts) -> T:
        """Run ``fn(conn, *args)`` as one transaction beside other writers (row locks)."""
        return await self._call(run_unlocked, fn, *args)

    def notify_changes(self, on: bool) -> None:
        """Whether this connection's commits NOTIFY ``swarm_changes``: off in the process
        that runs the scheduler (the only listener, woken by its own writes directly)."""
        self._notify = on
        self._conn.notify_changes = on

    def backend_pid(self) -> int:
        """The server process of the write connection (its own notifications carry it)."""
        return int(self._conn.raw.info.backend_pid)

    async def listen(
        self,
        channel: Channel,
        heard: Callable[[int, str], None],
        ready: Callable[[], None],
        what: str,
        agents: Sequence[str] = (),
    ) -> None:
        """LISTEN ``swarm_changes``, or the delivery channels of ``agents``
        (``swarm_delivery_<md5>``, their names read from the server), on a connection of its
        own until cancelled (``core.store.postgres.listen``)."""

        if channel == "changes":
            await listen(self.url, CHANGES_CHANNEL, heard, ready, what)
            return
        while True:
            try:
                names = await self.read(delivery_channels, list(agents))
                break
            except Exception as exc:  # unreachable: tried again, as the listener does
                log.warning("%s: channels not read (%s); again in 1 s", what, exc)
                await asyncio.sleep(1.0)
        await listen(self.url, names, heard, ready, what)

    def watch_prompt(self, prompt_id: int) -> CommitWait:
        """A LISTEN for the prompt's own ``swarm_prompt`` notification (sent by a trigger when
        it is decided or closed; ``core.store.postgres.listen.NotifyWait``), on a connection
        of its own; without one (unreachable), a wait that reads each time."""

        found = NotifyWait.open(self.url, PROMPT_CHANNEL, str(prompt_id))
        return found if found is not None else CommitWatch(None)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._submit(self._pool, self._run, fn, args)

    async def _submit(
        self,
        executor: Executor,
        run: Callable[[Callable[..., T], tuple[Any, ...], StoreCall], T],
        fn: Callable[..., T],
        args: tuple[Any, ...],
    ) -> T:
        call = StoreCall()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(executor, run, fn, args, call)
        except asyncio.CancelledError:
            call.abandoned = True  # the thread stops at its next statement (rolls back)
            raise

    def fence(self, reason: str) -> None:
        """Refuse all work from now on, and cut the connection under a statement in flight
        (this process lost the scheduler lock: nothing it started may commit later, when
        its network comes back; ``core/store/postgres/failover.py``)."""
        self._fenced = reason
        shut_down(self._conn.raw)  # the worker thread's statement in flight fails at once

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...], call: StoreCall) -> T:
        if self._fenced is not None:
            raise StorageError(self._fenced)
        if call.abandoned:
            raise Abandoned("cancelled before it started")
        if self._conn.raw.closed or self._conn.raw.broken:
            if not self._lost:
                log.warning("the PostgreSQL connection was lost; reconnecting")
            self._lost = True
            bumps = self._conn.own_bumps
            self._conn = connect(self.url)
            self._conn.own_bumps = bumps
            self._conn.notify_changes = self._notify
            log.warning("reconnected to PostgreSQL")
            self._lost = False
        self._conn.call = call
        started = time.perf_counter()
        try:
            with _errors():  # what a statement's own mapping did not see (data_version, DDL)
                return fn(self._conn, *args)
        finally:
            if log.isEnabledFor(logging.DEBUG):
                _timing(fn, args, call, started)

    def _read(self, fn: Callable[..., T], args: tuple[Any, ...], call: StoreCall) -> T:
        if self._fenced is not None:
            raise StorageError(self._fenced)
        assert self._read_pool is not None  # reads without a pool go to ``_run``
        try:
            with self._read_pool.connection(timeout=DATA_TIMEOUT_S) as raw:
                conn = PgConn(raw)
                conn.own_bumps = self._conn.own_bumps  # data_version: this process's commits
                conn.call = call
                with _errors():
                    return fn(conn, *args)
        except psycopg_pool.PoolTimeout as exc:
            raise StorageError(f"cannot connect to PostgreSQL at {self.path}: {exc}") from None


def _timing(fn: Callable[..., Any], args: tuple[Any, ...], call: StoreCall, started: float) -> None:
    """A ``timing:`` line (``swarm node --timings``) for a write connection's call that
    waited or ran long: what it was, its wait in the queue and its run."""
    waited, ran = started - call.queued, time.perf_counter() - started
    if waited + ran >= TIMING_MIN_S:
        inner = [getattr(f, "__name__", "?") for f in itertools.takewhile(callable, args)]
        name = " ".join([getattr(fn, "__name__", "?"), *inner[-1:]])  # the call, what it ran
        log.debug("timing: store call %s waited %.0f ms, ran %.0f ms", name, waited * 1e3,
                  ran * 1e3)  # fmt: skip


def _reader_pool(
    url: str, readers: int
) -> psycopg_pool.ConnectionPool[psycopg.Connection[dict[str, Any]]]:
    """Up to ``readers`` reader connections, none opened until a read needs one (a broken
    one is replaced; one idle for ``max_idle`` seconds is closed)."""

    def configure(raw: psycopg.Connection[Any]) -> None:
        raw.execute(server_timeouts_sql(DATA_TIMEOUT_S))
        _numeric_as_number(raw)

    pool: psycopg_pool.ConnectionPool[psycopg.Connection[dict[str, Any]]] = (
        psycopg_pool.ConnectionPool(
            url,
            min_size=0,
            max_size=readers,
            kwargs={
                "autocommit": True,
                "row_factory": dict_row,
                "cursor_factory": psycopg.RawCursor,
                **client_timeouts(DATA_TIMEOUT_S),
            },
            configure=configure,
            check=psycopg_pool.ConnectionPool.check_connection,
            name="swarm-pg-read",
            open=False,
        )
    )
    pool.open(wait=False)
    return pool
