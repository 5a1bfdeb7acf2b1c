"""The statements of deliveries that failed for good (``core.delivery._undelivered``): those
that wait for a person, one read with why it no longer does, one queued again or dismissed.
Each is one named operation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.store.conn import Conn, in_list, listed, sql, sql_pair, values
from core.tasks import HOLDS

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
# failed too (``:ignored``: the reasons that are no failure): the newest failure stands for it
_FAILED_AGAIN = (
    "EXISTS (SELECT 1 FROM deliveries l JOIN messages lm ON lm.id = l.message_id "
    "WHERE l.agent_id = d.agent_id AND l.id > d.id AND l.state = 'failed' "
    "AND COALESCE(l.reason, '') {not_ignored} "
    "AND (l.message_id = d.message_id OR lm.task_id = m.task_id))"
)
# the task it was about ended, or another agent holds it now (the task moved on): its
# status, else NULL
_MOVED_ON = (
    "(SELECT CASE WHEN t.status IN ('done', 'cancelled', 'skipped') THEN t.status "
    "WHEN t.status IN ('assigned', 'in_progress') AND t.assignee <> d.agent_id "
    "AND m.target_kind = 'agent' THEN 'held by ' || t.assignee END "
    f"FROM ({HOLDS}) t WHERE t.id = m.task_id)"
)

_NOT_IGNORED = in_list("ignored", negated=True)
FAILED_FOR_GOOD = sql_pair(
    f"{_COLUMNS}{_FROM} WHERE d.state = 'failed' AND d.dismissed_at IS NULL "
    f"AND COALESCE(d.reason, '') {{not_ignored}} AND NOT {_GOT_THROUGH} "
    f"AND NOT {_FAILED_AGAIN} AND {_MOVED_ON} IS NULL ORDER BY d.id",
    not_ignored=_NOT_IGNORED,
)
WITH_VERDICT = sql_pair(
    f"{_COLUMNS}, {_GOT_THROUGH} AS through, {_FAILED_AGAIN} AS again, "
    f"{_MOVED_ON} AS moved_on{_FROM} WHERE d.id = :delivery_id",
    not_ignored=_NOT_IGNORED,
)
REQUEUE = sql(
    "UPDATE deliveries SET state = 'queued', attempts = 0, reason = NULL, deferred = 0, "
    "not_before = :now, updated_at = :now, claim_until = NULL WHERE id = :id "
    "AND state = 'failed'"
)
DISMISS = sql("UPDATE deliveries SET dismissed_by = :by, dismissed_at = :now WHERE id = :id")


@dataclass(frozen=True)
class FailedRow:
    """A delivery (``_COLUMNS``: one that failed, or was asked for by id) and its message."""

    id: int
    agent_id: str
    state: str
    reason: str | None
    attempts: int
    updated_at: float
    dismissed_by: str | None
    message_id: int
    task_id: int | None
    target_kind: str
    target_name: str | None
    text: str


@dataclass(frozen=True)
class Verdict:
    """A delivery, and why it no longer waits for a person: a later one to its agent got
    ``through`` or failed ``again``, its task moved on (``moved_on``: its status, or
    ``held by`` its new holder; None: it did not)."""

    delivery: FailedRow
    through: bool
    again: bool
    moved_on: str | None


def failed_for_good(conn: Conn, ignored: Sequence[str]) -> list[FailedRow]:
    """The failed deliveries nobody dismissed (``ignored``: reasons that are no failure),
    none of whose message or task later got through to that agent or failed again there,
    whose task has not ended or gone to another agent, oldest first."""
    rows = conn.execute(FAILED_FOR_GOOD.on(conn), {"ignored": listed(ignored)})
    return [FailedRow(*values(row)) for row in rows]


def with_verdict(conn: Conn, delivery_id: int, ignored: Sequence[str]) -> Verdict | None:
    """The delivery with why it no longer waits for a person; None when there is no such
    delivery."""
    params = {"delivery_id": delivery_id, "ignored": listed(ignored)}
    row = conn.execute(WITH_VERDICT.on(conn), params).fetchone()
    return None if row is None else _verdict(values(row))


def _verdict(found: tuple[Any, ...]) -> Verdict:
    """``_COLUMNS`` then ``through``, ``again`` (0/1 on SQLite) and ``moved_on``."""
    *columns, through, again, moved_on = found
    return Verdict(FailedRow(*columns), bool(through), bool(again), moved_on)


def requeue(conn: Conn, delivery_id: int, now: float) -> None:
    """Queue the failed delivery again, due now, its attempts anew."""
    conn.execute(REQUEUE, {"now": now, "id": delivery_id})


def mark_dismissed(conn: Conn, delivery_id: int, by: str, now: float) -> None:
    """A person (``by``) has seen the failed delivery."""
    conn.execute(DISMISS, {"by": by, "now": now, "id": delivery_id})
