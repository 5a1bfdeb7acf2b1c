"""Leases: an assigned task whose agent does not report within ``SWARM_LEASE`` goes back to
the queue (with a doubling backoff) or fails when its attempts are used up; one whose agent
waits for a person keeps it; one whose agent is limited goes back with no attempt used (the
limit is not the task's failure: an account's limit met on three agents in turn failed a
task for good, and the tasks after it)."""

from __future__ import annotations

import logging

from core.agent_state import AgentState
from core.assignment import _lifecycle as lifecycle
from core.assignment import _queries as queries
from core.context import Ctx
from core.event_kinds import EventKind
from core.models import task_ref
from core.store.conn import Conn
from core.store.tables import insert_event
from core.tasks import queries as task_queries
from core.waits import ErrorBackoff

log = logging.getLogger(__name__)


def expire_leases(conn: Conn, ctx: Ctx) -> int:
    """Requeue (with backoff) or fail every assigned task whose lease has run out; a task
    whose agent waits for a person (judged ``waiting``) while "Needs you" shows why (its
    prompt, its question, an alert) keeps it for another lease: the wait is the person's,
    and another agent would do it twice. A wait nobody is shown expires as any other."""
    rows = queries.expired_leases(conn, ctx.now)
    expired = 0
    for task_id, agent, attempts, max_attempts, state, shown in rows:
        if state == AgentState.WAITING.value and shown:
            _lease_kept(conn, ctx, task_id, agent)
            continue
        expired += 1
        why = f"no report from {agent} within {ctx.settings.lease_s:g} s"
        insert_event(
            conn,
            ctx.now,
            EventKind.TASK_LEASE_EXPIRED,
            f"{task_ref(task_id)}: {why}",
            task_id=task_id,
            agent=agent,
            actor=ctx.actor,
        )
        if state == AgentState.LIMITED.value:  # the limit, not the task, kept the report
            why = f"{why}: {agent} is limited (no attempt used)"
            lifecycle.release(conn, ctx, task_id, why, backoff=0.0, counts=False)
        elif attempts >= max_attempts:
            lifecycle.fail_held(conn, ctx, task_id, agent, f"{why} ({attempts} attempts)")
        else:
            lifecycle.release(conn, ctx, task_id, why, backoff=backoff(ctx, attempts))
    return expired


def _lease_kept(conn: Conn, ctx: Ctx, task_id: int, agent: str) -> None:
    """Another lease for a task whose agent waits for a person (said in the log)."""
    task_queries.renew_lease(conn, task_id, ctx.now + ctx.settings.lease_s)
    log.info("%s: lease renewed, %s waits for a person", task_ref(task_id), agent)


def backoff(ctx: Ctx, attempts: int) -> float:
    """Delay before the next attempt: doubles each time, capped."""
    settings = ctx.settings
    return ErrorBackoff(settings.retry_backoff_s, settings.retry_backoff_max_s).delay(attempts)


def hand_back(conn: Conn, ctx: Ctx, agent: str, why: str, before: float | None = None) -> list[int]:
    """The tasks ``agent`` holds back in the queue at once, no attempt used: the session
    that had them is gone (``swarm desktop down``: all of them), or ``desktop up`` started a
    fresh one at ``before``: those whose prompt reached the old session only (one not yet
    delivered, or delivered into the new session by a running coordinator meanwhile, is the
    new session's: handing it back sent it twice). No withdrawal is sent (the new session
    never had the prompt; a gone one cannot take it). A task pinned to the agent goes to its
    fresh session; the ids."""
    held = [
        task_id
        for task_id in task_queries.held_by(conn, agent)
        if before is None or lifecycle.reached_before(conn, task_id, agent, before)
    ]
    for task_id in held:
        lifecycle.release(conn, ctx, task_id, why, backoff=0.0, counts=False, tell=False)
    return held


class OnFailedPrompt:
    """core.delivery's ``TaskOnFailedPrompt``: a task prompt that could not be delivered
    takes its task back (with this backoff) or fails it (the lifecycle's functions)."""

    release = staticmethod(lifecycle.release)
    finish_failed = staticmethod(lifecycle.finish_failed)
    backoff = staticmethod(backoff)
