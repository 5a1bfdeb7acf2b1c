"""Statements run as written on PostgreSQL (no rewriting), and nothing rewrites or matches
SQL text at run time (issue 25)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from core.service.swarm import SwarmService
from core.store.conn import Conn

ROOT = Path(__file__).resolve().parents[2]
LITERAL = "rowid LIKE x -- not a comment; max(a, b) ?"


def _hazards(conn: Conn) -> tuple[Any, ...]:
    made = conn.execute(
        f"INSERT INTO events (ts, kind, text) VALUES ($1, 'test.sql', '{LITERAL}') "
        "RETURNING id -- a trailing comment",
        (1.0,),
    ).fetchone()
    found = conn.execute(
        f"SELECT id, text FROM events WHERE text = '{LITERAL}' AND kind LIKE $1 -- comment",
        ("test.%",),
    ).fetchall()
    return made["id"], [(r["id"], r["text"]) for r in found]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_literals_and_trailing_comments_reach_the_server_unchanged(
    service: SwarmService,
) -> None:
    made, found = await service.store.update(_hazards)
    assert found == [(made, LITERAL)]


def _traced_empty_executemany(conn: Any) -> str:
    """What the driver sends for an ``executemany`` with no rows (libpq's protocol trace)."""
    with tempfile.TemporaryFile("w+") as trace:
        conn.raw.pgconn.trace(trace.fileno())
        try:
            conn.executemany("INSERT INTO task_deps (task_id, dep_id) VALUES ($1, $2)", [])
        finally:
            conn.raw.pgconn.untrace()
        trace.seek(0)
        return trace.read()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_an_executemany_of_no_rows_makes_no_round_trip(service: SwarmService) -> None:
    assert await service.store.update(_traced_empty_executemany) == ""


def _sources() -> list[Path]:
    return [
        p
        for d in ("core", "bot")
        for p in (ROOT / d).rglob("*.py")
        if ".venv" not in p.parts and "__pycache__" not in p.parts
    ]


def test_no_sql_is_rewritten_or_matched_at_run_time() -> None:
    assert not (ROOT / "core/store/postgres_dialect.py").exists()
    text_matching = re.compile(
        r"\b(def translate|translate\(|_placeholders\(|ID_TABLES|_pragma\()"
        r"|\bsql\s*==|==\s*sql\b|\bin sql\b|\bsql\.(startswith|replace|split)\("
    )
    found = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in _sources()
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if text_matching.search(line)
    ]
    assert found == []


def test_only_the_store_imports_the_postgresql_driver() -> None:
    imports = re.compile(r"^\s*(import|from)\s+(psycopg|psycopg_pool)\b")
    found = [
        str(p.relative_to(ROOT))
        for p in _sources()
        if any(imports.match(line) for line in p.read_text().splitlines())
        and p.parent not in {ROOT / "core/store", ROOT / "core/store/postgres"}
    ]
    assert found == []


# The driver level, where rows are the driver's own (PostgreSQL's failover: its own psycopg
# connection, tuple rows).
_DRIVER_LEVEL = {
    "core/store/conn.py",
    "core/store/db_copy.py",
    "core/store/sqlite.py",
    "core/store/commit_watch.py",
    "core/store/postgres/failover.py",
    "core/clis/opencode/database.py",  # opencode's own SQLite file: sqlite3's tuples, never PG
}


def test_no_row_is_unpacked_by_position_straight_from_a_cursor() -> None:
    """PostgreSQL's rows are dicts: unpacking one gives its column names, silently. A row
    is read by name, or through ``values(row)`` (in its SELECT's order)."""
    unpacked = re.compile(
        r"for \(?\w+, [\w, ()]*\bin (conn|c|cur)\.execute\("
        r"|^\s*\(?\w+, [\w, ]+\)? = (conn|c)\.execute\(.*\)\.fetchone\(\)"
        r"|\b(row|r)\[\d\]|\.fetchone\(\)\[\d\]"
    )
    found = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in _sources()
        if p.relative_to(ROOT).as_posix() not in _DRIVER_LEVEL
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if unpacked.search(line)
    ]
    assert found == []
