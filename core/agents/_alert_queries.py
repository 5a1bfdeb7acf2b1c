"""The alerts' statements (``core.agents._alerts``): an alert opened (once), an open one found
and cleared, the open kinds, the rows listed, the counts of the summary's digest. Each is
one named operation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from core.store.conn import Conn, in_list, listed, sql, sql_pair, values

_ALERT = "SELECT id, agent_id, kind, text, opened_at, cleared_at, cleared_text FROM alerts"

INSERT_OPEN = sql(
    "INSERT INTO alerts (agent_id, kind, text, opened_at) VALUES (:agent, :kind, :text, :now) "
    "ON CONFLICT DO NOTHING RETURNING id"
)
OPEN_ROW = sql(
    "SELECT id, opened_at FROM alerts WHERE agent_id = :agent AND kind = :kind "
    "AND cleared_at IS NULL"
)
SET_OPEN_TEXT = sql(
    "UPDATE alerts SET text = :text WHERE agent_id = :agent AND kind = :kind "
    "AND cleared_at IS NULL AND text <> :text"
)
MARK_CLEARED = sql("UPDATE alerts SET cleared_at = :now, cleared_text = :text WHERE id = :id")
ALL_ROWS = sql(f"{_ALERT} ORDER BY id DESC LIMIT :limit")
OPEN_ROWS = sql(f"{_ALERT} WHERE cleared_at IS NULL ORDER BY id DESC LIMIT :limit")
OPENED_PER_AGENT = sql(
    "SELECT agent_id, count(*) AS n FROM alerts WHERE kind = :kind AND opened_at >= :since AND "
    "opened_at <= :until GROUP BY agent_id ORDER BY agent_id"
)
OPENED_COUNT = sql(
    "SELECT count(*) AS n FROM alerts WHERE kind = :kind AND opened_at >= :since "
    "AND opened_at <= :until"
)
OPEN_OF = sql_pair(
    "SELECT id, kind, opened_at FROM alerts WHERE agent_id = :agent AND cleared_at IS NULL "
    "AND kind {kinds}",
    kinds=in_list("kinds"),
)
EVER_OPENED = sql("SELECT 1 AS one FROM alerts WHERE agent_id = :agent AND kind = :kind LIMIT 1")
OPEN_TEXT = sql(
    "SELECT text FROM alerts WHERE agent_id = :agent AND kind = :kind AND cleared_at IS NULL"
)
OPEN_AGENTS = sql("SELECT agent_id FROM alerts WHERE kind = :kind AND cleared_at IS NULL")


@dataclass(frozen=True)
class Alert:
    """One alert row."""

    id: int
    agent: str
    kind: str
    text: str
    opened_at: float
    cleared_at: float | None
    cleared_text: str | None

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json`` output and the bot."""
        return {
            "id": self.id,
            "agent": self.agent,
            "kind": self.kind,
            "text": self.text,
            "opened_at": self.opened_at,
            "cleared_at": self.cleared_at,
            "cleared_text": self.cleared_text,
        }


class OpenAlert(NamedTuple):
    """An open alert of an agent's: its kind, since when."""

    id: int
    kind: str
    opened_at: float


class OpenKind(NamedTuple):
    """An agent with an open alert of a kind."""

    agent_id: str
    kind: str


class AlertsOpened(NamedTuple):
    """An agent and how many alerts it had opened."""

    agent_id: str
    n: int


def insert_open(conn: Conn, agent: str, kind: str, text: str, now: float) -> int | None:
    """Open ``agent``'s alert of ``kind`` unless one is open: its id, or None."""
    cur = conn.execute(INSERT_OPEN, {"agent": agent, "kind": kind, "text": text, "now": now})
    row = cur.fetchone()
    return None if row is None else int(row["id"])


def set_open_text(conn: Conn, agent: str, kind: str, text: str) -> bool:
    """``agent``'s open alert of ``kind`` says ``text`` now; True when it changed."""
    cur = conn.execute(SET_OPEN_TEXT, {"agent": agent, "kind": kind, "text": text})
    return bool(cur.rowcount)


def open_row(conn: Conn, agent: str, kind: str) -> OpenAlert | None:
    """``agent``'s open alert of ``kind``, or None."""
    row = conn.execute(OPEN_ROW, {"agent": agent, "kind": kind}).fetchone()
    if row is None:
        return None
    alert_id, opened_at = values(row)
    return OpenAlert(alert_id, kind, opened_at)


def open_of(conn: Conn, agent: str, kinds: tuple[str, ...]) -> list[OpenAlert]:
    """``agent``'s open alerts of ``kinds``."""
    found = conn.execute(OPEN_OF.on(conn), {"agent": agent, "kinds": listed(kinds)})
    return [OpenAlert(*values(row)) for row in found]


def mark_cleared(conn: Conn, alert_id: int, now: float, text: str) -> None:
    """The alert was cleared at ``now``, saying ``text``."""
    conn.execute(MARK_CLEARED, {"now": now, "text": text, "id": alert_id})


def open_pairs(conn: Conn) -> list[OpenKind]:
    """The open alerts' agents and kinds."""
    found = conn.execute("SELECT agent_id, kind FROM alerts WHERE cleared_at IS NULL")
    return [OpenKind(*values(row)) for row in found]


def rows(conn: Conn, include_cleared: bool, limit: int) -> list[Alert]:
    """The open alerts (or all), newest first, at most ``limit``."""
    found = conn.execute(ALL_ROWS if include_cleared else OPEN_ROWS, {"limit": limit})
    return [Alert(*values(row)) for row in found]


def opened_per_agent(conn: Conn, kind: str, since: float, until: float) -> list[AlertsOpened]:
    """How many alerts of ``kind`` each agent had opened in [since, until], by agent."""
    found = conn.execute(OPENED_PER_AGENT, {"kind": kind, "since": since, "until": until})
    return [AlertsOpened(*values(row)) for row in found]


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


def ever_opened(conn: Conn, agent: str, kind: str) -> bool:
    """Whether ``agent`` ever had an alert of ``kind``."""
    return conn.execute(EVER_OPENED, {"agent": agent, "kind": kind}).fetchone() is not None


def open_text(conn: Conn, agent: str, kind: str) -> str | None:
    """The text of ``agent``'s open alert of ``kind``, or None."""
    row = conn.execute(OPEN_TEXT, {"agent": agent, "kind": kind}).fetchone()
    return None if row is None else str(row["text"])
