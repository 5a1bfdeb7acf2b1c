"""The task graph's statements: tasks and their edges inserted, a task's dependencies read, a
not-yet-started task's rule stored, the rows held before a read decides on them. Each is one
named operation of ``core.tasks._creation`` and ``core.tasks._dependencies``; the rows held, and
why, are said with each (the races are in ``tests/store/test_write_races.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from core.store.conn import Conn, in_list, json_rows, listed, sql, sql_pair, values
from core.store.row_locks import hold, hold_found, read_held

# The columns a task is created with, in the order of ``task_values``, with their SQL types.
TASK_TYPES = {
    "title": "TEXT",
    "details": "TEXT",
    "priority": "BIGINT",
    "role": "TEXT",
    "capabilities": "TEXT",
    "pinned_agent": "TEXT",
    "status": "TEXT",
    "reason": "TEXT",
    "blocked_on": "TEXT",
    "max_attempts": "BIGINT",
    "created_by": "TEXT",
    "created_at": "DOUBLE PRECISION",
    "updated_at": "DOUBLE PRECISION",
    "plan_id": "TEXT",
    "campaign_id": "BIGINT",
    "kind": "TEXT",
}
TASK_COLUMNS = tuple(TASK_TYPES)
_TASK_COLUMNS = ", ".join(TASK_COLUMNS)
FREE_ROWS = 62  # tasks per INSERT

INSERT_TASK = sql(
    f"INSERT INTO tasks ({_TASK_COLUMNS}) VALUES ({', '.join(':' + c for c in TASK_COLUMNS)}) "
    "RETURNING id"
)
INSERT_TASKS = sql_pair(
    f"INSERT INTO tasks ({_TASK_COLUMNS}) {{rows}} RETURNING id",
    rows=json_rows("rows", TASK_TYPES),
)
INSERT_DEP = sql("INSERT INTO task_deps (task_id, dep_id) VALUES (:task_id, :dep_id)")
INSERT_TRIGGER = sql("INSERT INTO task_triggers (task_id, dep_id) VALUES (:task_id, :dep_id)")
ADD_DEP = sql(
    "INSERT INTO task_deps (task_id, dep_id) VALUES (:task_id, :dep_id) ON CONFLICT DO NOTHING"
)
DEPENDENCY_STATES = sql(
    "SELECT t.id, t.status FROM task_deps d JOIN tasks t ON "
    "t.id = d.dep_id WHERE d.task_id = :task_id ORDER BY t.id"
)
DEPENDENCY_TRIGGERS = sql(
    "SELECT t.id, t.status, g.dep_id IS NOT NULL AS trig FROM task_deps d "
    "JOIN tasks t ON t.id = d.dep_id LEFT JOIN task_triggers g "
    "ON g.task_id = d.task_id AND g.dep_id = d.dep_id WHERE d.task_id = :task_id ORDER BY t.id"
)
REACHES = sql(
    "WITH RECURSIVE up(id) AS (SELECT :start UNION SELECT d.dep_id FROM task_deps d "
    "JOIN up ON d.task_id = up.id) SELECT 1 FROM up WHERE id = :target LIMIT 1"
)
STATUSES = sql_pair(
    "SELECT id, status FROM tasks WHERE id {ids} ORDER BY id", ids=in_list("ids", "BIGINT")
)
STORE_RULE = sql(
    "UPDATE tasks SET status = :status, reason = :reason, blocked_on = :blocked_on, "
    "updated_at = :now, finished_at = :finished_at WHERE id = :task_id"
)


def hold_tasks(conn: Conn, ids: Iterable[int]) -> None:
    """Hold the tasks ``ids`` until this transaction ends (``row_locks.hold``, in id order;
    nothing on SQLite): a writer finishing one of them either commits first, and a read after
    this sees its status, or waits for this commit and then settles the dependents it added."""
    hold(conn, "tasks", ids)


def insert_task(conn: Conn, task: Sequence[Any]) -> int:
    """Insert one task, ``task`` its 16 column values in the order of ``TASK_COLUMNS``; its
    id."""
    values = dict(zip(TASK_COLUMNS, task, strict=True))
    return int(conn.execute(INSERT_TASK, values).fetchone()["id"])


def insert_tasks(conn: Conn, tasks: Sequence[Sequence[Any]]) -> list[int]:
    """Insert the tasks ``tasks`` (at most ``FREE_ROWS``, each as ``insert_task`` takes it) in
    one INSERT of their rows as one JSON list; their ids, sorted: both databases number the
    rows of one INSERT in the order they are read, the list's, so the n-th id is the n-th
    task's."""
    rows = listed(dict(zip(TASK_COLUMNS, task, strict=True)) for task in tasks)
    cur = conn.execute(INSERT_TASKS.on(conn), {"rows": rows})
    return sorted(int(r["id"]) for r in cur.fetchall())


