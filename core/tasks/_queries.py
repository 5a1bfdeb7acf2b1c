"""The task lifecycle's statements: an active task's changes of state (started, done,
failed, cancelled, retried, pinned, reopened, back in the queue). Each is one named
operation (the lifecycle is ``core.assignment._lifecycle``, which composes the done and the
lease expiry with the other features' fragments in ``core.assignment._queries``); where the
databases differ the dialect is chosen through the store's seams (``Pair``, ``row_locks``).
The task graph's statements (creation, dependencies, the dependents' hold) are in
``core.tasks._graph_queries``.

Why the done is one statement on PostgreSQL, and why its dependents are held in a statement
of their own after it: docs/decisions/0005-lifecycles-hot-path-in-postgresqls-own.md; the
races they close are in ``tests/store/test_write_races.py``.
"""

from __future__ import annotations

from typing import NamedTuple

from core.models import Task
from core.store.conn import Conn, sql, values
from core.store.row_locks import read_held
from core.tasks._read_queries import TASK_COLUMNS, deps_of, row_to_task

# The done: the task's row updated where it is still active, its holder, its campaign and
# whether any reservation was taken for it returned with it (no read first). The columns end
# in a comma: the composer adds its own over the row ``tasks`` (core.assignment's done adds
# whether a note about the task waits in its holder's queue).
DONE_RETURNING = (
    "UPDATE tasks SET status = 'done', result_note = :note, reason = NULL, finished_at = :now, "
    "lease_expires_at = NULL, updated_at = :now WHERE id = :task_id AND status IN ('assigned', "
    "'in_progress') RETURNING assignee, campaign_id, has_dependents, EXISTS (SELECT 1 FROM "
    "reservations r WHERE r.task_id = tasks.id) AS reserved, "
)

MARK_STARTED = sql(
    "UPDATE tasks SET status = 'in_progress', started_at = COALESCE(started_at, :now), "
    "lease_expires_at = NULL, updated_at = :now WHERE id = :task_id"
)
MARK_FAILED = sql(
    "UPDATE tasks SET status = 'failed', reason = :reason, blocked_on = NULL, "
    "finished_at = :now, lease_expires_at = NULL, updated_at = :now WHERE id = :task_id"
)
MARK_CANCELLED = sql(
    "UPDATE tasks SET status = 'cancelled', blocked_on = NULL, finished_at = :now, "
    "lease_expires_at = NULL, updated_at = :now WHERE id = :task_id"
)
MARK_RETRIED = sql(
    "UPDATE tasks SET status = 'blocked', reason = NULL, blocked_on = 'dependencies', "
    "attempts = 0, prev_agent = assignee, assignee = NULL, finished_at = NULL, "
    "not_before = 0, updated_at = :now WHERE id = :task_id"
)
PIN = sql("UPDATE tasks SET pinned_agent = :agent, updated_at = :now WHERE id = :task_id")
UNPIN = sql("UPDATE tasks SET pinned_agent = NULL WHERE id = :task_id")
MARK_REOPENED = sql(
    "UPDATE tasks SET status = 'in_progress', finished_at = NULL, reason = NULL, "
    "lease_expires_at = NULL, updated_at = :now WHERE id = :task_id"
)
MARK_REQUEUED = sql(
    "UPDATE tasks SET status = 'ready', prev_agent = assignee, assignee = NULL, "
    "lease_expires_at = NULL, not_before = :not_before, reason = :why, "
    "attempts = attempts - :refund, updated_at = :now WHERE id = :task_id"
)
TASK_EXISTS = sql("SELECT 1 FROM tasks WHERE id = :task_id")
HELD_BY = sql(
    "SELECT id FROM tasks WHERE assignee = :agent AND status IN ('assigned', 'in_progress') "
    "ORDER BY id"
)


class Holder(NamedTuple):
    """A task's status and the agent holding it (None: none)."""

    status: str
    assignee: str | None


def held_holder(conn: Conn, task_id: int) -> Holder | None:
    """The task's status and holder, read as it is held (``row_locks.read_held``): a
    concurrent report or cancel of the task waits, then reads what this one wrote; None
    when there is no such task."""
    row = read_held(conn, "tasks", "status, assignee", task_id)
    return None if row is None else Holder(*values(row))


def mark_started(conn: Conn, task_id: int, now: float) -> None:
    """The task in progress (started now, unless it had started), its lease gone."""
    conn.execute(MARK_STARTED, {"now": now, "task_id": task_id})


def mark_failed(conn: Conn, task_id: int, reason: str, now: float) -> None:
    """The task failed for ``reason``, finished now, its lease gone."""
    conn.execute(MARK_FAILED, {"reason": reason, "now": now, "task_id": task_id})


def mark_cancelled(conn: Conn, task_id: int, now: float) -> None:
    """The task cancelled, finished now, its lease gone."""
    conn.execute(MARK_CANCELLED, {"now": now, "task_id": task_id})


