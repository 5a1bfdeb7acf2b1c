"""The alerts' statements (``core.agents.alerts``): an alert opened (once), an open one found
and cleared, the open kinds, the rows listed, the counts of the summary's digest. Each is
one named operation."""

from __future__ import annotations

from typing import Any

from core.store.conn import Args, Conn, sql

INSERT_OPEN = sql(
    "INSERT INTO alerts (agent_id, kind, text, opened_at) VALUES (:agent, :kind, :text, :now) "
    "ON CONFLICT DO NOTHING RETURNING id"
)
OPEN_ROW = sql(
    "SELECT id, opened_at FROM alerts WHERE agent_id = :agent AND kind = :kind "
    "AND cleared_at IS NULL"
)
MARK_CLEARED = sql("UPDATE alerts SET cleared_at = :now, cleared_text = :text WHERE id = :id")
ALL_ROWS = sql("SELECT * FROM alerts ORDER BY id DESC LIMIT :limit")
OPEN_ROWS = sql("SELECT * FROM alerts WHERE cleared_at IS NULL ORDER BY id DESC LIMIT :limit")
OPENED_PER_AGENT = sql(
    "SELECT agent_id, count(*) AS n FROM alerts WHERE kind = :kind AND opened_at >= :since AND "
    "opened_at <= :until GROUP BY agent_id ORDER BY agent_id"
)
OPENED_COUNT = sql(
    "SELECT count(*) AS n FROM alerts WHERE kind = :kind AND opened_at >= :since "
    "AND opened_at <= :until"
)
OPEN_AGENTS = sql("SELECT agent_id FROM alerts WHERE kind = :kind AND cleared_at IS NULL")


def insert_open(conn: Conn, agent: str, kind: str, text: str, now: float) -> Any:
    """Open ``agent``'s alert of ``kind`` unless one is open: its row (``id``), or None."""
    cur = conn.execute(INSERT_OPEN, {"agent": agent, "kind": kind, "text": text, "now": now})
    return cur.fetchone()


def open_row(conn: Conn, agent: str, kind: str) -> Any:
    """``agent``'s open alert of ``kind`` (``id``, ``opened_at``), or None."""
    return conn.execute(OPEN_ROW, {"agent": agent, "kind": kind}).fetchone()


def open_of(conn: Conn, agent: str, kinds: tuple[str, ...]) -> list[Any]:
    """``agent``'s open alerts of ``kinds`` (``id``, ``kind``, ``opened_at``)."""
    args = Args()
    rows: list[Any] = conn.execute(
        f"SELECT id, kind, opened_at FROM alerts WHERE agent_id = {args(agent)} "
        f"AND cleared_at IS NULL AND kind IN ({args.many(kinds)})",
        args,
    ).fetchall()
    return rows


def mark_cleared(conn: Conn, alert_id: int, now: float, text: str) -> None:
    """The alert was cleared at ``now``, saying ``text``."""
    conn.execute(MARK_CLEARED, {"now": now, "text": text, "id": alert_id})


def open_pairs(conn: Conn) -> Any:
    """The open alerts' rows (``agent_id``, ``kind``)."""
    return conn.execute("SELECT agent_id, kind FROM alerts WHERE cleared_at IS NULL")


def rows(conn: Conn, include_cleared: bool, limit: int) -> Any:
    """The open alerts' rows (or all), newest first, at most ``limit``."""
    return conn.execute(ALL_ROWS if include_cleared else OPEN_ROWS, {"limit": limit})


def opened_per_agent(conn: Conn, kind: str, since: float, until: float) -> list[Any]:
    """How many alerts of ``kind`` each agent had opened in [since, until] (``agent_id``,
    ``n``), by agent."""
    found: list[Any] = conn.execute(
        OPENED_PER_AGENT, {"kind": kind, "since": since, "until": until}
    ).fetchall()
    return found


def opened_count(conn: Conn, kind: str, since: float, until: float) -> int:
    """How many alerts of ``kind`` were opened in [since, until]."""
    n: int = conn.execute(OPENED_COUNT, {"kind": kind, "since": since, "until": until}).fetchone()[
        "n"
    ]
    return n


def open_agents(conn: Conn, kind: str) -> set[str]:
    """The agents with an open alert of ``kind``."""
    rows = conn.execute(OPEN_AGENTS, {"kind": kind})
    return {r["agent_id"] for r in rows}
