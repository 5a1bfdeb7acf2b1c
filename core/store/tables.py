"""Row-level reads and writes. Every function takes the connection it runs in."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypeGuard, runtime_checkable

from core.errors import UnknownTask
from core.event_kinds import EventKind
from core.models import (
    FINISHED_SQL,
    BlockedOn,
    Delivery,
    DeliveryState,
    Event,
    Priority,
    Target,
    TargetKind,
    Task,
    TaskStatus,
    task_ref,
)
from core.store import row_locks
from core.store.capability import implements
from core.store.conn import Args, Conn, Row

TASK_COLUMNS = (
    "id, title, details, priority, role, capabilities, pinned_agent, assignee, status, reason, "
    "attempts, max_attempts, created_by, created_at, updated_at, assigned_at, started_at, "
    "finished_at, lease_expires_at, result_note, plan_id, kind, blocked_on"
)


def insert_event(
    conn: Conn,
    ts: float,
    kind: EventKind,
    text: str,
    *,
    task_id: int | None = None,
    agent: str | None = None,
    actor: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one event to the outbox; call it in the transaction of the change (on
    PostgreSQL the row is sent with the commit: ``Conn.add_event``)."""
    conn.add_event((ts, kind, text, task_id, agent, actor, json.dumps(data) if data else None))


def row_to_event(row: Row) -> Event:
    """Build an Event from an ``events`` row."""
    return Event(
        id=row["id"],
        ts=row["ts"],
        kind=row["kind"],
        text=row["text"],
        task_id=row["task_id"],
        agent=row["agent_id"],
        actor=row["actor"],
        data=json.loads(row["data"]) if row["data"] else None,
    )


@runtime_checkable
class CommitOrdered(Protocol):
    """A connection whose events may commit out of id order (writers side by side): it
    says which events a consumer may read and in what order (``core.store.postgres.store``)."""

    def events_after(self, args: Args, after_id: int) -> tuple[str, str]:
        """The condition (its parameters added to ``args``) and the order of the events
        after ``after_id``."""
        ...

    def newest_events_order(self) -> tuple[str, str]:
        """The condition and the newest-first order of the events a consumer may read."""
        ...


def _commit_ordered(conn: Conn) -> TypeGuard[CommitOrdered]:
    """Whether ``conn``'s events may commit out of id order (decided once per class)."""
    return implements(conn, CommitOrdered)


def unseen(conn: Conn, args: Args, after_id: int) -> tuple[str, str]:
    """The condition (its parameters added to ``args``) and the order of the events a
    consumer that last saw event ``after_id`` reads next: on SQLite (one writer: ids in
    commit order) those with a higher id; on PostgreSQL those committed below the outbox
    horizon, after it in (txid, id) order. A consumer keeps the id of the last event it
    handled, not the highest."""
    conn.flush_events()
    if _commit_ordered(conn):
        return conn.events_after(args, after_id)
    return f"id > {args(after_id)}", "id"


def newest_first(conn: Conn) -> tuple[str, str]:
    """The condition and the order of the events a consumer may read, newest first."""
    conn.flush_events()
    if _commit_ordered(conn):
        return conn.newest_events_order()
    return "TRUE", "id DESC"


def events_after(
    conn: Conn, after_id: int = 0, limit: int = 100, task_id: int | None = None
) -> list[Event]:
    """Events after event ``after_id`` in commit order (``unseen``), oldest first."""
    args = Args()
    task = "" if task_id is None else f"task_id = {args(task_id)} AND "
    where, order = unseen(conn, args, after_id)
    rows = conn.execute(
        f"SELECT * FROM events WHERE {task}{where} ORDER BY {order} LIMIT {args(limit)}", args
    )
    return [row_to_event(r) for r in rows]


def last_events(conn: Conn, limit: int) -> list[Event]:
    """The newest ``limit`` events a consumer may read, oldest first (the last of them is
    where a consumer that starts now begins)."""
    where, order = newest_first(conn)
    rows = conn.execute(
        f"SELECT * FROM events WHERE {where} ORDER BY {order} LIMIT $1", (limit,)
    ).fetchall()
    return [row_to_event(r) for r in reversed(rows)]
    return [row_to_event(r) for r in reversed(rows)]


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
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        args = Args()
        for row in conn.execute(
            f"SELECT task_id, dep_id FROM task_deps WHERE task_id IN ({args.many(chunk)}) "
            "ORDER BY task_id, dep_id",
            args,
        ):
            result[row["task_id"]].append(row["dep_id"])
    return result


def get_task(conn: Conn, task_id: int) -> Task:
    """One task; UnknownTask (a NotFound) when there is none."""
    row = conn.execute(f"SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1", (task_id,)).fetchone()
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
    where, args = [], Args()
    if open_only and status is None:
        where.append(f"status NOT IN {FINISHED_SQL}")
    if status is not None:
        where.append(f"status = {args(status.value)}")
    if agent is not None:
        who = args(agent)
        where.append(f"(assignee = {who} OR pinned_agent = {who})")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(
        f"SELECT {TASK_COLUMNS} FROM tasks {clause} ORDER BY id DESC LIMIT {args(limit)}", args
    ).fetchall()
    deps = deps_of(conn, [r["id"] for r in rows])
    return [row_to_task(r, deps[r["id"]]) for r in rows]


