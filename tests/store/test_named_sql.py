"""Statements with named parameters (``core.store.conn.sql``) run alike on both databases:
a name used twice binds one value, quoted text and casts are left alone, and a missing, unknown
or positional value is refused before the database sees the statement."""

from __future__ import annotations

import pytest

from core.service.swarm import SwarmService
from core.store.conn import Conn, sql

pytestmark = pytest.mark.both_databases

ECHO = sql(
    "SELECT :a AS a, :b AS b, :a || ':b' AS quoted, 'it''s :a' AS escaped, "
    "CAST(:n AS INTEGER) + :n AS twice"
)
SEVERAL = sql(
    "INSERT INTO reservations (agent, pattern, exclusive, created_at) "
    "VALUES (:agent, :pattern, 0, :now)"
)
PATTERNS = sql("SELECT pattern FROM reservations WHERE agent = :agent ORDER BY id")


def test_names_are_numbered_once_in_their_order_of_first_use() -> None:
    assert ECHO.names == ("a", "b", "n")
    assert "$1 AS a, $2 AS b, $1 || ':b'" in ECHO.text
    assert "'it''s :a'" in ECHO.sqlite and "?3" in ECHO.sqlite


def test_numbered_placeholders_cannot_mix_with_names() -> None:
    with pytest.raises(ValueError, match="numbered placeholder"):
        sql("SELECT $1, :a")


def _echo(conn: Conn) -> dict[str, object]:
    return dict(conn.execute(ECHO, {"a": "x", "b": None, "n": 2}).fetchone())


async def test_a_statement_binds_its_names_alike_on_both_databases(
    service: SwarmService,
) -> None:
    row = await service.store.read(_echo)
    assert row == {"a": "x", "b": None, "quoted": "x:b", "escaped": "it's :a", "twice": 4}


def _insert_many(conn: Conn) -> list[str]:
    rows = [{"agent": "A", "pattern": p, "now": 1.0} for p in ("src/**", "docs/*")]
    conn.executemany(SEVERAL, rows)
    return [r["pattern"] for r in conn.execute(PATTERNS, {"agent": "A"})]


async def test_executemany_binds_each_mapping(service: SwarmService) -> None:
    assert await service.store.update(_insert_many) == ["src/**", "docs/*"]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"a": 1, "b": 2}, "no value for :n"),
        ({"a": 1, "b": 2, "n": 3, "typo": 4}, "no parameter typo"),
        ((1, 2, 3), "takes a mapping"),
    ],
)
async def test_a_missing_unknown_or_positional_value_is_refused(
    service: SwarmService, params: object, error: str
) -> None:
    def run(conn: Conn) -> None:
        conn.execute(ECHO, params)  # type: ignore[arg-type]

    with pytest.raises(TypeError, match=error):
        await service.store.read(run)
