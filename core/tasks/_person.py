"""A person acts on a done task whose result was refused outside swarm (a pull request whose CI
failed past its retries): takes the work over (the task goes back to ``blocked`` with the
reason, so no agent takes it) or discards it (``cancelled``). Each function runs inside one
write transaction."""

from __future__ import annotations

from core.context import Ctx
from core.errors import InvalidState
from core.event_kinds import EventKind
from core.models import TaskStatus
from core.store.conn import Conn
from core.store.tables import insert_event
from core.tasks import _dependencies as dependencies
from core.tasks import _queries as task_queries
from core.tasks._read_queries import held_task


def take_over(conn: Conn, ctx: Ctx, task_id: int, why: str) -> None:
    """A done task becomes ``blocked`` with ``why`` as its reason (a person works on it now)."""
    task = held_task(conn, task_id)  # a retry of the same task waits, then sees this
    _require_done(task.ref, task.status)
    task_queries.hand_to_person(conn, task_id, why, ctx.now)
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_BLOCKED,
        f"{task.ref} is blocked: {why}",
        task_id=task_id,
        agent=task.agent,
        actor=ctx.actor,
    )
    dependencies.settle_dependents(conn, ctx, task_id)


def discard(conn: Conn, ctx: Ctx, task_id: int, why: str) -> None:
    """A done task becomes ``cancelled``: its result is thrown away (``why`` says how)."""
    task = held_task(conn, task_id)  # a retry of the same task waits, then sees this
    _require_done(task.ref, task.status)
    task_queries.mark_discarded(conn, task_id, why, ctx.now)
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_CANCELLED,
        f"{task.ref} cancelled by {ctx.actor}: {why}",
        task_id=task_id,
        agent=task.agent,
        actor=ctx.actor,
    )
    dependencies.settle_dependents(conn, ctx, task_id)


def _require_done(ref: str, status: TaskStatus) -> None:
    if status is not TaskStatus.done:
        raise InvalidState(f"{ref} is {status.value}: only a done task can be taken over")
