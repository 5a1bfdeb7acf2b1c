"""Plans: a goal turned by a model into a reviewed task graph, created in one transaction.

A draft is validated before anyone sees it (roles, priorities, refs, cycles, bounds: the
same checks core applies when tasks are created), stored, previewed, then approved (every
task created at once, grouped under the plan id) or discarded.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core import store, tasks
from core.ai import AIClient, PlanRejected
from core.ai.plan_prompt import (
    PlanLimits,
    check_answer,
    correction_prompt,
    system_prompt,
    user_prompt,
)
from core.ai.plan_view import render_preview, render_progress
from core.context import Ctx
from core.errors import InvalidState, NotFound, SwarmError
from core.models import Task, TaskSpec, TaskStatus, parse_ref, task_ref
from core.text import split_text

if TYPE_CHECKING:
    from core.service import SwarmService

log = logging.getLogger(__name__)

__all__ = ["Plan", "PlanItem", "PlanProgress", "PlanService", "parse_plan_ref",
           "render_preview", "render_progress", "split_text"]


def plan_ref(plan_id: int) -> str:
    """The human-friendly id of a plan, e.g. ``P-3``."""
    return f"P-{plan_id}"


def parse_plan_ref(ref: str | int) -> int:
    """Read ``P-3``, ``p-3`` or ``3`` into 3; raise NotFound for anything else."""
    return parse_ref(ref, "P", "plan", 3)


@dataclass(frozen=True)
class PlanItem:
    """One task of a plan, as the model proposed it (validated)."""

    ref: str
    title: str
    details: str = ""
    role: str | None = None
    priority: str = "normal"
    after: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The portable shape: ref, title, details, role, priority, after."""
        return {"ref": self.ref, "title": self.title, "details": self.details,
                "role": self.role, "priority": self.priority, "after": list(self.after)}

    def spec(self) -> TaskSpec:
        """The task to create for this item."""
        return TaskSpec(self.title, self.details, self.priority, self.role,
                        after=self.after, ref=self.ref)


@dataclass(frozen=True)
class Plan:
    """A stored plan: draft, approved or discarded."""

    id: int
    goal: str
    summary: str
    status: str
    items: tuple[PlanItem, ...]
    model: str | None = None
    notes: tuple[str, ...] = ()
    task_ids: tuple[int, ...] = ()
    created_by: str = ""
    created_at: float = 0.0
    decided_by: str | None = None
    decided_at: float | None = None

    @property
    def ref(self) -> str:
        """Human-friendly id, e.g. ``P-3``."""
        return plan_ref(self.id)

    def document(self) -> dict[str, Any]:
        """The plan in the portable shape ``{"summary", "tasks"}``."""
        return {"summary": self.summary, "tasks": [i.to_json() for i in self.items]}

    def to_json(self) -> dict[str, Any]:
        """Every field, for ``--json`` output."""
        return {"id": self.ref, "goal": self.goal, "status": self.status, **self.document(),
                "model": self.model, "notes": list(self.notes),
                "task_ids": [task_ref(t) for t in self.task_ids],
                "created_by": self.created_by, "created_at": self.created_at,
                "decided_by": self.decided_by, "decided_at": self.decided_at}


