"""An active task's life: started, noted, done, failed, cancelled, pinned, back in the
queue, withdrawn from its agent: what crosses features (its holder credited and its report
signal stored, core.agents; its messages queued and dropped, core.delivery; its
reservations released, core.reservations). Each function runs inside one write transaction;
the task's statements are core.tasks' (the done and the lease expiry composed with the
others' fragments in ``core.assignment._queries``). Creating tasks, their dependencies, a
retry and a reopen touch no other feature's rows: core.tasks'."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.agent_state import AgentState, Observation, Signal
from core.agents import judge as agent_judge
from core.agents import queries as agent_queries
from core.agents import signals as agent_signals
from core.assignment import _queries as queries
from core.context import Ctx
from core.delivery import message_queries, messages
from core.errors import InvalidInput, InvalidState, UnknownTask
from core.event_kinds import EventKind
from core.models import ACTIVE, Target, TargetKind, task_ref
from core.reservations import task_ended
from core.store.conn import Conn
from core.store.tables import insert_event
from core.tasks import TaskAction, held_task, require, settle_dependents
from core.tasks import queries as task_queries

if TYPE_CHECKING:
    from core.agents import Freshness
    from core.models import Task

__all__ = [
    "add_note",
    "cancel",
    "complete",
    "fail",
    "fail_held",
    "finish_failed",
    "pin",
    "release",
    "requeue",
    "start",
    "turn_reached",
    "withdraw",
]


def _active(conn: Conn, task_id: int, action: str) -> tuple[str, str | None]:
    row = task_queries.held_holder(conn, task_id)
    if row is None:
        raise UnknownTask(f"unknown task {task_ref(task_id)}")
    if row.status not in {s.value for s in ACTIVE}:
        raise InvalidState(
            f"{task_ref(task_id)} is {row.status}: only an assigned or in-progress task "
            f"can be {action}"
        )
    return row.status, row.assignee


def start(
    conn: Conn,
    ctx: Ctx,
    task_id: int,
    note: str = "",
    force: bool = False,
    fresh: Freshness | None = None,
) -> None:
    """The agent acknowledges the task or reports progress: it is now in progress;
    ``fresh``: its own report judged at once on it (the watch's windows), so that what shows
    the task in progress shows the agent working, not its state before the report."""
    status, agent = _active(conn, task_id, "started")
    by, data = ctx.report_by(task_ref(task_id), agent, force)
    note = ctx.check_text(note, "note") if note.strip() else ""
    task_queries.mark_started(conn, task_id, ctx.now)
    _touch_agent(conn, ctx, agent)
    kind = EventKind.TASK_STARTED if status == "assigned" else EventKind.TASK_PROGRESS
    text = f"{task_ref(task_id)} {'started' if status == 'assigned' else 'progress'} by {agent}"
    reported = _reported(conn, ctx, agent, AgentState.WORKING, text)
    if reported and agent is not None and fresh is not None:
        agent_judge.judge_and_apply(conn, ctx, agent, fresh)
    insert_event(
        conn,
        ctx.now,
        kind,
        f"{text}{by}: {note}" if note else text + by,
        task_id=task_id,
        agent=agent,
        actor=ctx.actor,
        data={**(data or {}), "note": note} if note else data,
    )


def add_note(conn: Conn, ctx: Ctx, task_id: int, note: str, force: bool = False) -> None:
    """A progress note on an active task (kept for whoever takes the task over)."""
    _, agent = _active(conn, task_id, "noted")
    by, data = ctx.report_by(task_ref(task_id), agent, force)
    note = ctx.check_text(note, "note")
    _touch_agent(conn, ctx, agent)
    _reported(conn, ctx, agent, AgentState.WORKING, f"{task_ref(task_id)} note by {agent}")
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_NOTE,
        f"{task_ref(task_id)} note by {agent}{by}: {note}",
        task_id=task_id,
        agent=agent,
        actor=ctx.actor,
        data={**(data or {}), "note": note},
    )


def complete(conn: Conn, ctx: Ctx, task_id: int, note: str = "", force: bool = False) -> None:
    """The task is done: record the note, credit the agent, release its dependents. The row
    is updated by the statement that reads its holder, which also credits it and stores its
    report signal (``queries.mark_done``); a check that fails after it raises, and the
    transaction is rolled back (nothing written)."""
    try:
        note, bad = (ctx.check_text(note, "note") if note.strip() else ""), None
    except InvalidInput as exc:
        note, bad = "", exc
    row = queries.mark_done(
        conn,
        task_id=task_id,
        note=note,
        now=ctx.now,
        window=ctx.settings.success_window,
        reporter=ctx.as_agent(),
    )
    if row is None:
        _active(conn, task_id, "marked done")  # raises: NotFound, or its status
        raise InvalidState(f"{task_ref(task_id)} is not active")  # (read as active: a race)
    agent, campaign_id, reserved = row.assignee, row.campaign_id, row.reserved
    by, data = ctx.report_by(task_ref(task_id), agent, force)
    if bad is not None:
        raise bad
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_DONE,
        f"{task_ref(task_id)} done by {agent}{by}" + (f": {note}" if note else ""),
        task_id=task_id,
        agent=agent,
        actor=ctx.actor,
        data={**(data or {}), "note": note} if note else data,
    )
    if reserved:  # none taken for the task: nothing to release (no statement)
        task_ended(conn, ctx, task_id, agent, "done")
    # a nudge to report it, stale now (no statement when none; a queued note is its holder's)
    if row.queued_notes and agent is not None:
        messages.drop_queued_notes(conn, ctx, task_id, agent)
    settle_dependents(
        conn,
        ctx,
        task_id,
        campaign=campaign_id is not None,
        dependents=row.has_dependents,
    )


def fail(conn: Conn, ctx: Ctx, task_id: int, reason: str, force: bool = False) -> None:
    """The agent could not do the task; its dependents become blocked with the reason."""
    reason = ctx.check_text(reason, "reason", one_line=True)
    _, agent = _active(conn, task_id, "failed")
    by, data = ctx.report_by(task_ref(task_id), agent, force)
    _reported(conn, ctx, agent, AgentState.IDLE, f"{task_ref(task_id)} failed by {agent}")
    if agent:
        messages.drop_queued_notes(conn, ctx, task_id, agent)
    finish_failed(conn, ctx, task_id, agent, reason, by=by, data=data)


def finish_failed(
    conn: Conn,
    ctx: Ctx,
    task_id: int,
    agent: str | None,
    reason: str,
    *,
    by: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """Mark a task failed for ``reason`` (by its agent, or by the scheduler)."""
    task_queries.mark_failed(conn, task_id, reason, ctx.now)
    window = ctx.settings.success_window
    own = agent is not None and ctx.as_agent() == agent  # its report, not a person's
    agent_queries.credit(conn, agent, success=False, now=ctx.now, window=window, stamp=own)
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_FAILED,
        f"{task_ref(task_id)} failed{by}: {reason}",
        task_id=task_id,
        agent=agent,
        actor=ctx.actor,
        data=data,
    )
    task_ended(conn, ctx, task_id, agent, "failed")
    settle_dependents(conn, ctx, task_id)


def cancel(conn: Conn, ctx: Ctx, task_id: int) -> None:
    """Stop a task that has not finished; its agent, if one holds it and its prompt reached
    it, is told by a withdrawal (which stops the agent's running turn on the protocol route)."""
    task = held_task(conn, task_id)
    require(task, TaskAction.cancel)
    task_queries.mark_cancelled(conn, task_id, ctx.now)
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_CANCELLED,
        f"{task.ref} cancelled by {ctx.actor}",
        task_id=task_id,
        agent=task.agent,
        actor=ctx.actor,
    )
    task_ended(conn, ctx, task_id, task.agent, "cancelled")
    if task.agent and task.status in ACTIVE:
        reached = turn_reached(conn, task)  # before its prompt in flight is dropped
        messages.drop_pending(conn, ctx, task_id, task.agent)
        if reached:  # never tell an agent to stop a task it was never told about
            withdraw(conn, ctx, task, task.agent, f"cancelled by {ctx.actor}")
    settle_dependents(conn, ctx, task_id)


def pin(conn: Conn, ctx: Ctx, task_id: int, agent_id: str) -> None:
    """Give a task to one agent: it is taken from its current agent if another holds it."""
    agent = ctx.agent(agent_id).id
    task = held_task(conn, task_id)
    require(task, TaskAction.assign)
    task_queries.pin(conn, task_id, agent, ctx.now)
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_PINNED,
        f"{task.ref} given to {agent} by {ctx.actor}",
        task_id=task_id,
        agent=agent,
        actor=ctx.actor,
    )
    if task.agent and task.agent != agent and task.status in ACTIVE:
        why = f"reassigned to {agent} by {ctx.actor}"
        release(conn, ctx, task_id, why, backoff=0.0, counts=False)