def insert_edges(conn: Conn, task_id: int, deps: Iterable[int], triggers: Sequence[int]) -> None:
    """The new task ``task_id`` waits for ``deps`` and its failure triggers ``triggers`` (a
    trigger is also a dependency: one row each in ``task_deps``, a row in ``task_triggers``
    more; none for no triggers). Each ``task_deps`` row sets its dependency's
    ``has_dependents`` (the ``task_deps_mark`` trigger)."""
    conn.executemany(INSERT_DEP, [{"task_id": task_id, "dep_id": d} for d in deps])
    if triggers:
        conn.executemany(INSERT_TRIGGER, [{"task_id": task_id, "dep_id": d} for d in triggers])


def add_edges(conn: Conn, task_id: int, after: Sequence[int]) -> None:
    """A stored task waits for ``after`` too (a dependency it already has is kept as is)."""
    conn.executemany(ADD_DEP, [{"task_id": task_id, "dep_id": d} for d in after])


def statuses(conn: Conn, ids: list[int]) -> list[tuple[int, str]]:
    """The tasks ``ids`` (fewer than SQLite binds) with their status, by id."""
    rows = conn.execute(STATUSES.on(conn), {"ids": listed(ids)})
    return [(r["id"], r["status"]) for r in rows]


def dependency_states(conn: Conn, task_id: int) -> list[tuple[int, str]]:
    """Each dependency of ``task_id`` with its status, by id."""
    rows = conn.execute(DEPENDENCY_STATES, {"task_id": task_id})
    return [(r["id"], r["status"]) for r in rows]


def dependency_triggers(conn: Conn, task_id: int) -> list[tuple[int, str, bool]]:
    """Each dependency of ``task_id`` with its status and whether it is a failure trigger,
    by id."""
    rows = conn.execute(DEPENDENCY_TRIGGERS, {"task_id": task_id}).fetchall()
    return [(r["id"], r["status"], bool(r["trig"])) for r in rows]


def reaches(conn: Conn, start: int, target: int) -> bool:
    """True when ``start`` depends, directly or not, on ``target``."""
    row = conn.execute(REACHES, {"start": start, "target": target}).fetchone()
    return row is not None


class HeldRule(NamedTuple):
    """A task's rule as stored: its status, the reason, its kind, what it waits for."""

    status: str
    reason: str | None
    kind: str
    blocked_on: str | None


def held_rule(conn: Conn, task_id: int) -> HeldRule:
    """The task's rule, read as it is held (``row_locks.read_held``): two of its
    dependencies finishing at once settle it one after the other, the second reading what
    the first wrote."""
    return HeldRule(*values(read_held(conn, "tasks", ", ".join(HeldRule._fields), task_id)))


def store_rule(
    conn: Conn, task_id: int, rule: tuple[str, str | None, str | None], now: float, ended: bool
) -> None:
    """Store a not-yet-started task's rule (status, reason, blocked_on), finished now when
    ``ended`` (skipped)."""
    status, reason, blocked_on = rule
    conn.execute(
        STORE_RULE,
        {
            "status": status,
            "reason": reason,
            "blocked_on": blocked_on,
            "now": now,
            "finished_at": now if ended else None,
            "task_id": task_id,
        },
    )


# Every dependent not yet started, with each of its dependencies' status: one read for all.
DEPENDENTS = sql(
    "SELECT x.id, x.status, x.reason, x.kind, x.blocked_on, t.id AS dep, "
    "t.status AS dep_status "
    "FROM task_deps w JOIN tasks x ON x.id = w.task_id JOIN task_deps d ON d.task_id = x.id "
    "JOIN tasks t ON t.id = d.dep_id WHERE w.dep_id = :task_id "
    "AND x.status IN ('blocked', 'ready') ORDER BY x.id, t.id"
)

# The dependents not yet started, held (run only where rows are locked: PostgreSQL).
HOLD_DEPENDENTS = sql(
    "SELECT x.id FROM task_deps w JOIN tasks x ON x.id = w.task_id WHERE w.dep_id = :task_id "
    "AND x.status IN ('blocked', 'ready') ORDER BY x.id FOR UPDATE OF x"
)


def hold_dependents(conn: Conn, task_id: int) -> bool:
    """Hold the dependents of ``task_id`` not yet started; False when it has none (read only
    where rows are locked: on SQLite, which holds the whole database, True without a
    statement). A dependency finishing at the same moment waits, then reads what this
    transaction decided. The read of their dependencies (``dependents``) must come after, in
    a statement of its own: a statement's snapshot is taken when it starts, so a read in this
    one that waited for such a writer would not see what it committed."""
    return hold_found(conn, HOLD_DEPENDENTS, {"task_id": task_id})


class DependentRow(NamedTuple):
    """A dependent not yet started (its rule) and one of its dependencies with its status."""

    id: int
    status: str
    reason: str | None
    kind: str
    blocked_on: str | None
    dep: int
    dep_status: str


def dependents(conn: Conn, task_id: int) -> list[DependentRow]:
    """Each dependent of ``task_id`` not yet started, a row per dependency of it, by id."""
    return [DependentRow(*values(r)) for r in conn.execute(DEPENDENTS, {"task_id": task_id})]
