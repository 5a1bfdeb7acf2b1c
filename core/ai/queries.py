"""The statements of the AI calls' usage (``core.ai.usage``, table ``usage``): a call
recorded, the spend since a time, the sums of a window (all, per purpose or model), its rows
for the days. Each is one named operation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.store.conn import Conn, sql

# one call's columns, in the order ``insert`` takes them
CALL_COLUMNS = ("ts", "purpose", "model", "prompt_tokens", "completion_tokens", "cost",
                "latency_s", "attempts", "ok", "error", "actor")  # fmt: skip
INSERT = sql(
    f"INSERT INTO usage ({', '.join(CALL_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in CALL_COLUMNS)}) RETURNING id"
)
COST_SINCE = sql("SELECT COALESCE(SUM(cost), 0) AS cost FROM usage WHERE ts >= :since")


def insert(conn: Conn, row: Sequence[Any]) -> int:
    """Store one call (its values in ``CALL_COLUMNS`` order): its id."""
    cur = conn.execute(INSERT, dict(zip(CALL_COLUMNS, row, strict=True)))
    return int(cur.fetchone()["id"])


def cost_since(conn: Conn, since: float) -> float:
    """US dollars spent on priced calls since ``since``."""
    return float(conn.execute(COST_SINCE, {"since": since}).fetchone()["cost"])


_SUMS = (
    "count(*) AS calls, COUNT(*) FILTER (WHERE ok = 0) AS failed, "
    "SUM(prompt_tokens) AS prompt_tokens, "
    "SUM(completion_tokens) AS completion_tokens, COALESCE(SUM(cost), 0) AS cost, "
    "COUNT(*) FILTER (WHERE cost IS NULL AND ok = 1) AS unpriced, AVG(latency_s) AS avg_latency_s"
)


# the sums per purpose and per model, one statement each
SUMS_BY = {
    key: sql(
        f"SELECT {key} AS key, {_SUMS} FROM usage WHERE ts >= :since GROUP BY key ORDER BY key"
    )
    for key in ("purpose", "model")
}
CALLS = sql(
    "SELECT ts, ok, prompt_tokens, completion_tokens, cost, latency_s FROM usage "
    "WHERE ts >= :since ORDER BY ts"
)
SUMS = sql(f"SELECT {_SUMS} FROM usage WHERE ts >= :since")


def sums_by(conn: Conn, key: str, since: float) -> list[Any]:
    """The sums since ``since`` per value of column ``key`` (``purpose`` or ``model``;
    ``key`` and the sums)."""
    rows: list[Any] = conn.execute(SUMS_BY[key], {"since": since}).fetchall()
    return rows


def call_rows(conn: Conn, since: float) -> list[Any]:
    """The calls since ``since`` (ts, ok, prompt_tokens, completion_tokens, cost,
    latency_s), oldest first."""
    rows: list[Any] = conn.execute(CALLS, {"since": since}).fetchall()
    return rows


def sums(conn: Conn, since: float) -> Any:
    """The sums of every call since ``since``."""
    return conn.execute(SUMS, {"since": since}).fetchone()
