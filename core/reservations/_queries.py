"""File reservations' rows (``reservations``): functions of a connection, like the rest of
the store. Which patterns overlap is decided above (``core.reservations._patterns``).

A row is live while it has not expired (``expires_at``, a TTL) and, when it was taken for a
task, while its agent still holds that task (assigned or in progress): checks read only
live rows, so a task that ended by a path that did not release them frees them anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.formats.timetext import local_text
from core.models import task_ref
from core.store.conn import Conn, sql
from core.tasks import ACTIVE_HOLDS, working_on

COLUMNS = "r.id, r.agent, r.task_id, r.pattern, r.exclusive, r.created_at, r.expires_at"
# a reservation still in force at ``:now``
# (its task held: core.tasks' ``ACTIVE_HOLDS``)
LIVE = (
    "(r.expires_at IS NULL OR r.expires_at > :now) AND (r.task_id IS NULL OR EXISTS ("
    f"SELECT 1 FROM ({ACTIVE_HOLDS}) t WHERE t.id = r.task_id AND t.assignee = r.agent))"
)
LIVE_ALL = sql(f"SELECT {COLUMNS} FROM reservations r WHERE {LIVE} ORDER BY r.agent, r.id")
LIVE_OF_AGENT = sql(
    f"SELECT {COLUMNS} FROM reservations r WHERE {LIVE} AND r.agent = :agent ORDER BY r.agent, r.id"
)
LIVE_OF_TASK = sql(
    f"SELECT {COLUMNS} FROM reservations r WHERE r.task_id = :task_id AND {LIVE} ORDER BY r.id"
)
DELETE_PATTERN = sql("DELETE FROM reservations WHERE agent = :agent AND pattern = :pattern")
INSERT = sql(
    "INSERT INTO reservations (agent, task_id, pattern, exclusive, created_at, expires_at) "
    "VALUES (:agent, :task_id, :pattern, :exclusive, :now, :expires_at) RETURNING id"
)
PATTERNS_OF_AGENT = sql("SELECT pattern FROM reservations WHERE agent = :agent ORDER BY id")
DELETE_OF_AGENT = sql("DELETE FROM reservations WHERE agent = :agent")
OF_TASK = sql("SELECT agent, pattern FROM reservations WHERE task_id = :task_id ORDER BY id")
DELETE_OF_TASK = sql("DELETE FROM reservations WHERE task_id = :task_id")
DELETE_DEAD = sql(
    f"DELETE FROM reservations WHERE id IN (SELECT r.id FROM reservations r WHERE NOT ({LIVE}))"
)


@dataclass(frozen=True)
class Reservation:
    """One agent's path or glob, exclusive or shared, for a task or none."""

    id: int
    agent: str
    task_id: int | None
    pattern: str
    exclusive: bool
    created_at: float
    expires_at: float | None

    @property
    def mode(self) -> str:
        """``exclusive`` or ``shared``."""
        return "exclusive" if self.exclusive else "shared"

    @property
    def task(self) -> str | None:
        """The task's ref (``T-3``), None when taken without one."""
        return task_ref(self.task_id) if self.task_id is not None else None

    def held_for(self) -> str:
        """``for T-7, until it ends`` / ``no task, until 14:05:00``: how long it lasts."""
        task = f"for {self.task}" if self.task else "no task"
        if self.expires_at is None:
            return f"{task}, until released" if not self.task else f"{task}, until it ends"
        return f"{task}, until {local_text(self.expires_at, '%H:%M:%S')}"

    def reserved_text(self) -> str:
        """``reserved src/api/** for Agent-2 (exclusive, for T-7, until it ends)``: what
        ``swarm reserve`` and the ``reserve`` tool answer."""
        return f"reserved {self.shown()}"

    def shown(self) -> str:
        """``src/api/** for Agent-2 (exclusive, for T-7, until it ends)``."""
        return f"{self.pattern} for {self.agent} ({self.mode}, {self.held_for()})"

    def describe(self) -> str:
        """``Agent-2's exclusive reservation src/api/** (T-7)``."""
        return f"{self.agent}'s {self.mode} reservation {self.pattern} ({self.task or 'no task'})"

    def to_json(self) -> dict[str, Any]:
        """The reservation as ``--json`` and the API show it."""
        return {
            "id": self.id,
            "agent": self.agent,
            "task": self.task,
            "pattern": self.pattern,
            "mode": self.mode,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
        }


def _row(row: Any) -> Reservation:
    return Reservation(
        row["id"],
        row["agent"],
        row["task_id"],
        row["pattern"],
        bool(row["exclusive"]),
        row["created_at"],
        row["expires_at"],
    )


def live(conn: Conn, now: float, agent: str | None = None) -> list[Reservation]:
    """Live reservations (of one agent, or everyone's), by agent then age."""
    if agent is None:
        return [_row(r) for r in conn.execute(LIVE_ALL, {"now": now})]
    return [_row(r) for r in conn.execute(LIVE_OF_AGENT, {"now": now, "agent": agent})]


def of_task(conn: Conn, now: float, task_id: int) -> list[Reservation]:
    """The live reservations taken for one task."""
    rows = conn.execute(LIVE_OF_TASK, {"now": now, "task_id": task_id})
    return [_row(r) for r in rows]


def current_task(conn: Conn, agent: str) -> int | None:
    """The task ``agent`` works on: the one it holds (the latest started, when several)."""
    return working_on(conn, agent)


def put(
    conn: Conn,
    agent: str,
    task_id: int | None,
    pattern: str,
    exclusive: bool,
    now: float,
    expires_at: float | None,
) -> Reservation:
    """Store (or renew) ``agent``'s reservation of ``pattern``."""
    conn.execute(DELETE_PATTERN, {"agent": agent, "pattern": pattern})
    cur = conn.execute(
        INSERT,
        {
            "agent": agent,
            "task_id": task_id,
            "pattern": pattern,
            "exclusive": int(exclusive),
            "now": now,
            "expires_at": expires_at,
        },
    )
    rid = int(cur.fetchone()["id"])
    return Reservation(rid, agent, task_id, pattern, exclusive, now, expires_at)


def delete(conn: Conn, agent: str, patterns: Sequence[str] | None) -> list[str]:
    """Delete ``agent``'s reservations of ``patterns`` (None: all); the patterns deleted."""
    if patterns is None:
        found = conn.execute(PATTERNS_OF_AGENT, {"agent": agent}).fetchall()
        conn.execute(DELETE_OF_AGENT, {"agent": agent})
        return [r["pattern"] for r in found]
    gone = []
    for pattern in dict.fromkeys(patterns):
        cur = conn.execute(DELETE_PATTERN, {"agent": agent, "pattern": pattern})
        if cur.rowcount:
            gone.append(pattern)
    return gone


def delete_task(conn: Conn, task_id: int) -> list[tuple[str, str]]:
    """Delete every reservation taken for ``task_id``; their (agent, pattern) pairs."""
    found = conn.execute(OF_TASK, {"task_id": task_id}).fetchall()
    if found:
        conn.execute(DELETE_OF_TASK, {"task_id": task_id})
    return [(r["agent"], r["pattern"]) for r in found]


def purge(conn: Conn, now: float) -> int:
    """Delete the reservations that are no longer live (expired, or their task left the
    agent); how many."""
    cur = conn.execute(DELETE_DEAD, {"now": now})
    return max(int(cur.rowcount), 0)


def released_text(agent: str, count: int) -> str:
    """``released 2 reservations of Agent-2``: what ``swarm release`` and the tool answer."""
    return f"released {count} {'reservation' if count == 1 else 'reservations'} of {agent}"