@dataclass
class PlanProgress:
    """Where an approved plan's tasks stand."""

    plan: Plan
    tasks: list[Task] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Tasks of the plan (created, or proposed for a draft)."""
        return len(self.tasks) or len(self.plan.items)

    @property
    def done(self) -> int:
        """Tasks done."""
        return sum(t.status is TaskStatus.done for t in self.tasks)

    @property
    def counts(self) -> dict[str, int]:
        """Tasks per status."""
        counts = {s.value: 0 for s in TaskStatus}
        for task in self.tasks:
            counts[task.status.value] += 1
        return counts

    @property
    def blocked(self) -> list[Task]:
        """Tasks that cannot run, each with its reason."""
        return [t for t in self.tasks if t.status in (TaskStatus.blocked, TaskStatus.failed)]

    def to_json(self) -> dict[str, Any]:
        """Totals, counts per status, the blocked tasks with reasons, every task."""
        return {**self.plan.to_json(), "done": self.done, "total": self.total,
                "counts": self.counts,
                "blocked": [{"id": t.ref, "title": t.title, "status": t.status.value,
                             "reason": t.reason} for t in self.blocked],
                "tasks": [t.to_json() for t in self.tasks]}


class PlanService:
    """Draft, approve, discard and follow plans; wraps a SwarmService and an AIClient."""

    def __init__(self, service: SwarmService, ai: AIClient) -> None:
        self.service = service
        self.ai = ai

    def limits(self) -> PlanLimits:
        """The bounds a plan must respect."""
        s = self.service.settings
        return PlanLimits(self.ai.settings.plan_max_tasks, s.max_title, s.max_text,
                          self.ai.settings.plan_max_context)

    async def draft(self, goal: str, context: str, actor: str) -> Plan:
        """Ask the model for a plan, validate it (one corrective round-trip), store a draft."""
        self.ai.settings.require("planning")
        ctx = self.service.ctx(actor)
        goal = ctx.check_text(goal, "goal")
        limits = self.limits()
        prompt, notes = user_prompt(goal, context, limits)
        messages = [{"role": "system", "content": system_prompt(list(ctx.agents.values()),
                                                                 limits)},
                    {"role": "user", "content": prompt}]
        document, model = await self._ask(messages, actor)
        plan_id = await self.service.write(actor, insert_plan, goal, document, model, notes)
        log.info("plan %s drafted by %s: %d tasks", plan_ref(plan_id), actor,
                 len(document["tasks"]))
        return await self.get(plan_id)

    async def _ask(self, messages: list[dict[str, str]], actor: str) -> tuple[dict[str, Any],
                                                                                 str]:
        for round_trip in (1, 2):
            result = await self.ai.chat("plan", messages, json_mode=True, actor=actor)
            document, errors = await self.check(result.content, actor)
            if not errors:
                return document, result.model
            log.info("plan answer %d invalid: %s", round_trip, "; ".join(errors))
            messages = [*messages, {"role": "assistant", "content": result.content[:20_000]},
                        {"role": "user", "content": correction_prompt(errors)}]
        shown = "; ".join(errors[:4]) + (f" (and {len(errors) - 4} more)" if len(errors) > 4
                                          else "")
        raise PlanRejected(f"the model's plan was invalid twice, nothing was created: {shown}")

    async def check(self, content: str, actor: str) -> tuple[dict[str, Any], list[str]]:
        """Validate an answer: its shape, then a rolled-back creation of its tasks."""
        ctx = self.service.ctx(actor)
        document, errors = check_answer(content, ctx, self.limits())
        if errors:
            return document, errors
        specs = [_item(t).spec() for t in document["tasks"]]
        try:
            await self.service.db.write(_dry_run, ctx, specs)
        except _RolledBack:
            return document, []
        except SwarmError as exc:
            return document, [str(exc)]
        raise AssertionError("unreachable")  # pragma: no cover

    async def approve(self, ref: str | int, actor: str) -> list[int]:
        """Create every task of a draft in one transaction, under the plan id; their ids."""
        ids = await self.service.write(actor, approve_plan, parse_plan_ref(ref))
        log.info("plan %s approved by %s: %d tasks", plan_ref(parse_plan_ref(ref)), actor,
                 len(ids))
        return ids

    async def discard(self, ref: str | int, actor: str) -> None:
        """Drop a draft; nothing is created."""
        await self.service.write(actor, discard_plan, parse_plan_ref(ref))

    async def get(self, ref: str | int) -> Plan:
        """One plan by id (``P-3`` or 3)."""
        return await self.service.db.read(get_plan, parse_plan_ref(ref))

    async def list_plans(self, status: str | None = None, limit: int = 25) -> list[Plan]:
        """Plans, newest first (optionally of one status)."""
        return await self.service.db.read(list_plans, status, limit)

    async def progress(self, ref: str | int) -> PlanProgress:
        """The plan with its tasks: done / total, what is blocked and why."""
        return await self.service.db.read(plan_progress, parse_plan_ref(ref))


class _RolledBack(Exception):
    """Raised after a dry run so its transaction is rolled back."""


def _dry_run(conn: sqlite3.Connection, ctx: Ctx, specs: Sequence[TaskSpec]) -> None:
    tasks.create_tasks(conn, ctx, specs, None)
    raise _RolledBack


def _item(raw: dict[str, Any]) -> PlanItem:
    return PlanItem(raw["ref"], raw["title"], raw.get("details") or "", raw.get("role"),
                    raw.get("priority") or "normal", tuple(raw.get("after") or ()))


# -- store functions (each runs inside one transaction) ---------------------------------


def insert_plan(conn: sqlite3.Connection, ctx: Ctx, goal: str, document: dict[str, Any],
                model: str | None, notes: Sequence[str]) -> int:
    """Store a validated draft and its ``plan.created`` event; return the plan id."""
    cur = conn.execute(
        "INSERT INTO plans (goal, summary, status, plan, model, notes, created_by, created_at, "
        "updated_at) VALUES (?, ?, 'draft', ?, ?, ?, ?, ?, ?)",
        (goal, document["summary"], json.dumps(document), model, json.dumps(list(notes)),
         ctx.actor, ctx.now, ctx.now))
    plan_id = int(cur.lastrowid or 0)
    count = len(document["tasks"])
    store.insert_event(conn, ctx.now, "plan.created",
                       f"{plan_ref(plan_id)} drafted for {ctx.actor}: {document['summary']} "
                       f"({count} tasks, waiting for approval)", actor=ctx.actor,
                       data={"plan": plan_ref(plan_id), "tasks": count})
    return plan_id


def get_plan(conn: sqlite3.Connection, plan_id: int) -> Plan:
    """One plan; NotFound when there is none."""
    row = conn.execute("SELECT * FROM plans WHERE id = ?", (plan_id,)).fetchone()
    if row is None:
        raise NotFound(f"unknown plan {plan_ref(plan_id)}")
    return _row_to_plan(row)


def list_plans(conn: sqlite3.Connection, status: str | None, limit: int) -> list[Plan]:
    """Plans, newest first."""
    where, args = ("WHERE status = ?", (status,)) if status else ("", ())
    rows = conn.execute(f"SELECT * FROM plans {where} ORDER BY id DESC LIMIT ?", (*args, limit))
    return [_row_to_plan(r) for r in rows]


def _row_to_plan(row: sqlite3.Row) -> Plan:
    document = json.loads(row["plan"])
    return Plan(
        id=row["id"], goal=row["goal"], summary=row["summary"], status=row["status"],
        items=tuple(_item(t) for t in document["tasks"]), model=row["model"],
        notes=tuple(json.loads(row["notes"])), task_ids=tuple(json.loads(row["task_ids"])),
        created_by=row["created_by"], created_at=row["created_at"],
        decided_by=row["decided_by"], decided_at=row["decided_at"])


def _decide(conn: sqlite3.Connection, ctx: Ctx, plan_id: int, status: str) -> Plan:
    plan = get_plan(conn, plan_id)
    if plan.status != "draft":
        raise InvalidState(f"{plan.ref} is already {plan.status}")
    conn.execute("UPDATE plans SET status = ?, decided_by = ?, decided_at = ?, updated_at = ? "
                 "WHERE id = ?", (status, ctx.actor, ctx.now, ctx.now, plan_id))
    return plan


def approve_plan(conn: sqlite3.Connection, ctx: Ctx, plan_id: int) -> list[int]:
    """Create every task of a draft (one transaction, under the plan id); their ids."""
    plan = _decide(conn, ctx, plan_id, "approved")
    ids = tasks.create_tasks(conn, ctx, [i.spec() for i in plan.items], plan.ref)
    conn.execute("UPDATE plans SET task_ids = ? WHERE id = ?", (json.dumps(ids), plan_id))
    refs = [task_ref(i) for i in ids]
    store.insert_event(conn, ctx.now, "plan.approved",
                       f"{plan.ref} approved by {ctx.actor}: {len(ids)} tasks "
                       f"({', '.join(refs)})", actor=ctx.actor,
                       data={"plan": plan.ref, "tasks": refs})
    return ids


def discard_plan(conn: sqlite3.Connection, ctx: Ctx, plan_id: int) -> None:
    """Mark a draft discarded; nothing is created."""
    plan = _decide(conn, ctx, plan_id, "discarded")
    store.insert_event(conn, ctx.now, "plan.discarded",
                       f"{plan.ref} discarded by {ctx.actor}: {plan.summary}", actor=ctx.actor,
                       data={"plan": plan.ref})


def plan_progress(conn: sqlite3.Connection, plan_id: int) -> PlanProgress:
    """The plan and its tasks, in creation order."""
    plan = get_plan(conn, plan_id)
    rows = conn.execute(f"SELECT {store.TASK_COLUMNS} FROM tasks WHERE plan_id = ? ORDER BY id",
                        (plan.ref,)).fetchall()
    deps = store.deps_of(conn, [r["id"] for r in rows])
    return PlanProgress(plan, [store.row_to_task(r, deps[r["id"]]) for r in rows])
