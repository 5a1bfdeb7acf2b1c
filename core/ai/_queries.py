"""The statements of the AI calls' usage (``core.ai._usage``, table ``usage``): a call
recorded, the spend since a time, the sums of a window (all, per purpose or model), its rows
for the days. Each is one named operation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from core.store.conn import Conn, Row, sql

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


class Sums(NamedTuple):
    """The sums of a window's calls (a count of none is 0, a sum of none 0.0)."""

    calls: int
    failed: int
    prompt_tokens: int
    completion_tokens: int
    cost: float
    unpriced: int
    avg_latency_s: float


class Call(NamedTuple):
    """One call as the days' sums count it."""

    ts: float
    ok: bool
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None
    latency_s: float | None


def sums_by(conn: Conn, key: str, since: float) -> list[tuple[str, Sums]]:
    """The sums since ``since`` per value of column ``key`` (``purpose`` or ``model``)."""
    return [(row["key"], _sums(row)) for row in conn.execute(SUMS_BY[key], {"since": since})]


def call_rows(conn: Conn, since: float) -> list[Call]:
    """The calls since ``since``, oldest first."""
    return [_call(r) for r in conn.execute(CALLS, {"since": since})]


def _call(row: Row) -> Call:
    return Call(row["ts"], bool(row["ok"]), row["prompt_tokens"], row["completion_tokens"],
                row["cost"], row["latency_s"])  # fmt: skip


def sums(conn: Conn, since: float) -> Sums:
    """The sums of every call since ``since``."""
    return _sums(conn.execute(SUMS, {"since": since}).fetchone())


def _sums(row: Row) -> Sums:
    return Sums(
        calls=int(row["calls"] or 0),
        failed=int(row["failed"] or 0),
        prompt_tokens=int(row["prompt_tokens"] or 0),
        completion_tokens=int(row["completion_tokens"] or 0),
        cost=float(row["cost"] or 0),
        unpriced=int(row["unpriced"] or 0),
        avg_latency_s=float(row["avg_latency_s"] or 0),
    )
