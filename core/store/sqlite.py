"""SQLite connection set-up and numbered migrations (version in ``PRAGMA user_version``)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, TypeVarTuple, cast

import aiosqlite

from core.errors import ConfigError, DatabaseTooNew, StorageError
from core.privacy.files import create_empty, make_dirs

if TYPE_CHECKING:
    from core.settings import Settings
    from core.store.commit_watch import CommitWait

from core.errors import Busy, StoreError, Unavailable
from core.store.calls import Abandoned, StoreCall
from core.store.conn import MIN_SQLITE, Channel, Conn, SqliteConn, sqlite_error
from core.store.migrations import LATEST, migrated_text, migrations

log = logging.getLogger(__name__)


T = TypeVar("T")
Ts = TypeVarTuple("Ts")  # a transaction's own arguments, checked against its function


class Store(Protocol):
    """What the service needs of a database: SQLite (``Database``) or PostgreSQL
    (``core.store.postgres.store.PgDatabase``), chosen by ``open_store``.

    ``serves_nodes``: other machines' delivery nodes share this database (PostgreSQL); on a
    store that cannot, the agents' ``node`` is ignored and the coordinator delivers to all.
    ``listens``: other processes' commits are announced and ``listen`` hears them as they
    happen (PostgreSQL); else a reader notices them through ``data_version`` (SQLite).
    ``read_only``: why this store only reads (opened for a command that only reads, when it
    could not be opened to write: a full disk), None when it writes.
    """

    serves_nodes: bool
    listens: bool
    read_only: str | None

    async def read(self, fn: Callable[[Conn, *Ts], T], *args: *Ts) -> T:
        """Run ``fn(conn, *args)`` outside any write transaction."""

    async def write(self, fn: Callable[[Conn, *Ts], T], *args: *Ts) -> T:
        """Run ``fn(conn, *args)`` as one atomic write transaction."""

    async def write_concurrent(self, fn: Callable[[Conn, *Ts], T], *args: *Ts) -> T:
        """Run ``fn(conn, *args)`` as one transaction written for concurrent writers (row
        locks, ``SKIP LOCKED``, conditional updates): a node's claims, its heartbeat."""

    def notify_changes(self, on: bool) -> None:
        """Whether this store's commits tell other processes (off where the one listener,
        the scheduler, runs: its own writes wake it directly)."""

    def backend_pid(self) -> int:
        """The server process whose notifications are this store's own (0: none)."""

    async def listen(
        self,
        channel: Channel,
        heard: Callable[[int, str], None],
        ready: Callable[[], None],
        what: str,
        agents: Sequence[str] = (),
    ) -> None:
        """Until cancelled: ``heard(pid, payload)`` for each announcement on ``channel``
        (``deliveries``: those of ``agents``), ``ready()`` each time it (re)starts listening
        (catch up then), failures logged as ``what`` and retried; StorageError on a store
        that does not ``listens``."""

    def fence(self, reason: str) -> None:
        """Refuse all work from now on (raising StorageError(reason)) and cut any statement
        in flight: this process lost the scheduler lock."""

    def watch_prompt(self, prompt_id: int) -> CommitWait:
        """A wait for another process's decision of permission prompt ``prompt_id`` (a
        waiting ``PermissionRequest`` hook): woken by the change where the store can tell,
        else one that says "changed" at every look (the caller reads each time)."""

    async def close(self) -> None:
        """Close the connection."""


async def open_store(
    settings: Settings, *, readers: int | None = None, reads_only: bool = False
) -> Store:
    """PostgreSQL when ``settings.database_url`` is set, else the SQLite file in the home
    (``readers``: PostgreSQL's most reader connections, 0 to read on the write connection;
    ``None``: the default, ``core.store.postgres.store.READERS``; ``reads_only``: for a command
    that only reads, ``Database.open``'s)."""
    if settings.database_url:
        try:
            from core.store.postgres.store import PgDatabase  # psycopg: only for a PostgreSQL store
        except ImportError as exc:
            raise ConfigError(
                f"SWARM_DATABASE_URL needs psycopg ({exc.name} is missing): "
                "pip install 'swarm[postgresql]'"
            ) from None
        if readers is None:
            return await PgDatabase.open(settings.database_url)
        return await PgDatabase.open(settings.database_url, readers)
    return await Database.open(settings.db_path, settings.busy_timeout_s, reads_only=reads_only)


def missing_file(settings: Settings) -> Path | None:
    """The SQLite file of ``settings`` when it does not exist (``open_store`` would create
    it); None when it exists, or when the store is PostgreSQL's."""
    if settings.database_url or settings.db_path.exists():
        return None
    return settings.db_path