def mark_retried(conn: Conn, task_id: int, now: float) -> None:
    """The task waits again with no attempt used and no holder (the last one kept as
    ``prev_agent``), to be settled by its rule."""
    conn.execute(MARK_RETRIED, {"now": now, "task_id": task_id})


def pin(conn: Conn, task_id: int, agent: str, now: float) -> None:
    """The task is for ``agent`` only."""
    conn.execute(PIN, {"agent": agent, "now": now, "task_id": task_id})


def unpin(conn: Conn, task_id: int) -> None:
    """The task is for any agent that can take it."""
    conn.execute(UNPIN, {"task_id": task_id})


def mark_reopened(conn: Conn, task_id: int, now: float) -> None:
    """A done task in progress again with the agent that did it, no longer finished."""
    conn.execute(MARK_REOPENED, {"now": now, "task_id": task_id})


def mark_requeued(
    conn: Conn, task_id: int, *, not_before: float, why: str, refund: int, now: float
) -> None:
    """The task back in the queue from ``not_before`` for ``why``, its holder kept as
    ``prev_agent``; ``refund`` (0 or 1) attempts given back."""
    conn.execute(
        MARK_REQUEUED,
        {"not_before": not_before, "why": why, "refund": refund, "now": now, "task_id": task_id},
    )


def exists(conn: Conn, task_id: int) -> bool:
    """Whether task ``task_id`` exists."""
    return conn.execute(TASK_EXISTS, {"task_id": task_id}).fetchone() is not None


def held_by(conn: Conn, agent: str) -> list[int]:
    """The ids of the tasks ``agent`` holds (assigned or in progress), by id."""
    rows = conn.execute(HELD_BY, {"agent": agent}).fetchall()
    return [int(values(row)[0]) for row in rows]


def in_progress(conn: Conn) -> list[tuple[int, str]]:
    """Each task in progress and the agent holding it, oldest first."""
    rows = conn.execute(
        "SELECT id, assignee FROM tasks WHERE status = 'in_progress' AND assignee IS NOT NULL "
        "ORDER BY id"
    ).fetchall()
    return [(int(r["id"]), str(r["assignee"])) for r in rows]


# over a task's row ``t``: something in "Needs you" about the task or its agent, an open
# prompt, question or alert (the lease expiry's column, core.assignment._queries)
SHOWN = (
    "(EXISTS (SELECT 1 FROM agent_prompts p WHERE p.agent = t.assignee "
    "AND p.decided_at IS NULL AND p.closed_at IS NULL) "
    "OR EXISTS (SELECT 1 FROM questions q WHERE q.task_id = t.id AND q.answered_at IS NULL) "
    "OR EXISTS (SELECT 1 FROM alerts a WHERE a.agent_id = t.assignee AND a.cleared_at IS NULL))"
)
# the assigned tasks whose lease ran out by ``:now``: a relation to read beside their
# holders' state (core.assignment._queries)
LEASES_RUN_OUT = (
    "SELECT id, assignee, attempts, max_attempts FROM tasks "
    "WHERE lease_expires_at <= :now AND status = 'assigned'"
)
RENEW_LEASE = sql("UPDATE tasks SET lease_expires_at = :until WHERE id = :task_id")
HAND_TO_PERSON = sql(
    "UPDATE tasks SET status = 'blocked', reason = :why, blocked_on = 'person', "
    "prev_agent = assignee, assignee = NULL, finished_at = NULL, lease_expires_at = NULL, "
    "updated_at = :now WHERE id = :task_id"
)
MARK_DISCARDED = sql(
    "UPDATE tasks SET status = 'cancelled', reason = :why, updated_at = :now WHERE id = :task_id"
)
EDITED = sql(
    "UPDATE tasks SET title = :title, details = :details, priority = :priority, role = :role, "
    "updated_at = :now WHERE id = :task_id"
)
OPEN_CAMPAIGN = sql(
    "SELECT c.id, c.title, c.created_at, c.finished_at FROM tasks t JOIN campaigns c "
    "ON c.id = t.campaign_id WHERE t.id = :task_id AND c.status = 'open'"
)
CAMPAIGN_STATUS_COUNTS = sql(
    "SELECT status, count(*) AS n FROM tasks WHERE campaign_id = :campaign_id GROUP BY status"
)
SET_CAMPAIGN_FINISHED = sql(
    "UPDATE campaigns SET finished_at = :finished_at, updated_at = :now WHERE id = :campaign_id"
)
OF_PLAN = sql(f"SELECT {TASK_COLUMNS} FROM tasks WHERE plan_id = :plan_ref ORDER BY id")
FIRST_HELD = sql(
    "SELECT id FROM tasks WHERE assignee = :agent AND status IN ('assigned', 'in_progress') "
    "ORDER BY id LIMIT 1"
)
HELD_AT = sql(
    "SELECT min(task_id) AS id FROM task_holds WHERE agent = :agent AND since <= :at AND "
    "(until IS NULL OR until > :at)"
)
RECENT_DURATIONS = sql(
    "SELECT assignee, finished_at - COALESCE(started_at, assigned_at) AS took FROM tasks "
    "WHERE status = 'done' AND finished_at >= :since AND assignee IS NOT NULL "
    "AND COALESCE(started_at, assigned_at) IS NOT NULL "
    "ORDER BY finished_at DESC LIMIT :limit"
)


