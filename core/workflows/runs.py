"""Runs of a workflow (its tasks and campaign, in one transaction) and the gates' decisions.

Store functions: each runs inside the caller's transaction (``conn, ctx, ...``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.assignment import lifecycle
from core.context import Ctx
from core.errors import InvalidState
from core.event_kinds import EventKind
from core.models import FINISHED, BlockedOn, Task, TaskStatus, task_ref
from core.store import tables
from core.store.conn import Conn
from core.tasks import campaign_queries, creation, dependencies, read_queries
from core.workflows.campaigns import campaign_ref, insert_campaign
from core.workflows.expand import PlannedTask


@dataclass(frozen=True)
class RunResult:
    """What a run created: its campaign and one task id per planned task."""

    campaign_id: int
    task_ids: tuple[int, ...]

    @property
    def campaign(self) -> str:
        """``C-3``."""
        return campaign_ref(self.campaign_id)


def create_run(
    conn: Conn,
    ctx: Ctx,
    title: str,
    workflow: str,
    values: dict[str, Any],
    planned: Sequence[PlannedTask],
) -> RunResult:
    """The campaign and every task of a run, dependencies wired (one transaction)."""
    campaign_id = insert_campaign(conn, ctx, title, workflow, values)
    ids = creation.create_tasks(conn, ctx, [p.spec for p in planned], None, campaign_id)
    refs = [task_ref(i) for i in ids]
    tables.insert_event(
        conn,
        ctx.now,
        EventKind.CAMPAIGN_CREATED,
        f"{campaign_ref(campaign_id)} started by {ctx.actor}: {title} "
        f"(workflow {workflow}, {len(ids)} tasks)",
        actor=ctx.actor,
        data={"campaign": campaign_ref(campaign_id), "workflow": workflow, "tasks": refs},
    )
    return RunResult(campaign_id, tuple(ids))


def approve(conn: Conn, ctx: Ctx, task_id: int, note: str = "") -> None:
    """A person approves a waiting gate: it is done and its dependents are released."""
    ctx.require_person(f"approving gate {task_ref(task_id)}")
    task = _gate(conn, task_id, "approved")
    note = ctx.check_text(note, "note") if note.strip() else ""
    campaign_queries.approve_gate(
        conn, task_id, f"approved by {ctx.actor}" + (f": {note}" if note else ""), ctx.now
    )
    tables.insert_event(
        conn,
        ctx.now,
        EventKind.GATE_APPROVED,
        f"{task.ref} approved by {ctx.actor}" + (f": {note}" if note else ""),
        task_id=task_id,
        actor=ctx.actor,
    )
    dependencies.settle_dependents(conn, ctx, task_id)


def reject(conn: Conn, ctx: Ctx, task_id: int, reason: str = "") -> list[int]:
    """A person rejects a gate: it and every unfinished task depending on it are cancelled."""
    ctx.require_person(f"rejecting gate {task_ref(task_id)}")
    task = _gate(conn, task_id, "rejected")
    reason = ctx.check_text(reason, "reason", one_line=True) if reason.strip() else ""
    downstream = campaign_queries.downstream(conn, task_id)
    campaign_queries.note_rejection(
        conn, task_id, f"rejected by {ctx.actor}" + (f": {reason}" if reason else "")
    )
    tables.insert_event(
        conn,
        ctx.now,
        EventKind.GATE_REJECTED,
        f"{task.ref} rejected by {ctx.actor}" + (f": {reason}" if reason else ""),
        task_id=task_id,
        actor=ctx.actor,
    )
    cancelled = []
    for dependent in sorted(downstream, reverse=True):  # the farthest first: none is released
        if read_queries.get_task(conn, dependent).status not in FINISHED:
            lifecycle.cancel(conn, ctx, dependent)
            cancelled.append(dependent)
    lifecycle.cancel(conn, ctx, task_id)
    return sorted(cancelled)


def _gate(conn: Conn, task_id: int, action: str) -> Task:
    task = read_queries.held_task(conn, task_id)  # approve and reject at once: one after the other
    if campaign_queries.task_kind(conn, task_id) != "gate":
        raise InvalidState(f"{task.ref} is not a gate: only a gate step is approved or rejected")
    if task.status is TaskStatus.done:
        raise InvalidState(f"{task.ref} was already {task.note or 'approved'}")
    if task.status is TaskStatus.cancelled:
        raise InvalidState(f"{task.ref} was already {task.note or 'cancelled'}")
    if task.blocked_on is not BlockedOn.gate and action == "approved":
        raise InvalidState(f"{task.ref} cannot be approved yet: {task.reason}")
    return task