class Database:
    """One aiosqlite connection; each read or write runs whole in its worker thread.

    Store functions are plain functions of a ``sqlite3.Connection``. ``write`` runs one of
    them inside ``BEGIN IMMEDIATE`` ... ``COMMIT`` as a single hop to the connection's
    thread, so a transaction never interleaves with another coroutine's statements and
    costs one thread switch instead of one per statement.
    """

    serves_nodes = False  # one machine: no delivery nodes
    listens = False  # other processes' commits show in PRAGMA data_version

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._aio = conn
        self.path = path
        self._fenced: str | None = None
        self.read_only: str | None = None

    @classmethod
    async def open(
        cls, path: Path, busy_timeout_s: float = 30.0, *, reads_only: bool = False
    ) -> Database:
        """Open ``path`` in WAL mode with a busy timeout, migrated to the latest version.

        ``reads_only`` (for a command that only reads): when the file cannot be opened so
        (a full disk, a read-only home: even a reader must make the ``-shm`` file), it is
        opened to read without writing anything (``read_only`` says why; ``write`` refuses);
        when that fails too, the first error is raised."""
        try:
            return await cls._open(path, busy_timeout_s)
        except Unavailable as exc:
            if not reads_only:
                raise
            try:
                db = await cls._open_reading(path, busy_timeout_s)
            except Exception as second:
                log.debug("%s: cannot be read either: %s", path, second)
                raise exc from None
            db.read_only = str(exc)
            return db

    @classmethod
    async def _open_reading(cls, path: Path, busy_timeout_s: float) -> Database:
        """``path`` opened to read, writing nothing (no ``-shm`` made, no migration)."""
        try:
            conn = await aiosqlite.connect(
                reading_uri(path),
                uri=True,
                isolation_level=None,
                timeout=busy_timeout_s,
                factory=SqliteConn,
            )
        except sqlite3.Error as exc:
            raise sqlite_error(exc) from exc
        db = cls(conn, path)
        try:
            await check_thread_access(conn)
            await db._call(_setup_reading, busy_timeout_s)
        except BaseException:
            await conn.close()
            raise
        return db

    @classmethod
    async def _open(cls, path: Path, busy_timeout_s: float) -> Database:
        """``path`` opened to read and write, in WAL mode, migrated."""
        check_sqlite_version()
        try:
            make_dirs(path.parent)
            create_empty(path)  # 0600 before SQLite makes it: its -wal and -shm copy the mode
        except OSError as exc:
            raise StorageError(
                f"cannot use {path.parent} as the swarm's home (SWARM_HOME): {exc.strerror}"
            ) from None
        try:
            conn = await aiosqlite.connect(
                path, isolation_level=None, timeout=busy_timeout_s, factory=SqliteConn
            )
        except sqlite3.Error as exc:
            raise sqlite_error(exc) from exc
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

    async def read(self, fn: Callable[[Conn, *Ts], T], *args: *Ts) -> T:
        """Run ``fn(conn, *args)`` outside any write transaction."""
        return await self._call(fn, *args)

    async def write(self, fn: Callable[[Conn, *Ts], T], *args: *Ts) -> T:
        """Run ``fn(conn, *args)`` as one atomic write transaction; rolled back, not
        committed, when the caller is cancelled meanwhile."""
        if self.read_only is not None:
            raise Unavailable(self.read_only)
        call = StoreCall()
        try:
            return await self._call(run_in_transaction, _unless_abandoned, call, fn, *args)
        except asyncio.CancelledError:
            call.abandoned = True
            raise

    async def write_concurrent(self, fn: Callable[[Conn, *Ts], T], *args: *Ts) -> T:
        """As ``write``: SQLite has one writer at a time whatever the function."""
        return await self.write(fn, *args)

    def notify_changes(self, on: bool) -> None:
        """Nothing to switch: other processes see SQLite's commits by ``data_version``."""

    def backend_pid(self) -> int:
        """No server process."""
        return 0

    async def listen(
        self,
        channel: Channel,
        heard: Callable[[int, str], None],
        ready: Callable[[], None],
        what: str,
        agents: Sequence[str] = (),
    ) -> None:
        """SQLite announces nothing: StorageError (callers check ``listens``)."""
        raise StorageError(
            f"{what}: SQLite announces no {channel} to listen for (other processes' commits "
            "show in PRAGMA data_version); listening needs PostgreSQL (SWARM_DATABASE_URL)"
        )

    def fence(self, reason: str) -> None:
        """Refuse all work from now on (a statement in flight ends by itself: no network)."""
        self._fenced = reason

    def watch_prompt(self, prompt_id: int) -> CommitWait:
        """Any commit to this file (``core.store.commit_watch``: ``PRAGMA data_version``,
        woken by inotify on its ``-wal``); the caller reads its prompt after each."""
        from core.store.commit_watch import CommitWatch

        try:
            return CommitWatch(self.path)
        except StoreError as exc:
            log.debug("no commit watch (%s): the prompt is read each time", exc)
            return CommitWatch(None)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._fenced is not None:
            raise StorageError(self._fenced)
        try:
            return await _in_thread(self._aio, fn, *args)
        except sqlite3.Error as exc:  # one a statement's own mapping did not see (a fetch)
            raise sqlite_error(exc) from exc


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
        f"pip install 'aiosqlite{TESTED_AIOSQLITE}'"
    )


