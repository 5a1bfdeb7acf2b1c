"""A finished task given another go: a failed or cancelled one retried, a done one reopened
for the agent that did it. Each runs inside one write transaction; neither touches another
feature's rows (an active task's life, which does, is ``core.assignment``'s lifecycle)."""

from __future__ import annotations

from core.context import Ctx
from core.errors import InvalidState
from core.event_kinds import EventKind
from core.models import ACTIVE, TaskStatus
from core.store.conn import Conn
from core.store.tables import insert_event
from core.tasks import _queries as queries
from core.tasks._actions import TaskAction, require
from core.tasks._dependencies import settle, settle_dependents
from core.tasks._read_queries import held_task


def retry(conn: Conn, ctx: Ctx, task_id: int) -> None:
    """Give a failed or cancelled task a fresh set of attempts."""
    task = held_task(conn, task_id)
    require(task, TaskAction.retry)
    queries.mark_retried(conn, task_id, ctx.now)
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_RETRIED,
        f"{task.ref} retried by {ctx.actor}",
        task_id=task_id,
        actor=ctx.actor,
    )
    settle(conn, ctx, task_id)
    settle_dependents(conn, ctx, task_id)


def reopen(conn: Conn, ctx: Ctx, task_id: int, why: str) -> bool:
    """Put a done task back in progress with the agent that did it (a review asks for more
    work: ``why``); False when it is still assigned or in progress (nothing to reopen). Its
    dependents not yet started wait for it again."""
    task = held_task(conn, task_id)
    if task.status in ACTIVE:
        return False
    if task.status is not TaskStatus.done:
        raise InvalidState(
            f"{task.ref} is {task.status.value}: only a done, assigned or in-progress "
            "task can be reopened"
        )
    if not task.agent:
        raise InvalidState(f"{task.ref} has no agent: nobody to reopen it for")
    agent = ctx.agent(task.agent).id  # still configured (NotFound names the agents)
    queries.mark_reopened(conn, task_id, ctx.now)
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_REOPENED,
        f"{task.ref} reopened for {agent} by {ctx.actor}: {why}",
        task_id=task_id,
        agent=agent,
        actor=ctx.actor,
    )
    settle_dependents(conn, ctx, task_id)
    return True
