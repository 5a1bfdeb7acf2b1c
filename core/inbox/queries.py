"""The needs-you list's own statements (``core.inbox.needs``, a read model: it reads other
features' tables and writes none): the gates waiting for a person."""

from __future__ import annotations

from typing import Any

from core.store.conn import Conn, sql

WAITING_GATES = sql(
    "SELECT id, title, updated_at, campaign_id, (SELECT count(*) FROM task_deps d "
    "WHERE d.dep_id = tasks.id) AS waiting FROM tasks WHERE kind = 'gate' "
    "AND status = 'blocked' AND blocked_on = :blocked_on ORDER BY id"
)


def waiting_gates(conn: Conn, blocked_on: str) -> list[Any]:
    """The gates blocked on ``blocked_on`` (``id``, ``title``, ``updated_at``,
    ``campaign_id``, ``waiting``: how many tasks depend on each), by id."""
    rows: list[Any] = conn.execute(WAITING_GATES, {"blocked_on": blocked_on}).fetchall()
    return rows
