"""The alerts' statements (``core.agents.alerts``): an alert opened (once), an open one found
and cleared, the open kinds, the rows listed, the counts of the summary's digest. Each is
one named operation."""

from __future__ import annotations

from typing import Any

from core.store.conn import Conn


def insert_open(conn: Conn, agent: str, kind: str, text: str, now: float) -> Any:
    """Open ``agent``'s alert of ``kind`` unless one is open: its row (``id``), or None."""
    cur = conn.execute(
        "INSERT INTO alerts (agent_id, kind, text, opened_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT DO NOTHING RETURNING id",
        (agent, kind, text, now),
    )
    return cur.fetchone()


def open_row(conn: Conn, agent: str, kind: str) -> Any:
    """``agent``'s open alert of ``kind`` (``id``, ``opened_at``), or None."""
    return conn.execute(
        "SELECT id, opened_at FROM alerts WHERE agent_id = $1 AND kind = $2 AND cleared_at IS NULL",
        (agent, kind),
    ).fetchone()


def open_of(conn: Conn, agent: str, kinds: tuple[str, ...]) -> list[Any]:
    """``agent``'s open alerts of ``kinds`` (``id``, ``kind``, ``opened_at``)."""
    marks = ", ".join(f"${n}" for n in range(2, len(kinds) + 2))
    rows: list[Any] = conn.execute(
        "SELECT id, kind, opened_at FROM alerts WHERE agent_id = $1 AND cleared_at IS NULL "
        f"AND kind IN ({marks})",
        (agent, *kinds),
    ).fetchall()
    return rows


def mark_cleared(conn: Conn, alert_id: int, now: float, text: str) -> None:
    """The alert was cleared at ``now``, saying ``text``."""
    conn.execute(
        "UPDATE alerts SET cleared_at = $1, cleared_text = $2 WHERE id = $3",
        (now, text, alert_id),
    )


def open_pairs(conn: Conn) -> Any:
    """The open alerts' rows (``agent_id``, ``kind``)."""
    return conn.execute("SELECT agent_id, kind FROM alerts WHERE cleared_at IS NULL")


def rows(conn: Conn, include_cleared: bool, limit: int) -> Any:
    """The open alerts' rows (or all), newest first, at most ``limit``."""
    where = "" if include_cleared else "WHERE cleared_at IS NULL "
    return conn.execute(f"SELECT * FROM alerts {where}ORDER BY id DESC LIMIT $1", (limit,))


def opened_per_agent(conn: Conn, kind: str, since: float, until: float) -> list[Any]:
    """How many alerts of ``kind`` each agent had opened in [since, until] (``agent_id``,
    ``n``), by agent."""
    found: list[Any] = conn.execute(
        "SELECT agent_id, count(*) AS n FROM alerts WHERE kind = $1 AND opened_at >= $2 AND "
        "opened_at <= $3 GROUP BY agent_id ORDER BY agent_id",
        (kind, since, until),
    ).fetchall()
    return found


def opened_count(conn: Conn, kind: str, since: float, until: float) -> int:
    """How many alerts of ``kind`` were opened in [since, until]."""
    n: int = conn.execute(
        "SELECT count(*) AS n FROM alerts WHERE kind = $1 AND opened_at >= $2 AND opened_at <= $3",
        (kind, since, until),
    ).fetchone()["n"]
    return n


def open_agents(conn: Conn, kind: str) -> set[str]:
    """The agents with an open alert of ``kind``."""
    rows = conn.execute(
        "SELECT agent_id FROM alerts WHERE kind = $1 AND cleared_at IS NULL", (kind,)
    )
    return {r["agent_id"] for r in rows}
