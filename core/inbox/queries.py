"""The needs-you list's own statements (``core.inbox.needs``, a read model: it reads other
features' tables and writes none): the gates waiting for a person."""

from __future__ import annotations

from typing import NamedTuple

from core.store.conn import Conn, sql, values

WAITING_GATES = sql(
    "SELECT id, title, updated_at, campaign_id, (SELECT count(*) FROM task_deps d "
    "WHERE d.dep_id = tasks.id) AS waiting FROM tasks WHERE kind = 'gate' "
    "AND status = 'blocked' AND blocked_on = :blocked_on ORDER BY id"
)


class WaitingGate(NamedTuple):
    """A gate blocked on a person, and how many tasks depend on it."""

    id: int
    title: str
    updated_at: float
    campaign_id: int | None
    waiting: int


def waiting_gates(conn: Conn, blocked_on: str) -> list[WaitingGate]:
    """The gates blocked on ``blocked_on``, by id."""
    found = conn.execute(WAITING_GATES, {"blocked_on": blocked_on})
    return [WaitingGate(*values(row)) for row in found]
