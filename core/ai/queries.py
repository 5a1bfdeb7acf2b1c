"""The statements of the AI calls' usage (``core.ai.usage``, table ``usage``): a call
recorded, the spend since a time, the sums of a window (all, per purpose or model), its rows
for the days. Each is one named operation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.store.conn import Conn


def insert(conn: Conn, row: Sequence[Any]) -> int:
    """Store one call (ts, purpose, model, prompt_tokens, completion_tokens, cost,
    latency_s, attempts, ok, error, actor): its id."""
    cur = conn.execute(
        "INSERT INTO usage (ts, purpose, model, prompt_tokens, completion_tokens, cost, "
        "latency_s, attempts, ok, error, actor) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        row,
    )
    return int(cur.fetchone()["id"])


def cost_since(conn: Conn, since: float) -> float:
    """US dollars spent on priced calls since ``since``."""
    row = conn.execute("SELECT COALESCE(SUM(cost), 0) AS cost FROM usage WHERE ts >= $1", (since,))
    return float(row.fetchone()["cost"])


_SUMS = (
    "count(*) AS calls, COUNT(*) FILTER (WHERE ok = 0) AS failed, "
    "SUM(prompt_tokens) AS prompt_tokens, "
    "SUM(completion_tokens) AS completion_tokens, COALESCE(SUM(cost), 0) AS cost, "
    "COUNT(*) FILTER (WHERE cost IS NULL AND ok = 1) AS unpriced, AVG(latency_s) AS avg_latency_s"
)


def sums_by(conn: Conn, key: str, since: float) -> list[Any]:
    """The sums since ``since`` per value of column ``key`` (``key`` and the sums)."""
    rows: list[Any] = conn.execute(
        f"SELECT {key} AS key, {_SUMS} FROM usage WHERE ts >= $1 GROUP BY key ORDER BY key",
        (since,),
    ).fetchall()
    return rows


def call_rows(conn: Conn, since: float) -> list[Any]:
    """The calls since ``since`` (ts, ok, prompt_tokens, completion_tokens, cost,
    latency_s), oldest first."""
    rows: list[Any] = conn.execute(
        "SELECT ts, ok, prompt_tokens, completion_tokens, cost, latency_s FROM usage "
        "WHERE ts >= $1 ORDER BY ts",
        (since,),
    ).fetchall()
    return rows


def sums(conn: Conn, since: float) -> Any:
    """The sums of every call since ``since``."""
    return conn.execute(f"SELECT {_SUMS} FROM usage WHERE ts >= $1", (since,)).fetchone()