def requeue(conn: Conn, ctx: Ctx, task_id: int) -> None:
    """A person takes an active task back: it goes to another agent (no backoff)."""
    task = held_task(conn, task_id)
    require(task, TaskAction.reassign)
    if task.pinned:
        task_queries.unpin(conn, task_id)
    why = f"taken from {task.agent} by {ctx.actor}"
    release(conn, ctx, task_id, why, backoff=0.0, counts=False)


def release(
    conn: Conn,
    ctx: Ctx,
    task_id: int,
    why: str,
    backoff: float,
    *,
    counts: bool = True,
    tell: bool = True,
) -> None:
    """Take an active task back from its agent and queue it again after ``backoff`` s; the
    agent is told to stop when its prompt reached it (``withdraw``). ``counts=False``: a
    person moved it, so the turn it ends does not use up one of the task's attempts.
    ``tell=False``: the session its prompt reached is gone (no withdrawal to send)."""
    task = held_task(conn, task_id)
    reached = turn_reached(conn, task)  # before its prompt in flight is dropped
    refund = 0 if counts or task.attempts < 1 else 1
    task_queries.mark_requeued(
        conn, task_id, not_before=ctx.now + backoff, why=why, refund=refund, now=ctx.now
    )
    if task.agent:
        messages.drop_pending(conn, ctx, task_id, task.agent)
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_REQUEUED,
        f"{task_ref(task_id)} back in the queue: {why}",
        task_id=task_id,
        agent=task.agent,
        actor=ctx.actor,
        data=None if counts else {"attempt_used": False},
    )
    task_ended(conn, ctx, task_id, task.agent, "back in the queue")
    if reached and task.agent and tell:
        withdraw(conn, ctx, task, task.agent, why)


