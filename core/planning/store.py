"""Plan store functions: each runs inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from core.context import Ctx
from core.errors import InvalidState, NotFound
from core.event_kinds import EventKind
from core.models import task_ref
from core.planning.model import Plan, PlanProgress, item_from_json, plan_ref
from core.store import tables
from core.store.conn import Args, Conn, Row
from core.tasks import creation


def insert_plan(
    conn: Conn,
    ctx: Ctx,
    goal: str,
    document: dict[str, Any],
    model: str | None,
    notes: Sequence[str],
) -> int:
    """Store a validated draft and its ``plan.created`` event; return the plan id."""
    cur = conn.execute(
        "INSERT INTO plans (goal, summary, status, plan, model, notes, created_by, created_at, "
        "updated_at) VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8) RETURNING id",
        (
            goal,
            document["summary"],
            json.dumps(document),
            model,
            json.dumps(list(notes)),
            ctx.actor,
            ctx.now,
            ctx.now,
        ),
    )
    plan_id = int(cur.fetchone()["id"])
    count = len(document["tasks"])
    tables.insert_event(
        conn,
        ctx.now,
        EventKind.PLAN_CREATED,
        f"{plan_ref(plan_id)} drafted for {ctx.actor}: {document['summary']} "
        f"({count} tasks, waiting for approval)",
        actor=ctx.actor,
        data={"plan": plan_ref(plan_id), "tasks": count},
    )
    return plan_id


def get_plan(conn: Conn, plan_id: int) -> Plan:
    """One plan; NotFound when there is none."""
    row = conn.execute("SELECT * FROM plans WHERE id = $1", (plan_id,)).fetchone()
    if row is None:
        raise NotFound(f"unknown plan {plan_ref(plan_id)}")
    return _row_to_plan(row)


def list_plans(conn: Conn, status: str | None, limit: int) -> list[Plan]:
    """Plans, newest first."""
    args = Args()
    where = f"WHERE status = {args(status)}" if status else ""
    rows = conn.execute(f"SELECT * FROM plans {where} ORDER BY id DESC LIMIT {args(limit)}", args)
    return [_row_to_plan(r) for r in rows]


def _row_to_plan(row: Row) -> Plan:
    document = json.loads(row["plan"])
    return Plan(
        id=row["id"],
        goal=row["goal"],
        summary=row["summary"],
        status=row["status"],
        items=tuple(item_from_json(t) for t in document["tasks"]),
        model=row["model"],
        notes=tuple(json.loads(row["notes"])),
        task_ids=tuple(json.loads(row["task_ids"])),
        created_by=row["created_by"],
        created_at=row["created_at"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
    )


def _decide(conn: Conn, ctx: Ctx, plan_id: int, status: str) -> Plan:
    plan = get_plan(conn, plan_id)
    if plan.status != "draft":
        by = f" by {plan.decided_by}" if plan.decided_by else ""
        raise InvalidState(f"{plan.ref} is already {plan.status}{by}")
    conn.execute(
        "UPDATE plans SET status = $1, decided_by = $2, decided_at = $3, updated_at = $4 "
        "WHERE id = $5",
        (status, ctx.actor, ctx.now, ctx.now, plan_id),
    )
    return plan


def approve_plan(conn: Conn, ctx: Ctx, plan_id: int) -> list[int]:
    """Create every task of a draft (one transaction, under the plan id); their ids."""
    plan = _decide(conn, ctx, plan_id, "approved")
    ids = creation.create_tasks(conn, ctx, [i.spec() for i in plan.items], plan.ref)
    conn.execute("UPDATE plans SET task_ids = $1 WHERE id = $2", (json.dumps(ids), plan_id))
    refs = [task_ref(i) for i in ids]
    tables.insert_event(
        conn,
        ctx.now,
        EventKind.PLAN_APPROVED,
        f"{plan.ref} approved by {ctx.actor}: {len(ids)} tasks ({', '.join(refs)})",
        actor=ctx.actor,
        data={"plan": plan.ref, "tasks": refs},
    )
    return ids


def discard_plan(conn: Conn, ctx: Ctx, plan_id: int) -> None:
    """Mark a draft discarded; nothing is created."""
    plan = _decide(conn, ctx, plan_id, "discarded")
    tables.insert_event(
        conn,
        ctx.now,
        EventKind.PLAN_DISCARDED,
        f"{plan.ref} discarded by {ctx.actor}: {plan.summary}",
        actor=ctx.actor,
        data={"plan": plan.ref},
    )


def plan_progress(conn: Conn, plan_id: int) -> PlanProgress:
    """The plan and its tasks, in creation order."""
    plan = get_plan(conn, plan_id)
    rows = conn.execute(
        f"SELECT {tables.TASK_COLUMNS} FROM tasks WHERE plan_id = $1 ORDER BY id", (plan.ref,)
    ).fetchall()
    deps = tables.deps_of(conn, [r["id"] for r in rows])
    return PlanProgress(plan, [tables.row_to_task(r, deps[r["id"]]) for r in rows])