def check_sqlite_version(found: tuple[int, ...] = sqlite3.sqlite_version_info) -> None:
    """Raise ConfigError when the SQLite library is older than the SQL needs."""
    if found < MIN_SQLITE:
        raise ConfigError(
            f"SQLite {'.'.join(map(str, found))} is too old: swarm needs "
            f"{'.'.join(map(str, MIN_SQLITE))} or later (RETURNING); use a Python built "
            "with a newer SQLite, or SWARM_DATABASE_URL for PostgreSQL"
        )


def check_writable(path: Path, busy_timeout_s: float) -> None:
    """Take the write lock of the SQLite file ``path`` and write nothing (``swarm doctor``);
    StoreError when it cannot."""
    try:
        conn = sqlite3.connect(path, timeout=busy_timeout_s)
        try:
            conn.execute("BEGIN IMMEDIATE")  # takes the write lock, writes nothing
            conn.rollback()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise sqlite_error(exc) from exc


def _unless_abandoned(
    conn: sqlite3.Connection, call: StoreCall, fn: Callable[..., T], *args: Any
) -> T:
    """``fn(conn, *args)``, then Abandoned (the transaction rolls back) if the caller went."""
    result = fn(conn, *args)
    if call.abandoned:
        raise Abandoned("the caller was cancelled")
    return result


def _connection_and_thread(conn: sqlite3.Connection) -> tuple[sqlite3.Connection, int]:
    return conn, threading.get_ident()


def _version(dist: str) -> str:
    from importlib import metadata  # 30 ms: only on the way to an error

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "(version unknown)"


# WAL pages after which a commit copies the WAL back into the database file (SQLite's default
# is 1,000). A lifecycle writes ~26 pages, most of them the same hot index leaves again; a
# checkpoint copies each distinct page once and syncs twice, so a longer WAL (16 MiB at 4 KiB
# pages) copies and syncs less per lifecycle (docs/performance.md).
WAL_CHECKPOINT_PAGES = 4000


def _setup(conn: sqlite3.Connection, busy_timeout_s: float) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
    if int(conn.execute("PRAGMA page_count").fetchone()[0]) == 0:
        # new files only (core/coordinator/retention.py); on a file with tables it writes nothing
        # but asks to write (a full disk refused every reader)
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    _use_wal(conn, busy_timeout_s)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
    conn.execute("PRAGMA foreign_keys = ON")


# the size of a WAL file's index (``-shm``) once any connection has the file open in WAL mode
SHM_MIN = 32_768


def reading_uri(path: Path) -> str:
    """The URI that reads ``path`` writing nothing: ``immutable=1`` (no locks, no ``-shm``)
    when its WAL holds nothing and no connection has it open (each has a full ``-shm``):
    every commit is in the file itself and no writer can come without making the ``-shm``;
    else ``mode=ro``, through the WAL and the ``-shm`` that exist."""
    wal, shm = (path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))
    idle = _size(wal) == 0 and _size(shm) < SHM_MIN
    return f"{path.resolve().as_uri()}?{'immutable=1' if idle else 'mode=ro'}"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _setup_reading(conn: sqlite3.Connection, busy_timeout_s: float) -> None:
    """A reading connection's set-up: nothing written; StoreError when the file is not at
    this swarm's schema version (a migration would write)."""
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    found = user_version(conn)
    if found > LATEST:
        raise DatabaseTooNew(
            f"database schema version {found} is newer than this swarm ({LATEST}): upgrade "
            "swarm or point SWARM_HOME elsewhere"
        )
    if found < LATEST:
        raise StoreError(f"the database (version {found}) needs migrating to {LATEST}")


def _use_wal(conn: sqlite3.Connection, busy_timeout_s: float) -> None:
    """Put the file in WAL mode (it stays so). Two processes opening a new file at once may
    both find it in rollback mode: the one that switches second can get ``database is
    locked`` at once, SQLite's busy handler not being called for that change, so it is
    tried again here (reading the mode first: the other may have switched it) until
    ``busy_timeout_s``."""
    deadline = time.monotonic() + busy_timeout_s
    while True:
        if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return  # a file that cannot be WAL (another file system) stays as it is
        except Busy:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


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
        for statement in migrations("sqlite")[version - 1]:
            conn.execute(statement)
    if target > current:
        log.info("%s", migrated_text(current, target))
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
