"""The statements of deliveries that failed for good (``core.delivery.undelivered``): those
that wait for a person, one read with why it no longer does, one queued again or dismissed.
Each is one named operation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.store.conn import Args, Conn, sql

_COLUMNS = (
    "SELECT d.id, d.agent_id, d.state, d.reason, d.attempts, d.updated_at, d.dismissed_by, "
    "m.id AS message_id, m.task_id, m.target_kind, m.target_name, m.text"
)
_FROM = " FROM deliveries d JOIN messages m ON m.id = d.message_id"
# a later delivery to the same agent, of the same message or about the same task, that
# got through
_GOT_THROUGH = (
    "EXISTS (SELECT 1 FROM deliveries l JOIN messages lm ON lm.id = l.message_id "
    "WHERE l.agent_id = d.agent_id AND l.id > d.id AND l.state = 'delivered' "
    "AND (l.message_id = d.message_id OR lm.task_id = m.task_id))"
)
# a later delivery to the same agent, of the same message or about the same task, that
# failed too (``{ignored}``: the reasons that are no failure): the newest failure stands for it
_FAILED_AGAIN = (
    "EXISTS (SELECT 1 FROM deliveries l JOIN messages lm ON lm.id = l.message_id "
    "WHERE l.agent_id = d.agent_id AND l.id > d.id AND l.state = 'failed' "
    "AND (COALESCE(l.reason, '') NOT IN ({ignored})) IS NOT FALSE "
    "AND (l.message_id = d.message_id OR lm.task_id = m.task_id))"
)
# the task it was about ended, or another agent holds it now (the task moved on): its
# status, else NULL
_MOVED_ON = (
    "(SELECT CASE WHEN t.status IN ('done', 'cancelled', 'skipped') THEN t.status "
    "WHEN t.status IN ('assigned', 'in_progress') AND t.assignee <> d.agent_id "
    "AND m.target_kind = 'agent' THEN 'held by ' || t.assignee END "
    "FROM tasks t WHERE t.id = m.task_id)"
)

REQUEUE = sql(
    "UPDATE deliveries SET state = 'queued', attempts = 0, reason = NULL, deferred = 0, "
    "not_before = :now, updated_at = :now, claim_until = NULL WHERE id = :id "
    "AND state = 'failed'"
)
HOLDER = sql("SELECT status, assignee FROM tasks WHERE id = :task_id")
DISMISS = sql("UPDATE deliveries SET dismissed_by = :by, dismissed_at = :now WHERE id = :id")


def failed_for_good(conn: Conn, ignored: Sequence[str]) -> list[Any]:
    """The failed deliveries nobody dismissed (``ignored``: reasons that are no failure),
    none of whose message or task later got through to that agent or failed again there,
    whose task has not ended or gone to another agent, oldest first (``_COLUMNS``)."""
    args = Args()
    reasons = args.many(ignored) if ignored else "NULL"  # NOT IN (NULL): nothing is kept
    skip = f"AND COALESCE(d.reason, '') NOT IN ({reasons}) " if ignored else ""
    rows: list[Any] = conn.execute(
        f"{_COLUMNS}{_FROM} WHERE d.state = 'failed' AND d.dismissed_at IS NULL {skip}"
        f"AND NOT {_GOT_THROUGH} AND NOT {_FAILED_AGAIN.format(ignored=reasons)} "
        f"AND {_MOVED_ON} IS NULL ORDER BY d.id",
        args,
    ).fetchall()
    return rows


def with_verdict(conn: Conn, delivery_id: int, ignored: Sequence[str]) -> Any:
    """The delivery's row (``_COLUMNS``) with ``through``, ``again`` and ``moved_on``: why
    it no longer waits for a person; None when there is no such delivery."""
    args = Args()
    delivery = args(delivery_id)
    reasons = args.many(ignored) if ignored else "NULL"
    return conn.execute(
        f"{_COLUMNS}, {_GOT_THROUGH} AS through, {_FAILED_AGAIN.format(ignored=reasons)} "
        f"AS again, {_MOVED_ON} AS moved_on{_FROM} WHERE d.id = {delivery}",
        args,
    ).fetchone()


def requeue(conn: Conn, delivery_id: int, now: float) -> None:
    """Queue the failed delivery again, due now, its attempts anew."""
    conn.execute(REQUEUE, {"now": now, "id": delivery_id})


def holder(conn: Conn, task_id: int) -> Any:
    """The task's ``status`` and ``assignee``, or None."""
    return conn.execute(HOLDER, {"task_id": task_id}).fetchone()


def mark_dismissed(conn: Conn, delivery_id: int, by: str, now: float) -> None:
    """A person (``by``) has seen the failed delivery."""
    conn.execute(DISMISS, {"by": by, "now": now, "id": delivery_id})
