"""Recurring work: prompts to agents and summary posts, on a cron expression or an interval.

The ``schedules`` table is the only store: the scheduler loop sleeps until the earliest
``next_run_at`` (``next_due``) and ``core.coordinator.jobs`` runs what is due. Functions of a
connection run inside one transaction; the ``async`` ones at the end are what the CLI and
the bot call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from core.context import Ctx
from core.delivery import messages
from core.errors import NotFound, SwarmError
from core.event_kinds import EventKind
from core.formats.timetext import utc_text
from core.models import Target, TargetKind, parse_ref
from core.reports.summary import parse_period
from core.schedules import queries
from core.schedules.rows import Schedule, schedule_ref
from core.schedules.timing import InvalidSchedule, cron_trigger, local_zone, next_run
from core.store.conn import Conn
from core.store.tables import insert_event

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

KINDS = ("prompt", "summary")
MIN_EVERY_S = 60.0
DUE_TOLERANCE_S = 1.0  # a job woken a little early by the real clock still runs
LATE_AFTER_S = 60.0  # a run this long after its due time is marked late
DAILY_SUMMARY = "daily-summary"


@dataclass(frozen=True)
class ScheduleSpec:
    """What a person asks for: a prompt (to ``agent:A``, ``role:R`` or ``all``) or a summary."""

    kind: str
    target: str | None = None
    text: str = ""
    cron: str | None = None
    every_s: float | None = None
    period: str | None = None


@dataclass(frozen=True)
class Claim:
    """A schedule taken for one run: what to do, and whether the run is late."""

    schedule: Schedule
    due_at: float
    late: bool


def parse_schedule_ref(ref: str | int) -> int:
    """Read ``S-3``, ``s-3`` or ``3``; NotFound for anything else."""
    return parse_ref(ref, "S", "schedule", 3)


# -- validation --------------------------------------------------------------------------


def check_spec(ctx: Ctx, spec: ScheduleSpec, zone: tzinfo) -> ScheduleSpec:
    """The spec cleaned up; InvalidSchedule (or NotFound) for anything that cannot run."""
    if spec.kind not in KINDS:
        raise InvalidSchedule(f"invalid kind {spec.kind!r}: use prompt or summary")
    if (spec.cron is None) == (spec.every_s is None):
        raise InvalidSchedule("give either a cron expression or an interval, not both")
    cron = " ".join(spec.cron.split()) if spec.cron is not None else None
    if cron is not None:
        cron_trigger(cron, zone)
    if spec.every_s is not None and not spec.every_s >= MIN_EVERY_S:
        raise InvalidSchedule(f"the interval must be at least {MIN_EVERY_S:g} seconds")
    if spec.kind == "summary":
        period = spec.period or "1d"
        parse_period(period)
        return ScheduleSpec("summary", None, "", cron, spec.every_s, period)
    text = ctx.check_text(spec.text, "scheduled prompt")
    return ScheduleSpec("prompt", str(parse_target(ctx, spec.target)), text, cron, spec.every_s)


def parse_target(ctx: Ctx, target: str | None) -> Target:
    """A prompt's target as a person types it (``agent:NAME``, ``role:NAME`` or ``all``):
    the one place that reads that text; the row keeps its kind and name."""
    kind, _, name = (target or "").partition(":")
    if kind == "all" and not name:
        return Target(TargetKind.all)
    if kind == "agent" and name:
        return Target(TargetKind.agent, ctx.agent(name).id)
    if kind == "role" and name:
        return Target(TargetKind.role, ctx.check_role(name))
    raise InvalidSchedule(f"invalid target {target!r}: use agent:NAME, role:NAME or all")


# -- rows ------------------------------------------------------------------------------


def add(conn: Conn, ctx: Ctx, spec: ScheduleSpec, zone: tzinfo, builtin: str | None = None) -> int:
    """Validate and store a schedule; return its id."""
    clean = check_spec(ctx, spec, zone)
    target = parse_target(ctx, clean.target) if clean.kind == "prompt" else None
    first = next_run(clean.cron, clean.every_s, ctx.now, zone)
    new_id = queries.insert(
        conn,
        kind=clean.kind,
        target=target,
        text=clean.text,
        period=clean.period,
        cron=clean.cron,
        every_s=clean.every_s,
        first=first,
        builtin=builtin,
        by=ctx.actor,
        now=ctx.now,
    )
    schedule = get(conn, new_id)
    insert_event(
        conn,
        ctx.now,
        EventKind.SCHEDULE_CREATED,
        f"{schedule.ref} created by {ctx.actor}: {schedule.what}, {schedule.when} "
        f"(next {_utc(first)} UTC)",
        actor=ctx.actor,
        data={"schedule": schedule.ref, "next_run_at": first},
    )
    return schedule.id


def remove(conn: Conn, ctx: Ctx, schedule_id: int) -> Schedule:
    """Stop a schedule for good (the row stays, marked removed)."""
    schedule = get(conn, schedule_id)
    queries.remove(conn, schedule_id, ctx.now)
    insert_event(
        conn,
        ctx.now,
        EventKind.SCHEDULE_REMOVED,
        f"{schedule.ref} removed by {ctx.actor}: {schedule.what}, {schedule.when}",
        actor=ctx.actor,
        data={"schedule": schedule.ref},
    )
    return schedule


def get(conn: Conn, schedule_id: int) -> Schedule:
    """One schedule that was not removed; NotFound otherwise."""
    found = queries.row(conn, schedule_id)
    if found is None:
        raise NotFound(f"unknown schedule {schedule_ref(schedule_id)}")
    return found


def list_all(conn: Conn) -> list[Schedule]:
    """Every schedule not removed, oldest first."""
    return queries.rows(conn)


def planned(conn: Conn) -> dict[int, float]:
    """Enabled schedule id -> next run."""
    return queries.planned(conn)


def next_due(conn: Conn) -> float | None:
    """The earliest next run of an enabled schedule (a deadline of the scheduler loop)."""
    return queries.next_due(conn)


def sync_builtin(
    conn: Conn, ctx: Ctx, name: str, spec: ScheduleSpec | None, zone: tzinfo
) -> int | None:
    """Keep a built-in schedule as the settings say: created once (a removed one stays
    removed), its cron updated, disabled when ``spec`` is None. Its id, if it exists."""
    schedule = queries.builtin_row(conn, name)
    if schedule is None:
        return add(conn, ctx, spec, zone, builtin=name) if spec else None
    if schedule.removed_at is not None:
        return None
    if spec is None:
        if schedule.enabled:
            queries.disable(conn, schedule.id)
            _changed(conn, ctx, schedule, "turned off by the settings")
        return schedule.id
    if schedule.enabled and (schedule.cron, schedule.every_s) == (spec.cron, spec.every_s):
        return schedule.id
    check_spec(ctx, spec, zone)
    first = next_run(spec.cron, spec.every_s, ctx.now, zone)
    queries.set_timing(conn, schedule.id, spec.cron, spec.every_s, first)
    _changed(conn, ctx, get(conn, schedule.id), f"set by the settings (next {_utc(first)} UTC)")
    return schedule.id


def _changed(conn: Conn, ctx: Ctx, schedule: Schedule, how: str) -> None:
    insert_event(
        conn,
        ctx.now,
        EventKind.SCHEDULE_UPDATED,
        f"{schedule.ref} ({schedule.what}, {schedule.when}) {how}",
        actor=ctx.actor,
        data={"schedule": schedule.ref},
    )


# -- running -----------------------------------------------------------------------------


def claim(conn: Conn, ctx: Ctx, schedule_id: int, zone: tzinfo, late: bool = False) -> Claim | None:
    """Take a due schedule for one run and plan the next; a prompt is queued right here.

    None when it is not due (another process ran it, or it was removed). Missed runs are
    not repeated: one late run stands for all of them.
    """
    schedule = queries.enabled_row(conn, schedule_id)
    due = None if schedule is None else schedule.next_run_at
    if schedule is None or due is None or due > ctx.now + DUE_TOLERANCE_S:
        return None
    made = Claim(schedule, due, late or ctx.now - due > LATE_AFTER_S)
    following = next_run(schedule.cron, schedule.every_s, max(ctx.now, due), zone)
    queries.ran(conn, schedule_id, ctx.now, following)
    if schedule.kind == "prompt":
        _send(conn, ctx, made)
    return made


def _send(conn: Conn, ctx: Ctx, made: Claim) -> None:
    schedule = made.schedule
    target = schedule.target or Target(TargetKind.all)
    try:
        if target.kind is TargetKind.agent and target.name:
            message_id = messages.send(conn, ctx, target.name, schedule.text)
        else:  # a role's agents, or all
            message_id = messages.broadcast(conn, ctx, schedule.text, target.name)
    except SwarmError as exc:  # raised before anything was queued
        record_failure(conn, ctx, made, str(exc))
        return
    insert_event(
        conn,
        ctx.now,
        EventKind.SCHEDULE_RAN,
        f"{schedule.ref} sent its prompt to {schedule.target}{late_note(made)}",
        actor=ctx.actor,
        data=_data(made, message=message_id),
    )


def record_summary(conn: Conn, ctx: Ctx, made: Claim, text: str) -> None:
    """The ``summary.posted`` event that the notifier posts to the channel."""
    insert_event(
        conn,
        ctx.now,
        EventKind.SUMMARY_POSTED,
        text,
        actor=ctx.actor,
        data=_data(made, period=made.schedule.period),
    )


def record_failure(conn: Conn, ctx: Ctx, made: Claim, reason: str) -> None:
    """A run that could not be done, with the reason."""
    insert_event(
        conn,
        ctx.now,
        EventKind.SCHEDULE_FAILED,
        f"{made.schedule.ref} could not run: {reason}{late_note(made)}",
        actor=ctx.actor,
        data=_data(made, reason=reason),
    )


def late_note(made: Claim) -> str:
    """`` (late: was due 2026-11-21 18:00 UTC)`` or nothing."""
    return f" (late: was due {_utc(made.due_at)} UTC)" if made.late else ""


def _data(made: Claim, **extra: Any) -> dict[str, Any]:
    return {"schedule": made.schedule.ref, "late": made.late, "due_at": made.due_at, **extra}


def _utc(ts: float) -> str:
    return utc_text(ts, "%Y-%m-%d %H:%M")


# -- for the front ends ------------------------------------------------------------------


async def add_schedule(
    service: SwarmService, spec: ScheduleSpec, actor: str, zone: tzinfo | None = None
) -> Schedule:
    """Create a schedule (InvalidSchedule with the reason when it cannot be kept)."""
    schedule_id = await service.store.write(actor, add, spec, zone or local_zone())
    return await service.store.read(get, schedule_id)


async def list_schedules(service: SwarmService) -> list[Schedule]:
    """Every schedule, oldest first."""
    return await service.store.read(list_all)


async def remove_schedule(service: SwarmService, ref: str | int, actor: str) -> Schedule:
    """Remove a schedule by id (``S-3``); NotFound when there is none."""
    return await service.store.write(actor, remove, parse_schedule_ref(ref))
