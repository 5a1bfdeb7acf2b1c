"""``swarm db copy``: a SQLite home's database into an empty PostgreSQL one, checked by counts.

The source is read in one read transaction (a consistent snapshot, even while a coordinator
writes to it in WAL mode) and must be at this swarm's schema version; the destination is
migrated, must hold no rows, and is written in one transaction (
``COPY`` per table, parents before children by the SQLite foreign keys), after which each
identity sequence is moved past the copied ids and every table's row count is compared.
A failure anywhere writes nothing.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError, InvalidState, StorageError
from core.privacy.redact import redact_urls
from core.store.migrations import LATEST
from core.store.sqlite import user_version

SKIP_TABLES = {"swarm_schema", "swarm_clock"}


@dataclass(frozen=True)
class CopyReport:
    """Rows copied per table (each checked equal in both databases)."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Rows copied in all."""
        return sum(self.counts.values())


def sqlite_path(url: str) -> Path:
    """``sqlite:///path/to/swarm.db`` → the file; ConfigError for anything else."""
    if not url.startswith("sqlite:///"):
        raise ConfigError(f"--from must be a sqlite:///path URL, got {redact_urls(url)!r}")
    path = Path(url[len("sqlite://") :]).expanduser()
    if not path.is_file():
        raise ConfigError(f"--from: no database file at {path}")
    return path


def copy(source: Path, url: str) -> CopyReport:
    """Copy every table of the SQLite file ``source`` into the PostgreSQL database ``url``."""
    from core.store.migrations import migrations
    from core.store.postgres.store import connect, migrate, run_in_transaction

    with _snapshot(source) as lite:
        version = user_version(lite)
        if version != LATEST:
            raise InvalidState(
                f"{source} is at schema version {version}, this swarm at "
                f"{LATEST}: run any swarm command on it first (it migrates)"
            )
        tables = _ordered_tables(lite)
        pg = connect(url)
        try:
            migrate(pg, migrations("postgres"))
            return run_in_transaction(pg, _copy_all, lite, tables)
        finally:
            pg.raw.close()


@contextlib.contextmanager
def _snapshot(path: Path) -> Iterator[sqlite3.Connection]:
    lite = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        lite.execute("BEGIN")  # one snapshot for every table
        yield lite
        lite.execute("COMMIT")
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read {path}: {exc}") from None
    finally:
        lite.close()


def _ordered_tables(lite: sqlite3.Connection) -> list[str]:
    """The source's tables, each after the tables its foreign keys point to."""
    names = [
        r[0]
        for r in lite.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    parents = {
        name: {r[2] for r in lite.execute(f'PRAGMA foreign_key_list("{name}")')} - {name}
        for name in names
    }
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and parents[n] <= set(ordered)]
        if not ready:
            raise InvalidState("the source's foreign keys form a cycle")
        ordered += ready
    return [n for n in ordered if n not in SKIP_TABLES]


def _copy_all(pg: object, lite: sqlite3.Connection, tables: list[str]) -> CopyReport:
    from core.store.postgres.store import PgConn

    assert isinstance(pg, PgConn)
    known = {
        r["table_name"]
        for r in pg.raw.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    }
    identity = {
        r["table_name"]
        for r in pg.raw.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND column_name = 'id' AND is_identity = 'YES'"
        )
    }
    missing = [t for t in tables if t not in known]
    if missing:
        raise InvalidState(f"the destination has no table {', '.join(missing)}")
    filled = [t for t in tables if pg.raw.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone()]
    if filled:
        raise InvalidState(
            f"the destination is not empty ({', '.join(filled)} have rows): "
            "copy into a new database"
        )
    counts: dict[str, int] = {}
    for table in tables:
        columns = [r[1] for r in lite.execute(f'PRAGMA table_info("{table}")')]
        with pg.raw.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as out:
            for row in lite.execute(f'SELECT * FROM "{table}"'):
                out.write_row(row)
        if table in identity:
            pg.raw.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            )
        counts[table] = _checked_count(pg, lite, table)
    pg.total_changes += sum(counts.values())
    return CopyReport(counts)


def _checked_count(pg: object, lite: sqlite3.Connection, table: str) -> int:
    from core.store.postgres.store import PgConn

    assert isinstance(pg, PgConn)
    want = int(lite.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
    row = pg.raw.execute(f"SELECT count(*) AS n FROM {table}").fetchone()
    got = int(row["n"]) if row else -1
    if got != want:
        raise StorageError(f"{table}: {want} rows in the source, {got} copied: nothing kept")
    return got