def fail_held(conn: Conn, ctx: Ctx, task_id: int, agent: str, reason: str) -> None:
    """The scheduler gives up on a task ``agent`` holds (its attempts are used up): the task
    fails, and the agent is told to stop when its prompt reached it."""
    task = held_task(conn, task_id)
    reached = turn_reached(conn, task)
    messages.drop_pending(conn, ctx, task_id, agent)
    finish_failed(conn, ctx, task_id, agent, reason)
    if reached:
        withdraw(conn, ctx, task, agent, f"it failed ({reason})")


def turn_reached(conn: Conn, task: Task) -> bool:
    """True when a prompt of the holder's current turn with ``task`` reached it, or may have
    (a delivery in flight): read it before the pending prompts are dropped."""
    return task.agent is not None and messages.prompt_reached(
        conn, task.id, task.agent, since=task.assigned_at
    )


def reached_before(conn: Conn, task_id: int, agent: str, before: float) -> bool:
    """Whether a prompt of ``agent``'s current turn with the task was delivered to it
    before ``before`` (a session that ended then had it)."""
    task = held_task(conn, task_id)
    return message_queries.delivered_before(conn, task_id, agent, task.assigned_at, before)


def withdraw(conn: Conn, ctx: Ctx, task: Task, agent: str, why: str) -> None:
    """Tell ``agent`` that ``task`` (as read while the agent held it) is no longer its own:
    call it only when ``turn_reached``. The message is delivered and checked like any other,
    marked WITHDRAWN by its target (``withdraw:<agent>``) and envelope, and carries no
    report commands, so it cannot be taken for a new task."""
    text = (
        f"{task.ref} ({task.title}) is no longer yours: {why}. Stop working on it now. "
        "This is not a new task: do not start it and do not report on it."
    )
    message_id = messages.queue(
        conn,
        ctx,
        [agent],
        text,
        target=Target(TargetKind.withdraw, agent),
        task_id=task.id,
        priority=task.priority,
    )
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_WITHDRAWN,
        f"{task.ref} withdrawn from {agent}: {why}",
        task_id=task.id,
        agent=agent,
        actor=ctx.actor,
        data={"message": message_id},
    )


def _reported(conn: Conn, ctx: Ctx, agent: str | None, state: AgentState, words: str) -> bool:
    """The agent's own report on its task is the report signal's observation of it (a
    person's, or another agent's forced one, says nothing of what the agent does); whether
    it was the agent's."""
    if not agent or ctx.as_agent() != agent:
        return False
    obs = Observation(agent, Signal.REPORT, state, ctx.now, f"report: {words}")
    agent_signals.record(conn, obs)
    return True


def _touch_agent(conn: Conn, ctx: Ctx, agent: str | None) -> None:
    if agent and ctx.as_agent() == agent:
        agent_queries.touch_agent(conn, agent, ctx.now)
