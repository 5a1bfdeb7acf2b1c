"""The task rows as they are read: one task, one held for the rest of a write, a list, a
search, the counts by status; a task's dependencies. ``TASK_COLUMNS`` and ``row_to_task``
are the row and its mapper, which the features that read tasks with rows of their own (a
plan's, a campaign's) and the read models use. ``tasks`` and ``task_deps`` are this
feature's tables; each read is one named operation."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from core.errors import UnknownTask
from core.models import FINISHED_SQL, BlockedOn, Priority, Task, TaskStatus, task_ref
from core.store import row_locks
from core.store.conn import Conn, Row, Sql, in_list, listed, sql, sql_pair, values

TASK_COLUMNS = (
    "id, title, details, priority, role, capabilities, pinned_agent, assignee, status, reason, "
    "attempts, max_attempts, created_by, created_at, updated_at, assigned_at, started_at, "
    "finished_at, lease_expires_at, result_note, plan_id, kind, blocked_on"
)
TASK = sql(f"SELECT {TASK_COLUMNS} FROM tasks WHERE id = :task_id")
# a fragment for the features above that ask which tasks an agent holds now (the questions
# open on them): the ids of the tasks assigned or in progress
ACTIVE_TASK_IDS = "SELECT id FROM tasks WHERE status IN ('assigned', 'in_progress')"
DEPS_OF = sql_pair(
    "SELECT task_id, dep_id FROM task_deps WHERE task_id {ids} ORDER BY task_id, dep_id",
    ids=in_list("ids", "BIGINT"),
)
# ``search_tasks``: the id starts with ``:number`` or the title contains ``:title``
_SEARCH = (
    "(CAST(id AS TEXT) LIKE :number OR lower(title) LIKE lower(:title)) "
    "ORDER BY id DESC LIMIT :limit"
)
SEARCH = sql(f"SELECT {TASK_COLUMNS} FROM tasks WHERE {_SEARCH}")
TASK_TAKERS = sql("SELECT status, role, capabilities, pinned_agent FROM tasks WHERE id = :id")
READY_TAKERS = sql("SELECT role, capabilities, pinned_agent FROM tasks WHERE status = 'ready'")
# ``readable_by``: the task is the agent's own (assigned or pinned) or one of its own waits for
READABLE_BY = sql(
    "SELECT 1 FROM tasks WHERE id = :task_id AND (assignee = :agent OR pinned_agent = :agent) "
    "UNION ALL SELECT 1 FROM task_deps d JOIN tasks t ON t.id = d.task_id "
    "WHERE d.dep_id = :task_id AND (t.assignee = :agent OR t.pinned_agent = :agent) LIMIT 1"
)
SEARCH_IN_STATUSES = sql_pair(
    f"SELECT {TASK_COLUMNS} FROM tasks WHERE status {{statuses}} AND {_SEARCH}",
    statuses=in_list("statuses"),
)


class TaskTakers(NamedTuple):
    """What decides who may take a task: its status, role, capabilities (a JSON list),
    pinned agent."""

    status: str
    role: str | None
    capabilities: str
    pinned_agent: str | None


def task_takers(conn: Conn, task_id: int) -> TaskTakers | None:
    """What decides who may take ``task_id``, or None: no such task."""
    row = conn.execute(TASK_TAKERS, {"id": task_id}).fetchone()
    return None if row is None else TaskTakers(*values(row))


def ready_takers(conn: Conn) -> list[TaskTakers]:
    """What decides who may take each ready task."""
    return [TaskTakers("ready", *values(row)) for row in conn.execute(READY_TAKERS)]


def _listing(open_only: bool, by_status: bool, by_agent: bool) -> Sql:
    """The newest tasks, filtered as ``list_tasks`` is asked (unfinished ones, one status,
    one agent's), at most ``:limit``."""
    where = []
    if open_only:
        where.append(f"status NOT IN {FINISHED_SQL}")
    if by_status:
        where.append("status = :status")
    if by_agent:
        where.append("(assignee = :agent OR pinned_agent = :agent)")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return sql(f"SELECT {TASK_COLUMNS} FROM tasks {clause} ORDER BY id DESC LIMIT :limit")


# ``list_tasks``' statement for each filter it may be given: (unfinished only, by status, by
# agent); a status asked for overrides unfinished only
LISTINGS = {
    (open_only, by_status, by_agent): _listing(open_only, by_status, by_agent)
    for open_only in (False, True)
    for by_status in (False, True)
    for by_agent in (False, True)
    if not (open_only and by_status)
}


def row_to_task(row: Row, after: list[int]) -> Task:
    """Build a Task from a ``tasks`` row and its dependency ids."""
    return Task(
        id=row["id"],
        title=row["title"],
        details=row["details"],
        priority=Priority(row["priority"]),
        status=TaskStatus(row["status"]),
        role=row["role"],
        capabilities=tuple(json.loads(row["capabilities"])),
        pinned=row["pinned_agent"],
        agent=row["assignee"],
        after=after,
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        reason=row["reason"],
        note=row["result_note"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        assigned_at=row["assigned_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        lease_expires_at=row["lease_expires_at"],
        plan_id=row["plan_id"],
        kind=row["kind"],
        blocked_on=BlockedOn(row["blocked_on"]) if row["blocked_on"] else None,
    )


def deps_of(conn: Conn, task_ids: Iterable[int]) -> dict[int, list[int]]:
    """Dependency ids of each given task."""
    ids = list(task_ids)
    result: dict[int, list[int]] = {i: [] for i in ids}
    for row in conn.execute(DEPS_OF.on(conn), {"ids": listed(ids)}):
        result[row["task_id"]].append(row["dep_id"])
    return result


def get_task(conn: Conn, task_id: int) -> Task:
    """One task; UnknownTask (a NotFound) when there is none."""
    row = conn.execute(TASK, {"task_id": task_id}).fetchone()
    if row is None:
        raise UnknownTask(f"unknown task {task_ref(task_id)}")
    return row_to_task(row, deps_of(conn, [task_id])[task_id])


def held_task(conn: Conn, task_id: int) -> Task:
    """One task, read after taking its row for the rest of the write transaction (a
    concurrent writer of it waits, then reads what this one wrote: ``row_locks.hold``)."""
    row = row_locks.read_held(conn, "tasks", TASK_COLUMNS, task_id)
    if row is None:
        raise UnknownTask(f"unknown task {task_ref(task_id)}")
    return row_to_task(row, deps_of(conn, [task_id])[task_id])


def list_tasks(
    conn: Conn,
    status: TaskStatus | None = None,
    agent: str | None = None,
    limit: int = 200,
    open_only: bool = False,
) -> list[Task]:
    """Tasks filtered by status (or unfinished ones) and/or assignee, newest first."""
    listing = LISTINGS[(open_only and status is None, status is not None, agent is not None)]
    params: dict[str, object] = {"limit": limit}
    if status is not None:
        params["status"] = status.value
    if agent is not None:
        params["agent"] = agent
    rows = conn.execute(listing, params).fetchall()
    deps = deps_of(conn, [r["id"] for r in rows])
    return [row_to_task(r, deps[r["id"]]) for r in rows]


def readable_by(conn: Conn, task_id: int, agent: str) -> bool:
    """Whether ``task_id`` is ``agent``'s own (assigned or pinned) or one its own wait for."""
    return conn.execute(READABLE_BY, {"task_id": task_id, "agent": agent}).fetchone() is not None


def search_tasks(conn: Conn, prefix: str, statuses: Sequence[str] | None, limit: int) -> list[Task]:
    """Tasks in ``statuses`` (None: any) whose ``T-id`` starts with ``prefix`` or whose title
    contains it, newest first."""
    text = prefix.strip()
    digits = text[2:] if text[:2].upper() == "T-" else text
    number = f"{digits}%" if digits.isdigit() or not digits else "-"
    params: dict[str, Any] = {"number": number, "title": f"%{text}%", "limit": limit}
    if statuses:
        params["statuses"] = listed(statuses)
    search = SEARCH_IN_STATUSES.on(conn) if statuses else SEARCH
    rows = conn.execute(search, params).fetchall()
    deps = deps_of(conn, [r["id"] for r in rows])
    return [row_to_task(r, deps[r["id"]]) for r in rows]


def status_counts(conn: Conn) -> dict[str, int]:
    """Number of tasks in each status."""
    counts = {s.value: 0 for s in TaskStatus}
    for row in conn.execute("SELECT status, count(*) AS n FROM tasks GROUP BY status"):
        counts[row["status"]] = row["n"]
    return counts