def task_exists(conn: Conn, task_id: int) -> bool:
    """True when the task id is stored."""
    return conn.execute("SELECT 1 FROM tasks WHERE id = $1", (task_id,)).fetchone() is not None


def status_counts(conn: Conn) -> dict[str, int]:
    """Number of tasks in each status."""
    counts = {s.value: 0 for s in TaskStatus}
    for row in conn.execute("SELECT status, count(*) AS n FROM tasks GROUP BY status"):
        counts[row["status"]] = row["n"]
    return counts


def delivery_counts(conn: Conn) -> dict[str, int]:
    """Number of deliveries in each state."""
    counts = {s.value: 0 for s in DeliveryState}
    for row in conn.execute("SELECT state, count(*) AS n FROM deliveries GROUP BY state"):
        counts[row["state"]] = row["n"]
    return counts


def message_target(row: Row) -> Target:
    """A message's target from its ``target_kind`` and ``target_name`` columns."""
    return Target(TargetKind(row["target_kind"]), row["target_name"])


def row_to_delivery(row: Row) -> Delivery:
    """Build a Delivery from a deliveries-join-messages row."""
    return Delivery(
        id=row["id"],
        message_id=row["message_id"],
        agent=row["agent_id"],
        state=DeliveryState(row["state"]),
        text=row["text"],
        sender=row["sender"],
        task_id=row["task_id"],
        priority=Priority(row["priority"]),
        attempts=row["attempts"],
        reason=row["reason"],
        is_retry=row["attempts"] > 0,
        target=message_target(row),
        deferred=bool(row["deferred"]),
    )


DELIVERY_SELECT = (
    "SELECT d.id, d.message_id, d.agent_id, d.state, d.attempts, d.reason, d.deferred, "
    "m.text, m.sender, m.task_id, m.priority, m.target_kind, m.target_name FROM deliveries d "
    "JOIN messages m ON m.id = d.message_id"
)


def list_deliveries(conn: Conn, message_id: int | None = None, limit: int = 100) -> list[Delivery]:
    """Deliveries, newest first, optionally of one message."""
    if message_id is None:
        rows = conn.execute(f"{DELIVERY_SELECT} ORDER BY d.id DESC LIMIT $1", (limit,))
    else:
        rows = conn.execute(
            f"{DELIVERY_SELECT} WHERE d.message_id = $1 ORDER BY d.id", (message_id,)
        )
    return [row_to_delivery(r) for r in rows]


OPEN_STATUSES = ("blocked", "ready", "assigned", "in_progress")


def search_tasks(conn: Conn, prefix: str, statuses: Sequence[str] | None, limit: int) -> list[Task]:
    """Tasks in ``statuses`` (None: any) whose ``T-id`` starts with ``prefix`` or whose title
    contains it, newest first."""
    text = prefix.strip()
    digits = text[2:] if text[:2].upper() == "T-" else text
    wanted = tuple(statuses) if statuses is not None else ()
    args = Args()
    in_status = f"status IN ({args.many(wanted)}) AND " if wanted else ""
    number = args(f"{digits}%" if digits.isdigit() or not digits else "-")
    rows = conn.execute(
        f"SELECT {TASK_COLUMNS} FROM tasks WHERE {in_status}"
        f"(CAST(id AS TEXT) LIKE {number} OR lower(title) LIKE lower({args(f'%{text}%')})) "
        f"ORDER BY id DESC LIMIT {args(limit)}",
        args,
    ).fetchall()
    deps = deps_of(conn, [r["id"] for r in rows])
    return [row_to_task(r, deps[r["id"]]) for r in rows]


def get_cursor(conn: Conn, consumer: str) -> int:
    """Last handled event id of a consumer (0 when new)."""
    row = conn.execute("SELECT last_id FROM event_cursors WHERE consumer = $1", (consumer,))
    found = row.fetchone()
    return int(found["last_id"]) if found else 0


def set_cursor(conn: Conn, consumer: str, event_id: int) -> None:
    """Store a consumer's last handled event id."""
    conn.execute(
        "INSERT INTO event_cursors (consumer, last_id) VALUES ($1, $2) "
        "ON CONFLICT(consumer) DO UPDATE SET "
        "last_id = CASE WHEN excluded.last_id > event_cursors.last_id "
        "THEN excluded.last_id ELSE event_cursors.last_id END",
        (consumer, event_id),
    )


def insert_audit(
    conn: Conn,
    ts: float,
    user_id: str,
    user_name: str,
    command: str,
    allowed: bool,
    outcome: str,
) -> None:
    """One audit row."""
    conn.execute(
        "INSERT INTO audit (ts, user_id, user_name, command, allowed, outcome) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        (ts, user_id, user_name, command, int(allowed), outcome),
    )


def audit_rows(conn: Conn, limit: int) -> list[dict[str, Any]]:
    """Newest audit rows first."""
    rows = conn.execute("SELECT * FROM audit ORDER BY id DESC LIMIT $1", (limit,))
    return [dict(r) for r in rows]
