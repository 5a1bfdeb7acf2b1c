"""One hot statement through the store's connection interface, the bare drivers, and
SQLAlchemy Core's ``text()``, on SQLite and PostgreSQL (issue 25: what the interface costs,
and whether SQLAlchemy Core would be the cheaper way to run one SQL text on both).

Run: .venv/bin/python bench/sql_interface.py [--rounds 20000]
The statement is a point read by primary key plus the update of that row (the shape of a
claim or a receipt). Prints microseconds per statement pair and ratios against the bare
driver in the same run; asserts nothing. Results are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.store.conn import SqliteConn
from tests.pgcluster import cluster, pg_bin_dir

ROWS = 1000
SCHEMA = "CREATE TABLE t (id INTEGER PRIMARY KEY, state TEXT NOT NULL, n INTEGER NOT NULL)"
READ_Q = "SELECT id, state, n FROM t WHERE id = $1"
WRITE_Q = "UPDATE t SET n = n + 1 WHERE id = $1"
READ_N = "SELECT id, state, n FROM t WHERE id = $1"
WRITE_N = "UPDATE t SET n = n + 1 WHERE id = $1"
READ_PF = "SELECT id, state, n FROM t WHERE id = %s"
WRITE_PF = "UPDATE t SET n = n + 1 WHERE id = %s"
READ_SA = "SELECT id, state, n FROM t WHERE id = :id"
WRITE_SA = "UPDATE t SET n = n + 1 WHERE id = :id"


def timed(fns: dict[str, Callable[[int], Any]], rounds: int) -> dict[str, float]:
    """Microseconds per call of each ``fn(i)``: the median of 5 runs of ``rounds`` calls,
    the functions taking turns (so drift on a shared machine touches all of them alike)."""
    runs: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(5):
        for name, fn in fns.items():
            start = time.perf_counter()
            for i in range(rounds):
                fn(i % ROWS + 1)
            runs[name].append((time.perf_counter() - start) / rounds * 1e6)
    return {name: statistics.median(r) for name, r in runs.items()}


def fill(execute: Callable[[str], Any]) -> None:
    execute(SCHEMA)
    execute(
        "INSERT INTO t (id, state, n) SELECT g, 'queued', 0 FROM "
        f"(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {ROWS}) "
        "SELECT g FROM s) AS q"
    )


def sqlite_figures(folder: Path, rounds: int) -> dict[str, float]:
    path = folder / "b.db"
    bare = sqlite3.connect(path, isolation_level=None)
    bare.execute("PRAGMA journal_mode = WAL")
    bare.execute("PRAGMA synchronous = NORMAL")
    fill(bare.execute)
    bare.row_factory = sqlite3.Row
    conn = sqlite3.connect(path, isolation_level=None, factory=SqliteConn)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.row_factory = sqlite3.Row

    def plain(i: int) -> None:
        bare.execute(READ_Q, (i,)).fetchone()["state"]
        bare.execute(WRITE_Q, (i,))

    def interface(i: int) -> None:
        conn.execute(READ_N, (i,)).fetchone()["state"]
        conn.execute(WRITE_N, (i,))

    fns = {"sqlite3 (? placeholders, sqlite3.Row)": plain, "Conn: SqliteConn ($n)": interface}
    with _sqlalchemy(f"sqlite:///{path}", "PRAGMA synchronous = NORMAL") as extra:
        out = timed(fns | extra, rounds)
    bare.close()
    conn.close()
    return out


def pg_figures(url: str, rounds: int) -> dict[str, float]:
    import psycopg
    from psycopg.rows import dict_row

    from core.store.postgres.store import PgConn, connect

    with psycopg.connect(url, autocommit=True) as setup:
        fill(setup.execute)
    bare = psycopg.connect(url, autocommit=True, row_factory=dict_row)
    conn: PgConn = connect(url)

    def plain(i: int) -> None:
        bare.execute(READ_PF, (i,)).fetchone()["state"]  # type: ignore[index]
        bare.execute(WRITE_PF, (i,))

    def interface(i: int) -> None:
        conn.execute(READ_N, (i,)).fetchone()["state"]  # type: ignore[index]
        conn.execute(WRITE_N, (i,))

    fns = {"psycopg (%s placeholders, dict_row)": plain, "Conn: PgConn ($n, RawCursor)": interface}
    with _sqlalchemy(url.replace("postgresql://", "postgresql+psycopg://", 1), "") as extra:
        out = timed(fns | extra, rounds)
    bare.close()
    conn.raw.close()
    return out


@contextlib.contextmanager
def _sqlalchemy(url: str, setup: str) -> Iterator[dict[str, Callable[[int], Any]]]:
    """The statement pair through SQLAlchemy Core's ``text()`` (none when not installed)."""
    try:
        import sqlalchemy
    except ImportError:
        print("sqlalchemy is not installed: pip install -e '.[dev]'", file=sys.stderr)
        yield {}
        return
    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    read, write = sqlalchemy.text(READ_SA), sqlalchemy.text(WRITE_SA)
    with engine.connect() as sa:
        if setup:
            sa.exec_driver_sql(setup)

        def core(i: int) -> None:
            sa.execute(read, {"id": i}).mappings().one()["state"]
            sa.execute(write, {"id": i})

        yield {f"SQLAlchemy {sqlalchemy.__version__} Core text()": core}
    engine.dispose()


def show(title: str, figures: dict[str, float]) -> None:
    base = next(iter(figures.values()))
    print(f"\n{title}: microseconds per read + update (median of 5 runs)")
    for name, us in figures.items():
        print(f"  {name:44} {us:8.1f} us   x{us / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        show("SQLite", sqlite_figures(Path(tmp), args.rounds))
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        print("\nno PostgreSQL server binaries: PostgreSQL skipped")
        return
    with cluster(bin_dir) as server:
        show("PostgreSQL (TCP to 127.0.0.1)", pg_figures(server.url(), args.rounds // 4))


if __name__ == "__main__":
    main()
