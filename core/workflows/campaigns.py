"""Campaigns: a group of tasks followed to the end. Store functions run in the caller's
transaction (``conn, ctx, ...``), like :mod:`core.assignment._lifecycle`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.assignment import lifecycle
from core.context import Ctx
from core.errors import InvalidInput, InvalidState, NotFound, UnknownTask
from core.event_kinds import EventKind
from core.models import (
    FINISHED,
    Agent,
    BlockedOn,
    Task,
    TaskStatus,
    parse_ref,
    parse_task_ref,
    task_ref,
)
from core.reports.counts import count, zero
from core.store import tables
from core.store.conn import Conn
from core.store.row_locks import hold
from core.tasks import campaign_end, campaign_queries, nobody_takes
from core.workflows import queries
from core.workflows.pace import Pace, recent_pace


def campaign_ref(campaign_id: int) -> str:
    """The human-friendly id of a campaign, e.g. ``C-3``."""
    return f"C-{campaign_id}"


def parse_campaign_ref(ref: str | int) -> int:
    """Read ``C-3``, ``c-3`` or ``3`` into 3; NotFound for anything else."""
    return parse_ref(ref, "C", "campaign", 3)


@dataclass
class Campaign:
    """A campaign and its tasks, with what a person wants to know about its progress."""

    id: int
    title: str
    status: str
    workflow: str | None
    vars: dict[str, Any]
    created_by: str
    created_at: float
    cancelled_at: float | None
    tasks: list[Task] = field(default_factory=list)
    kinds: dict[int, str] = field(default_factory=dict)
    pace: Pace | None = None  # the agents' recent pace, when read with it
    happened: dict[str, int] = field(default_factory=zero)  # core.reports.counts, all time
    untakeable: dict[int, str] = field(default_factory=dict)  # task id -> why nobody takes it

    @property
    def ref(self) -> str:
        """Human-friendly id, e.g. ``C-3``."""
        return campaign_ref(self.id)

    def count(self, *statuses: TaskStatus) -> int:
        """Tasks in any of ``statuses``."""
        return sum(t.status in statuses for t in self.tasks)

    @property
    def gates_waiting(self) -> list[Task]:
        """Gates whose dependencies are through: a person must approve or reject them."""
        return [
            t
            for t in self.tasks
            if t.blocked_on is BlockedOn.gate
            and t.status is TaskStatus.blocked
            and self.kinds.get(t.id) == "gate"
        ]

    @property
    def finished(self) -> bool:
        """True when every task is final (done, skipped, failed or cancelled)."""
        return all(t.status in FINISHED for t in self.tasks)

    def state(self) -> str:
        """``open``, ``finished`` or ``cancelled``."""
        if self.status == "cancelled":
            return "cancelled"
        return "finished" if self.tasks and self.finished else "open"

    def elapsed(self, now: float) -> float:
        """Seconds from creation to now, or to the last finish once everything is final."""
        ends = [t.finished_at or 0.0 for t in self.tasks]
        end = (self.cancelled_at or now) if not self.tasks or not self.finished else max(ends)
        return max(0.0, end - self.created_at)

    def remaining_s(self, now: float) -> float | None:
        """Seconds to the end (see :meth:`estimate`), or None."""
        return self.estimate(now)[0]

    def estimate(self, now: float) -> tuple[float | None, str]:
        """Seconds to the end and what the figure stands on: the agents' recent pace (the
        median task of the campaign's agents, shared among them) when they finished enough
        tasks lately; else the campaign's pace so far (tasks finished per second since it
        started); None before the first finish, with only gates left, once nothing is, or
        when no configured agent can take any task left (``untakeable``, the rule of "Needs
        you"). Tasks nobody can take are named and left out of the figure."""
        finished = self.count(*FINISHED)
        left = len(self.tasks) - finished
        if self.state() != "open" or not left:
            return None, ""
        work = [
            t for t in self.tasks if t.status not in FINISHED and self.kinds.get(t.id) != "gate"
        ]
        if not work:
            return None, "only gates left: a person decides"
        stuck = [t for t in work if t.id in self.untakeable]
        if len(stuck) == len(work):
            return None, "no agent can take the rest: " + self._stuck_text(stuck)
        seconds, basis = self._pace_estimate(now, len(work) - len(stuck), left - len(stuck))
        if stuck:
            basis = f"{basis}; no agent can take {self._stuck_text(stuck)}"
        return seconds, basis

    def _pace_estimate(self, now: float, work_left: int, left: int) -> tuple[float | None, str]:
        if self.pace is not None and self.pace.usable:
            return self.pace.remaining_s(work_left), self.pace.basis()
        finished = self.count(*FINISHED)
        elapsed = self.elapsed(now)
        if not finished or elapsed <= 0:
            return None, "no estimate before the first task is finished"
        return left * elapsed / finished, "at the campaign's own pace so far"

    def _stuck_text(self, stuck: Sequence[Task]) -> str:
        """``T-3 needs a 'data' agent: none is configured; T-4 ...`` (the first three)."""
        shown = "; ".join(f"{t.ref} needs {self.untakeable[t.id]}" for t in stuck[:3])
        return shown + (f" (and {len(stuck) - 3} more)" if len(stuck) > 3 else "")

    def to_json(self, now: float) -> dict[str, Any]:
        """Totals, counts per status, gates waiting, time so far, every task."""
        counts = {s.value: self.count(s) for s in TaskStatus}
        remaining, basis = self.estimate(now)
        return {
            "id": self.ref,
            "title": self.title,
            "state": self.state(),
            "workflow": self.workflow,
            "vars": self.vars,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "elapsed_s": round(self.elapsed(now), 3),
            "remaining_s": _rounded(remaining),
            "estimate_basis": basis or None,
            "done": counts["done"] + counts["skipped"],
            "total": len(self.tasks),
            "failed": counts["failed"],
            "blocked": self._blocked_count(),
            "waiting": self._waiting_count(),
            "gates_waiting": [t.ref for t in self.gates_waiting],
            "counts": counts,
            "happened": self.happened,
            "untakeable": {task_ref(i): why for i, why in sorted(self.untakeable.items())},
            "tasks": [{**t.to_json(), "kind": self.kinds.get(t.id, "work")} for t in self.tasks],
        }

    def _waiting_count(self) -> int:
        """Tasks waiting for earlier tasks (shown ``blocked``; no person is needed)."""
        return sum(
            t.status is TaskStatus.blocked and t.blocked_on is BlockedOn.dependencies
            for t in self.tasks
        )

    def _blocked_count(self) -> int:
        gates = {t.id for t in self.gates_waiting}
        return sum(
            t.status is TaskStatus.blocked
            and t.id not in gates
            and t.blocked_on is not BlockedOn.dependencies
            for t in self.tasks
        )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def insert_campaign(
    conn: Conn,
    ctx: Ctx,
    title: str,
    workflow: str | None = None,
    values: dict[str, Any] | None = None,
) -> int:
    """Store a new open campaign; return its id."""
    title = ctx.check_text(title, "campaign title", ctx.settings.max_title, one_line=True)
    variables = json.dumps(values) if values is not None else None
    return queries.insert_campaign(conn, title, workflow, variables, ctx.actor, ctx.now)


def create(conn: Conn, ctx: Ctx, title: str, refs: Sequence[str | int]) -> int:
    """A campaign made by hand over existing tasks; return its id."""
    campaign_id = insert_campaign(conn, ctx, title)
    if refs:
        add(conn, ctx, campaign_id, refs, announce=False)
    count = len(refs)
    tables.insert_event(
        conn,
        ctx.now,
        EventKind.CAMPAIGN_CREATED,
        f"{campaign_ref(campaign_id)} created by {ctx.actor}: {title} ({count} tasks)",
        actor=ctx.actor,
        data={"campaign": campaign_ref(campaign_id), "tasks": count},
    )
    return campaign_id


def add(
    conn: Conn,
    ctx: Ctx,
    campaign_id: int,
    refs: Sequence[str | int],
    *,
    announce: bool = True,
) -> list[int]:
    """Put existing tasks in an open campaign (a task belongs to one campaign at most)."""
    hold(conn, "campaigns", [campaign_id])  # its end is decided under this lock
    campaign = _row(conn, campaign_id)
    if campaign.status != "open":
        raise InvalidState(f"{campaign_ref(campaign_id)} is {campaign.status}")
    ids = list(dict.fromkeys(parse_task_ref(r) for r in refs))
    if not ids:
        raise InvalidInput("name at least one task, e.g. T-12")
    for task_id in ids:
        row = campaign_queries.campaign_of(conn, task_id)
        if row is None:
            raise UnknownTask(f"unknown task {task_ref(task_id)}")
        owner = row.campaign_id
        if owner is not None and owner != campaign_id:
            raise InvalidState(f"{task_ref(task_id)} already belongs to {campaign_ref(owner)}")
    campaign_queries.join(conn, campaign_id, ids)
    campaign_end.note_if_finished(conn, ctx, ids[0])
    if announce:
        shown = ", ".join(task_ref(i) for i in ids)
        tables.insert_event(
            conn,
            ctx.now,
            EventKind.CAMPAIGN_CHANGED,
            f"{campaign_ref(campaign_id)} now also follows {shown} (by {ctx.actor})",
            actor=ctx.actor,
            data={"campaign": campaign_ref(campaign_id), "tasks": [task_ref(i) for i in ids]},
        )
    return ids


def cancel(conn: Conn, ctx: Ctx, campaign_id: int) -> list[int]:
    """Cancel a campaign and every task of it not finished; the ids cancelled."""
    hold(conn, "campaigns", [campaign_id])  # its end is decided under this lock
    campaign = _row(conn, campaign_id)
    if campaign.status != "open":
        raise InvalidState(f"{campaign_ref(campaign_id)} is already {campaign.status}")
    open_ids = campaign_queries.unfinished_tasks(conn, campaign_id)
    queries.mark_cancelled(conn, campaign_id, ctx.now)  # first: it never "finishes"
    for task_id in open_ids:  # dependents first: nobody is released by a cancel mid-way
        lifecycle.cancel(conn, ctx, task_id)
    tables.insert_event(
        conn,
        ctx.now,
        EventKind.CAMPAIGN_CANCELLED,
        f"{campaign_ref(campaign_id)} cancelled by {ctx.actor}: "
        f"{len(open_ids)} unfinished tasks cancelled",
        actor=ctx.actor,
        data={"campaign": campaign_ref(campaign_id), "tasks": [task_ref(i) for i in open_ids]},
    )
    return open_ids


def get(conn: Conn, campaign_id: int) -> Campaign:
    """A campaign with its tasks in creation order; NotFound when there is none."""
    row = _row(conn, campaign_id)
    found = _campaign(row)
    found.tasks = campaign_queries.task_rows(conn, campaign_id)
    found.kinds = {t.id: t.kind for t in found.tasks}
    found.happened = count(conn, 0.0, campaign_id=campaign_id).total
    return found


def get_with_pace(
    conn: Conn, campaign_id: int, now: float, agents: Mapping[str, Agent] | None = None
) -> Campaign:
    """A campaign with the recent pace of its agents (of the swarm's when none of its tasks
    went to an agent yet) and, given the configured ``agents``, the tasks left that none of
    them can take."""
    found = get(conn, campaign_id)
    found.pace = recent_pace(conn, {t.agent for t in found.tasks if t.agent}, now)
    if agents is not None:
        found.untakeable = {
            t.id: why
            for t in found.tasks
            if t.status not in FINISHED
            and found.kinds.get(t.id) != "gate"
            and (why := nobody_takes(t, agents)) is not None
        }
    return found


def campaign_of_task(conn: Conn, task_id: int, live_only: bool = False) -> int | None:
    """The campaign a task belongs to (``live_only``: only when it has a live post)."""
    row = (campaign_queries.live_campaign_of if live_only else campaign_queries.campaign_of)(
        conn, task_id
    )
    return None if row is None or row.campaign_id is None else int(row.campaign_id)


def list_all(conn: Conn, limit: int = 50) -> list[Campaign]:
    """Campaigns, newest first, each with its tasks."""
    return [get(conn, i) for i in queries.newest_ids(conn, limit)]


def status(conn: Conn, campaign_id: int) -> str:
    """A campaign's status (``open``, ``finished``, ``cancelled``); NotFound when none."""
    return _row(conn, campaign_id).status


def _row(conn: Conn, campaign_id: int) -> queries.CampaignRow:
    row = queries.campaign_row(conn, campaign_id)
    if row is None:
        raise NotFound(f"unknown campaign {campaign_ref(campaign_id)}")
    return row


def _campaign(row: queries.CampaignRow) -> Campaign:
    return Campaign(
        row.id,
        row.title,
        row.status,
        row.workflow,
        json.loads(row.vars) if row.vars else {},
        row.created_by,
        row.created_at,
        row.cancelled_at,
    )
