"""Deliveries that failed for good ("Needs you": ``D-5``): listed until a person retries or
dismisses one, or a later delivery of the same message or task to that agent got through.
Each function runs inside one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.context import Ctx
from core.delivery import _undelivered_queries as undelivered_queries
from core.errors import InvalidState, NotFound
from core.event_kinds import EventKind
from core.formats.text import flat, one_line, shorten
from core.models import Target, TargetKind, TaskStatus, task_ref
from core.store.conn import Conn
from core.store.tables import insert_event
from core.tasks import holder

SUPERSEDED = "superseded"  # dropped on purpose (the task moved on): not a failure


@dataclass(frozen=True)
class Undelivered:
    """One delivery that failed for good."""

    id: int
    agent: str
    reason: str
    attempts: int
    failed_at: float
    message_id: int
    task_id: int | None
    target: Target
    text: str

    @property
    def ref(self) -> str:
        """``D-5``."""
        return delivery_ref(self.id)

    @property
    def what(self) -> str:
        """``T-3 prompt``, ``T-3 note`` or ``message``."""
        if self.task_id is None:
            return "message"
        if self.target.kind is TargetKind.note:
            return f"{task_ref(self.task_id)} note"
        if self.target.kind is TargetKind.withdraw:
            return f"{task_ref(self.task_id)} withdrawal notice"
        return f"{task_ref(self.task_id)} prompt"

    @property
    def is_prompt(self) -> bool:
        """A task's prompt (not a note, a withdrawal or a plain message)."""
        return self.what.endswith(" prompt")

    def describe(self) -> str:
        """``T-3 prompt to Agent-1 failed after 3 attempt(s): window not found: '...'``."""
        return (
            f"{self.what} to {self.agent} failed after {self.attempts} attempt(s): "
            f"{one_line(self.reason)}: {shorten(flat(self.text), 200)!r}"
        )


def delivery_ref(delivery_id: int) -> str:
    """``D-5``: a delivery."""
    return f"D-{delivery_id}"


def failed_for_good(conn: Conn, ignored: Sequence[str] = (SUPERSEDED,)) -> list[Undelivered]:
    """The failed deliveries nobody dismissed (``ignored``: reasons that are no failure),
    none of whose message or task later got through to that agent or failed again there
    (the newest failure stands for the others), whose task has not ended or gone to another
    agent, oldest first."""
    return [_undelivered(r) for r in undelivered_queries.failed_for_good(conn, ignored)]


def _undelivered(r: undelivered_queries.FailedRow) -> Undelivered:
    return Undelivered(
        id=int(r.id),
        agent=r.agent_id,
        reason=r.reason or "failed",
        attempts=int(r.attempts),
        failed_at=float(r.updated_at),
        message_id=int(r.message_id),
        task_id=r.task_id,
        target=Target(TargetKind(r.target_kind), r.target_name),
        text=r.text,
    )


def waiting(conn: Conn, delivery_id: int, ignored: Sequence[str]) -> Undelivered:
    """The delivery if it still waits for a person; else one line saying why not."""
    ref = delivery_ref(delivery_id)
    found = undelivered_queries.with_verdict(conn, delivery_id, ignored)
    if found is None:
        raise NotFound(f"unknown delivery {ref}")
    row = found.delivery
    if row.dismissed_by is not None:
        raise InvalidState(f"{ref} was already dismissed by {row.dismissed_by}")
    if row.state != "failed":
        raise InvalidState(f"{ref} is {row.state}: only a failed delivery waits for you")
    if (row.reason or "") in ignored:
        raise InvalidState(f"{ref} was dropped on purpose ({row.reason}): nothing to do")
    if found.through:
        raise InvalidState(f"{ref}: a later delivery to {row.agent_id} got through")
    if found.again:
        raise InvalidState(f"{ref}: a later delivery to {row.agent_id} failed too: see it")
    if found.moved_on is not None and row.task_id is not None:  # a task's, moved on
        raise InvalidState(
            f"{ref}: {task_ref(row.task_id)} is {found.moved_on}: nothing to send again"
        )
    return _undelivered(row)


def retry(conn: Conn, ctx: Ctx, delivery_id: int, ignored: Sequence[str]) -> Undelivered:
    """Queue the failed delivery again, with its attempts anew. A task's prompt only while
    the agent still holds the task (else the task is retried or handed on, not its prompt)."""
    found = waiting(conn, delivery_id, ignored)
    agent = ctx.agent(found.agent).id  # still configured (NotFound names the agents)
    if found.is_prompt and found.task_id is not None:
        _require_held(conn, found, found.task_id)
    undelivered_queries.requeue(conn, delivery_id, ctx.now)
    insert_event(
        conn,
        ctx.now,
        EventKind.DELIVERY_RETRIED,
        f"{found.what} to {agent} queued again by {ctx.actor} ({found.ref} failed: "
        f"{one_line(found.reason)})",
        task_id=found.task_id,
        agent=agent,
        actor=ctx.actor,
        data={"delivery": delivery_id},
    )
    return found


def _require_held(conn: Conn, found: Undelivered, task_id: int) -> None:
    row = holder(conn, task_id)
    active = (TaskStatus.assigned.value, TaskStatus.in_progress.value)
    if row is None or row.assignee != found.agent or row.status not in active:
        status = row.status if row is not None else "gone"
        raise InvalidState(
            f"{found.ref} is {task_ref(task_id)}'s prompt and {found.agent} no longer holds "
            f"{task_ref(task_id)} (it is {status}): dismiss it (swarm inbox dismiss {found.ref})"
        )


def dismiss(conn: Conn, ctx: Ctx, delivery_id: int, ignored: Sequence[str]) -> Undelivered:
    """A person has seen the failure: it leaves the queue (its row stays, failed)."""
    found = waiting(conn, delivery_id, ignored)
    undelivered_queries.mark_dismissed(conn, delivery_id, ctx.actor, ctx.now)
    insert_event(
        conn,
        ctx.now,
        EventKind.DELIVERY_DISMISSED,
        f"{found.ref} ({found.what} to {found.agent}, failed) dismissed by {ctx.actor}",
        task_id=found.task_id,
        agent=found.agent,
        actor=ctx.actor,
        data={"delivery": delivery_id},
    )
    return found
