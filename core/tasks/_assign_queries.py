"""The statements of a scheduling pass on tasks (``core.assignment._passes``): the ready
tasks a page at a time, the picked ones taken (on PostgreSQL as the fragment
``TAKE_READY_PG``, which core.assignment composes with core.delivery's prompts queued), a
task's attempts (asked by a failed prompt's receipt), the deadlines of the leases and
backoffs. Each is one named operation or fragment; which task goes to which agent is
decided in core.assignment."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from core.store.conn import Conn, Pair, in_list, listed, sql, sql_pair, values

_READY = (
    "SELECT id, role, capabilities, pinned_agent, prev_agent, not_before, title, details, "
    "priority, attempts, campaign_id FROM tasks WHERE status = 'ready'"
)
READY_FIRST = sql(f"{_READY} ORDER BY priority DESC, id LIMIT :size")
READY_AFTER = sql(
    f"{_READY} AND (priority < :priority OR (priority = :priority AND id > :id)) "
    "ORDER BY priority DESC, id LIMIT :size"
)
ATTEMPTS = sql("SELECT status, assignee, attempts, max_attempts FROM tasks WHERE id = :task_id")


@dataclass(frozen=True)
class ReadyTask:
    """A ready task as a scheduling pass sees it: who may take it (``capabilities``: a JSON
    list), its last holder, when it is due, its prompt's words and its attempts so far."""

    id: int
    role: str | None
    capabilities: str
    pinned_agent: str | None
    prev_agent: str | None
    not_before: float
    title: str
    details: str
    priority: int
    attempts: int
    campaign_id: int | None


def ready_page(conn: Conn, size: int, after: ReadyTask | None = None) -> list[ReadyTask]:
    """Up to ``size`` ready tasks by priority then age, those after ``after`` (keyset
    paging: the last row of the page before)."""
    if after is None:
        rows = conn.execute(READY_FIRST, {"size": size})
    else:
        page = {"priority": after.priority, "id": after.id, "size": size}
        rows = conn.execute(READY_AFTER, page)
    return [ReadyTask(*values(row)) for row in rows]


# The picked tasks still ready taken by their agents: ``:ids`` the tasks (``listed``),
# ``:agents`` a JSON object of task id -> agent, read for each row taken.
_TAKE = (
    "UPDATE tasks SET status = 'assigned', assignee = {agent}, attempts = attempts + 1, "
    "assigned_at = :now, lease_expires_at = :lease, reason = NULL, updated_at = :now "
    "WHERE id {ids} AND status = 'ready' RETURNING id"
)
_AGENT_OF_ROW = Pair(
    "json_extract(:agents, '$.\"' || id || '\"')",
    "CAST(:agents AS jsonb) ->> CAST(id AS TEXT)",
)
_IDS = in_list("ids", "BIGINT")
TAKE_READY = sql_pair(_TAKE, agent=_AGENT_OF_ROW, ids=_IDS)


# PostgreSQL: ``TAKE_READY`` as the body of a CTE (``t``) that a statement composes
TAKE_READY_PG = _TAKE.format(agent=_AGENT_OF_ROW.postgres, ids=_IDS.postgres)


def picked(picks: Sequence[tuple[int, str]]) -> dict[str, str]:
    """``TAKE_READY``'s parameters for the picks (task id, agent)."""
    ids = listed(task_id for task_id, _ in picks)
    return {"ids": ids, "agents": json.dumps({str(t): agent for t, agent in picks})}


def take_ready(conn: Conn, picks: Sequence[tuple[int, str]], now: float, lease: float) -> set[int]:
    """Assign the picked tasks (task id, agent) still ready to their agents, leased until
    ``lease``: the ids of those taken (another writer changed the others meanwhile)."""
    params = {**picked(picks), "now": now, "lease": lease}
    rows = conn.execute(TAKE_READY.on(conn), params).fetchall()
    return {row["id"] for row in rows}


class TaskAttempts(NamedTuple):
    """A task's status, its holder (None: none) and its attempts, used and allowed."""

    status: str
    assignee: str | None
    attempts: int
    max_attempts: int


def attempts_of(conn: Conn, task_id: int) -> TaskAttempts | None:
    """The task's attempts, or None when there is no such task."""
    row = conn.execute(ATTEMPTS, {"task_id": task_id}).fetchone()
    return None if row is None else TaskAttempts(*values(row))


# The columns of the next deadlines of the tasks (core.assignment composes them with the
# deliveries'): each reads an index, the backoff the ready tasks' by their not_before (not
# every ready task of a long queue).
DEADLINE_COLUMNS = (
    "(SELECT min(lease_expires_at) FROM tasks WHERE status = 'assigned') AS lease, "
    "(SELECT min(not_before) FROM tasks WHERE status = 'ready' AND not_before > :now) "
    "AS backoff"
)