def renew_lease(conn: Conn, task_id: int, until: float) -> None:
    """The task's lease runs until ``until``."""
    conn.execute(RENEW_LEASE, {"until": until, "task_id": task_id})


ACTIVE_TASKS = sql(
    "SELECT id, assignee, assigned_at, attempts, max_attempts FROM tasks "
    "WHERE status IN ('assigned', 'in_progress') ORDER BY id"
)


class ActiveTask(NamedTuple):
    """An assigned or in-progress task: its holder, when it was assigned, its attempts."""

    id: int
    assignee: str
    assigned_at: float | None
    attempts: int
    max_attempts: int


def active_tasks(conn: Conn) -> list[ActiveTask]:
    """Each assigned or in-progress task, by id."""
    return [ActiveTask(*values(row)) for row in conn.execute(ACTIVE_TASKS)]


def hand_to_person(conn: Conn, task_id: int, why: str, now: float) -> None:
    """The task is ``blocked`` on a person (``why``); its agent's hold on it ends."""
    conn.execute(HAND_TO_PERSON, {"why": why, "now": now, "task_id": task_id})


def mark_discarded(conn: Conn, task_id: int, why: str, now: float) -> None:
    """A done task is ``cancelled`` (``why``): its result is thrown away."""
    conn.execute(MARK_DISCARDED, {"why": why, "now": now, "task_id": task_id})


class Edited(NamedTuple):
    """A task's editable fields as an edit leaves them (``swarm task edit``)."""

    title: str
    details: str
    priority: int
    role: str | None


def set_edited(conn: Conn, task_id: int, edited: Edited, now: float) -> None:
    """Write the task's editable fields (each, changed or not) as ``edited`` has them."""
    conn.execute(EDITED, {**edited._asdict(), "now": now, "task_id": task_id})


class OpenCampaign(NamedTuple):
    """An open campaign: its title, when it was made and finished (None: not finished)."""

    id: int
    title: str
    created_at: float
    finished_at: float | None


def open_campaign_of(conn: Conn, task_id: int) -> OpenCampaign | None:
    """The open campaign of the task, or None."""
    row = conn.execute(OPEN_CAMPAIGN, {"task_id": task_id}).fetchone()
    return None if row is None else OpenCampaign(*values(row))


def campaign_status_counts(conn: Conn, campaign_id: int) -> dict[str, int]:
    """How many of the campaign's tasks are in each status."""
    rows = conn.execute(CAMPAIGN_STATUS_COUNTS, {"campaign_id": campaign_id}).fetchall()
    return dict(map(values, rows))


def set_campaign_finished(
    conn: Conn, campaign_id: int, finished_at: float | None, now: float
) -> None:
    """The campaign finished at ``finished_at`` (None: not finished any more)."""
    conn.execute(
        SET_CAMPAIGN_FINISHED, {"finished_at": finished_at, "now": now, "campaign_id": campaign_id}
    )


def of_plan(conn: Conn, plan_ref: str) -> list[Task]:
    """The tasks made by plan ``plan_ref``, in creation order."""
    rows = conn.execute(OF_PLAN, {"plan_ref": plan_ref}).fetchall()
    deps = deps_of(conn, [r["id"] for r in rows])
    return [row_to_task(r, deps[r["id"]]) for r in rows]


def first_held(conn: Conn, agent: str) -> int | None:
    """The oldest task ``agent`` holds (assigned or in progress), or None."""
    row = conn.execute(FIRST_HELD, {"agent": agent}).fetchone()
    return int(row["id"]) if row else None


def held_at(conn: Conn, agent: str, at: float) -> int | None:
    """The oldest task ``agent`` held at time ``at`` (assigned or in progress then: the
    ``task_holds`` rows the database writes at each change of a task's holder), or None."""
    row = conn.execute(HELD_AT, {"agent": agent, "at": at}).fetchone()
    return None if row is None or row["id"] is None else int(row["id"])


class Took(NamedTuple):
    """How long a done task took its agent, from start (or assignment) to finish."""

    assignee: str
    took: float


def recent_durations(conn: Conn, since: float, limit: int) -> list[Took]:
    """The newest ``limit`` tasks done since ``since``, newest first."""
    rows = conn.execute(RECENT_DURATIONS, {"since": since, "limit": limit})
    return [Took(*values(row)) for row in rows]
