"""Plan store functions: each runs inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from core.context import Ctx
from core.errors import InvalidState, NotFound
from core.event_kinds import EventKind
from core.models import task_ref
from core.planning import _queries as queries
from core.planning._model import Plan, PlanProgress, plan_ref
from core.store import tables
from core.store.conn import Conn
from core.tasks import creation
from core.tasks import queries as task_queries


def insert_plan(
    conn: Conn,
    ctx: Ctx,
    goal: str,
    document: dict[str, Any],
    model: str | None,
    notes: Sequence[str],
) -> int:
    """Store a validated draft and its ``plan.created`` event; return the plan id."""
    plan_id = queries.insert(
        conn,
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
    plan = queries.by_id(conn, plan_id)
    if plan is None:
        raise NotFound(f"unknown plan {plan_ref(plan_id)}")
    return plan


def list_plans(conn: Conn, status: str | None, limit: int) -> list[Plan]:
    """Plans, newest first."""
    return queries.rows(conn, status, limit)


def _decide(conn: Conn, ctx: Ctx, plan_id: int, status: str) -> Plan:
    plan = get_plan(conn, plan_id)
    if plan.status != "draft":
        by = f" by {plan.decided_by}" if plan.decided_by else ""
        raise InvalidState(f"{plan.ref} is already {plan.status}{by}")
    queries.decide(conn, plan_id, status, ctx.actor, ctx.now)
    return plan


def approve_plan(conn: Conn, ctx: Ctx, plan_id: int) -> list[int]:
    """Create every task of a draft (one transaction, under the plan id); their ids."""
    plan = _decide(conn, ctx, plan_id, "approved")
    ids = creation.create_tasks(conn, ctx, [i.spec() for i in plan.items], plan.ref)
    queries.set_tasks(conn, plan_id, json.dumps(ids))
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
    return PlanProgress(plan, task_queries.of_plan(conn, plan.ref))
