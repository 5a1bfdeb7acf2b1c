"""What other features ask of the ``tasks`` table: a few operations (a lease restarted, a
task's holder, the task an agent works on, a task's head) and the fragments their own
statements compose where one statement reads their rows beside the tasks' (the table is
named here only: a fragment carries this feature's rule, what "held" or "finished" means,
and a composed statement costs no round trip more). Each fragment says the relation or
the row it expects around it."""

from __future__ import annotations

from typing import NamedTuple

from core.models import FINISHED_SQL
from core.store.conn import Conn, sql, values
from core.tasks._queries import Holder

# -- fragments ----------------------------------------------------------------------------

# the tasks held now (assigned or in progress): their ids, holders and when they were assigned
ACTIVE_HOLDS = (
    "SELECT id, assignee, assigned_at FROM tasks WHERE status IN ('assigned', 'in_progress')"
)
# the tasks in progress and their holders
IN_PROGRESS_HOLDS = "SELECT id, assignee FROM tasks WHERE status = 'in_progress'"
# every task's status and holder (None: none), a relation to join on its id
HOLDS = "SELECT id, status, assignee FROM tasks"
# the ids of the done tasks
DONE_IDS = "SELECT id FROM tasks WHERE status = 'done'"
# the ids of the tasks that finished before ``:cutoff`` (retention: what is old)
FINISHED_BEFORE = f"SELECT id FROM tasks WHERE status IN {FINISHED_SQL} AND finished_at < :cutoff"
# each task of a campaign, as ``task`` and ``campaign_id``
CAMPAIGN_TASKS = "SELECT id AS task, campaign_id FROM tasks WHERE campaign_id IS NOT NULL"
# the ids of the tasks of campaign ``:campaign_id``
TASKS_OF_CAMPAIGN = "SELECT id FROM tasks WHERE campaign_id = :campaign_id"
# the campaign of task ``:task_id``, as text (a budget's subject); NULL: none
CAMPAIGN_OF_TASK = "SELECT CAST(campaign_id AS TEXT) FROM tasks WHERE id = :task_id"
# the agent holding (or last holding) task ``:task_id``
HOLDER_OF_TASK = "SELECT assignee FROM tasks WHERE id = :task_id"
# over an agent's row ``s``: how many tasks it holds
HELD_COUNT = (
    "(SELECT count(*) FROM tasks t WHERE t.assignee = s.id "
    "AND t.status IN ('assigned', 'in_progress'))"
)
# whether any assigned task's lease ran out by ``:expired_by``
ANY_LEASE_RUN_OUT = (
    "EXISTS (SELECT 1 FROM tasks WHERE lease_expires_at <= :expired_by AND status = 'assigned')"
)
# PostgreSQL, the body of a data-modifying CTE: the leases of the tasks of the relation
# ``renewed`` (task, agent, lease) run to ``lease``, each while it is still assigned to
# ``agent`` (a delivered prompt renews its task's lease: core.delivery's receipts)
RENEW_LEASES_OF = (
    "UPDATE tasks SET lease_expires_at = renewed.lease FROM renewed "
    "WHERE tasks.id = renewed.task AND renewed.lease IS NOT NULL "
    "AND tasks.status = 'assigned' AND tasks.assignee = renewed.agent"
)

# -- operations ---------------------------------------------------------------------------

RESTART_LEASE = sql(
    "UPDATE tasks SET lease_expires_at = :until WHERE id = :task_id AND status = 'assigned' "
    "AND assignee = :agent"
)
HOLDER = sql("SELECT status, assignee FROM tasks WHERE id = :task_id")
WORKING_ON = sql(
    "SELECT id FROM tasks WHERE assignee = :agent AND status IN ('assigned', 'in_progress') "
    "ORDER BY status = 'in_progress' DESC, COALESCE(started_at, assigned_at) DESC, id DESC "
    "LIMIT 1"
)
HEAD = sql("SELECT id, title, assignee FROM tasks WHERE id = :task_id")


def restart_lease(conn: Conn, task_id: int | None, agent: str, until: float) -> None:
    """The task's lease runs to ``until`` while it is assigned to ``agent`` (nothing for a
    task no longer the agent's)."""
    conn.execute(RESTART_LEASE, {"until": until, "task_id": task_id, "agent": agent})


def holder(conn: Conn, task_id: int) -> Holder | None:
    """The task's status and holder, or None: no such task (read as it is, not held: the
    lifecycle's own read holds it, ``queries.held_holder``)."""
    row = conn.execute(HOLDER, {"task_id": task_id}).fetchone()
    return None if row is None else Holder(*values(row))


def working_on(conn: Conn, agent: str) -> int | None:
    """The task ``agent`` works on: of those it holds, the one in progress, else the latest
    started or assigned; None when it holds none."""
    row = conn.execute(WORKING_ON, {"agent": agent}).fetchone()
    return int(row["id"]) if row else None


class Head(NamedTuple):
    """A task's id, title and the agent holding (or last holding) it."""

    id: int
    title: str
    assignee: str | None


def head(conn: Conn, task_id: int) -> Head | None:
    """Task ``task_id``'s head, or None: no such task."""
    row = conn.execute(HEAD, {"task_id": task_id}).fetchone()
    return None if row is None else Head(*values(row))
