"""Messages and their deliveries. Each function runs inside one write transaction; the
statements are ``core.delivery._message_queries``."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection
from typing import Any

from core.context import Ctx
from core.delivery import _message_queries as message_queries
from core.event_kinds import EventKind
from core.formats.text import shorten
from core.models import Delivery, DeliveryState, Priority, Receipt, Target, TargetKind, task_ref
from core.store.conn import Conn, Pair, Sql
from core.store.tables import insert_event
from core.tasks import restart_lease
from core.waits import ErrorBackoff

DEFER_DELAY_S = 1.0  # a deferred delivery (not attempted) is looked at again after this
# a message (about no task) to an agent whose session is gone waits for it: tried again
# after this, never counted, never failed for it
OFFLINE_RETRY_S = 10.0


def note_to(agent: str) -> Target:
    """The target of a note about a task to ``agent``."""
    return Target(TargetKind.note, agent)


def is_note(target: Target) -> bool:
    """True for a note about a task (not the task's prompt)."""
    return target.kind is TargetKind.note


def is_prompt(target: Target) -> bool:
    """True for a task's prompt to its agent (not a note nor a withdrawal)."""
    return target.kind is TargetKind.agent


def queue(
    conn: Conn,
    ctx: Ctx,
    recipients: list[str],
    text: str,
    *,
    target: Target,
    task_id: int | None = None,
    priority: Priority = Priority.normal,
) -> int:
    """Store one message and a queued delivery per recipient; return the message id."""
    message_id = message_queries.insert_message(
        conn, ctx.actor, target, text, task_id, priority, ctx.now
    )
    message_queries.insert_deliveries(conn, message_id, recipients, ctx.now)
    if task_id is None:
        insert_event(
            conn,
            ctx.now,
            EventKind.MESSAGE_QUEUED,
            f"message from {ctx.actor} to {', '.join(recipients)}: {shorten(text, 80)}",
            actor=ctx.actor,
            data={"message": message_id, "target": str(target), "text": shorten(text, 300)},
        )
    return message_id


def queue_prompts(
    conn: Conn, ctx: Ctx, prompts: list[tuple[str, str, int, Priority]]
) -> dict[int, int]:
    """Store the prompts (agent, text, task id, priority) of distinct tasks, each with its
    queued delivery, in two statements; the message id of each task."""
    return message_queries.insert_prompts(conn, ctx.actor, ctx.now, prompts)


def send(conn: Conn, ctx: Ctx, agent_id: str, text: str) -> int:
    """A message to one agent."""
    agent = ctx.agent(agent_id).id
    text = ctx.check_text(text, "message")
    return queue(conn, ctx, [agent], text, target=Target(TargetKind.agent, agent))


def broadcast(conn: Conn, ctx: Ctx, text: str, role: str | None = None) -> int:
    """A message to every agent, or to every agent of a role."""
    text = ctx.check_text(text, "message")
    if role:
        ctx.check_role(role)
        recipients = [a.id for a in ctx.agents.values() if a.role == role]
        return queue(conn, ctx, recipients, text, target=Target(TargetKind.role, role))
    return queue(conn, ctx, list(ctx.agents), text, target=Target(TargetKind.all))


def claim(conn: Conn, ctx: Ctx) -> Delivery | None:
    """Take the oldest due queued delivery and mark it delivering (one more attempt); on
    PostgreSQL, not one of an agent that a delivery node serves
    (``core/delivery/_node_claims.py``)."""
    found = claim_row(conn, ctx)
    return None if found is None else found[0]


def claim_row(
    conn: Conn,
    ctx: Ctx,
    statement: Pair[Sql] = message_queries.OLDEST_DUE,
    busy: Collection[str] = (),
) -> tuple[Delivery, tuple[object, ...]] | None:
    """As ``claim``, with the extra columns of ``statement`` (``oldest_due_statement``) read
    by the same select: the delivery, and their values. ``busy``: agents
    whose deliveries wait (one of theirs is being made: one at a time per agent, in order)."""
    skip = [a.id for a in ctx.agents.values() if a.node]  # no node on SQLite: StoreAccess
    skip += sorted(busy)
    since = ctx.now - ctx.settings.turn_hold_s
    due = message_queries.oldest_due(conn, ctx.now, since, skip, statement)
    if due is None:
        return None
    found = due.delivery  # is_retry: an earlier attempt was made
    if not message_queries.take(conn, found.id, ctx.now):  # taken by another: next time
        return None
    if not found.deferred:  # a deferral streak is recorded once
        insert_event(
            conn,
            ctx.now,
            EventKind.DELIVERY_CLAIMED,
            f"{_what(found)} to {found.agent}: delivering (attempt {found.attempts + 1})",
            task_id=found.task_id,
            agent=found.agent,
            actor=ctx.actor,
            data={"delivery": found.id},
        )
    claimed = dataclasses.replace(
        found, state=DeliveryState.delivering, attempts=found.attempts + 1
    )
    return claimed, due.extra


def finish(
    conn: Conn,
    ctx: Ctx,
    delivery: Delivery,
    receipt: Receipt,
    *,
    delivering: bool = False,
) -> DeliveryState:
    """Record a deliverer's receipt; retry with backoff, or give up. Return the new state
    (a node's claim, ``claim_until``, ends with it). ``delivering``: the caller has just read
    the row as ``delivering`` in this transaction (a node's fenced receipt), no need to look."""
    if receipt.ok:  # the common case: one conditional UPDATE, no read first
        return _delivered(conn, ctx, delivery, receipt, checked=delivering)
    state = (
        DeliveryState.delivering
        if delivering
        else DeliveryState(message_queries.held_state(conn, delivery.id))
    )
    if state is not DeliveryState.delivering:  # superseded (task cancelled or reassigned)
        return state
    if receipt.deferred:  # due at once when the turn that refused it has ended since
        over = message_queries.turn_ended_since_claim(conn, delivery.id)
        return _wait(
            conn, ctx, delivery, receipt.reason or "not attempted", 0.0 if over else DEFER_DELAY_S
        )
    if receipt.gone and delivery.target.kind is TargetKind.withdraw:
        return _nobody_to_tell(conn, ctx, delivery, receipt)
    if receipt.gone and delivery.task_id is None:  # a message waits for its agent's return
        why = f"{delivery.agent} is offline ({receipt.reason or 'its session is gone'})"
        return _wait(conn, ctx, delivery, why, OFFLINE_RETRY_S)
    if receipt.retryable and delivery.attempts < ctx.settings.delivery_attempts:
        backoff = ErrorBackoff(ctx.settings.retry_backoff_s, ctx.settings.retry_backoff_max_s)
        delay = backoff.delay(delivery.attempts)
        _requeue(conn, ctx, delivery.id, delay, receipt.reason or "failed", counted=True)
        insert_event(
            conn,
            ctx.now,
            EventKind.DELIVERY_RETRYING,
            f"delivery to {delivery.agent} failed ({receipt.reason}); "
            f"retry {delivery.attempts + 1} in {delay:g} s",
            task_id=delivery.task_id,
            agent=delivery.agent,
            actor=ctx.actor,
        )
        return DeliveryState.queued
    return _failed(conn, ctx, delivery, receipt)


def _nobody_to_tell(conn: Conn, ctx: Ctx, delivery: Delivery, receipt: Receipt) -> DeliveryState:
    """A withdrawal notice to an agent whose session is gone: the session that held the task
    ended with it, so nothing is left to take back; dropped (``superseded``), never retried
    into an "undelivered" item of swarm's own making."""
    if not message_queries.supersede(conn, delivery.id, ctx.now):
        return DeliveryState(message_queries.held_state(conn, delivery.id))
    why = receipt.reason or "its session is gone"
    insert_event(
        conn,
        ctx.now,
        EventKind.DELIVERY_SUPERSEDED,
        f"{_what(delivery)} to {delivery.agent} dropped: its session is gone ({why}), "
        "nothing of the task is left to take back",
        task_id=delivery.task_id,
        agent=delivery.agent,
        actor=ctx.actor,
        data={"delivery": delivery.id, "was": "delivering", "gone": why},
    )
    return DeliveryState.failed


def _wait(conn: Conn, ctx: Ctx, delivery: Delivery, why: str, delay: float) -> DeliveryState:
    """Back to the queue after ``delay``, its try given back (``deferred``), with one
    ``delivery.deferred`` event per streak of the same reason."""
    if not (delivery.deferred and delivery.reason == why):
        insert_event(
            conn,
            ctx.now,
            EventKind.DELIVERY_DEFERRED,
            f"{_what(delivery)} to {delivery.agent} waits: deferred: {why}",
            task_id=delivery.task_id,
            agent=delivery.agent,
            actor=ctx.actor,
            data={"delivery": delivery.id},
        )
    _requeue(conn, ctx, delivery.id, delay, why, counted=False)
    return DeliveryState.queued


def _delivered(
    conn: Conn, ctx: Ctx, delivery: Delivery, receipt: Receipt, *, checked: bool
) -> DeliveryState:
    """Mark the delivery delivered if it is still ``delivering`` (``checked``: the caller
    read it so in this transaction); else its state, unchanged (superseded meanwhile). The
    task's lease restarts: its row is taken before the delivery's, as a requeue or a cancel
    takes them (never crosswise), unless the caller already holds the delivery."""
    if not checked:
        _restart_lease(conn, ctx, delivery)
    done = message_queries.mark_delivered(
        conn, delivery.id, receipt.method, ctx.now, checked=checked
    )
    if not done and not checked:
        return DeliveryState(message_queries.state(conn, delivery.id))
    conn.add_event(delivered_event(ctx, delivery, receipt))
    if checked:
        _restart_lease(conn, ctx, delivery)
    return DeliveryState.delivered


def _restart_lease(conn: Conn, ctx: Ctx, delivery: Delivery) -> None:
    """A task prompt arrived: the lease of the agent's task starts again (a no-op for a
    task no longer the agent's)."""
    if renews_lease(delivery):
        until = ctx.now + ctx.settings.lease_s
        restart_lease(conn, delivery.task_id, delivery.agent, until)


def delivered_event(ctx: Ctx, delivery: Delivery, receipt: Receipt) -> tuple[Any, ...]:
    """The ``delivery.delivered`` event's row (``Conn.add_event``'s values)."""
    what = f"{_what(delivery)} delivered to {delivery.agent}"
    if receipt.carried:  # its turn stopped, nothing typed
        what = f"{task_ref(delivery.task_id or 0)} withdrawal from {delivery.agent} done"
    text = f"{what} ({receipt.method or 'delivered'}{', retry' if delivery.is_retry else ''})"
    data = json.dumps({"delivery": delivery.id, "message": delivery.message_id})
    return (
        ctx.now,
        EventKind.DELIVERY_DELIVERED,
        text,
        delivery.task_id,
        delivery.agent,
        ctx.actor,
        data,
    )


def renews_lease(delivery: Delivery) -> bool:
    """A task's prompt (not a note or a plain message): once delivered, the task's lease
    runs from then."""
    return delivery.task_id is not None and not is_note(delivery.target)


def _failed(conn: Conn, ctx: Ctx, delivery: Delivery, receipt: Receipt) -> DeliveryState:
    reason = receipt.reason or "failed"
    message_queries.mark_failed(conn, delivery.id, reason, ctx.now)
    insert_event(
        conn,
        ctx.now,
        EventKind.DELIVERY_FAILED,
        f"delivery to {delivery.agent} failed after {delivery.attempts} attempt(s): {reason}",
        task_id=delivery.task_id,
        agent=delivery.agent,
        actor=ctx.actor,
        data={"delivery": delivery.id, "reason": reason},
    )
    return DeliveryState.failed


def _requeue(conn: Conn, ctx: Ctx, delivery_id: int, delay: float, why: str, counted: bool) -> None:
    """Back to the queue after ``delay``: a retry (``counted``: a try was used) or a
    deferral (not attempted: ``deferred``, the try given back)."""
    message_queries.requeue(
        conn, delivery_id, why, counted=counted, not_before=ctx.now + delay, now=ctx.now
    )


def drop_pending(conn: Conn, ctx: Ctx, task_id: int, agent: str) -> None:
    """Cancel prompts for a task that an agent has not received yet (it no longer holds it).
    A withdrawal stays: it may take back a prompt of an earlier turn that did arrive."""
    _supersede(conn, ctx, task_id, agent, message_queries.pending(conn, agent, task_id))


def drop_queued_notes(conn: Conn, ctx: Ctx, task_id: int, agent: str) -> None:
    """Cancel the notes about the task still queued to ``agent``, which reported it (a
    nudge to report it, a question's late answer, would only confuse it now)."""
    _supersede(conn, ctx, task_id, agent, message_queries.queued_notes(conn, agent, task_id))


def _supersede(
    conn: Conn, ctx: Ctx, task_id: int, agent: str, found: list[message_queries.Unreceived]
) -> None:
    for delivery_id, state in found:
        if not message_queries.supersede(conn, delivery_id, ctx.now):  # received first
            continue
        insert_event(
            conn,
            ctx.now,
            EventKind.DELIVERY_SUPERSEDED,
            f"{task_ref(task_id)} prompt to {agent} superseded ({state}): "
            "the agent no longer holds the task",
            task_id=task_id,
            agent=agent,
            actor=ctx.actor,
            data={"delivery": delivery_id, "was": state},
        )


def prompt_reached(conn: Conn, task_id: int, agent: str, since: float | None = None) -> bool:
    """True when a prompt of the task was delivered to the agent, or may be on its screen
    (a delivery in flight); ``since``: only messages queued from then on (the agent's
    current turn with the task). Withdrawals do not count."""
    return message_queries.reached(conn, task_id, agent, since)


def _what(delivery: Delivery) -> str:
    """``T-3 prompt``, ``T-3 note``, ``T-3 withdrawal notice`` or ``message``."""
    if delivery.task_id is None:
        return "message"
    kind = delivery.target.kind
    word = {TargetKind.note: "note", TargetKind.withdraw: "withdrawal notice"}.get(kind, "prompt")
    return f"{task_ref(delivery.task_id)} {word}"


def recover(conn: Conn, ctx: Ctx) -> int:
    """After a crash: deliveries left 'delivering' go back to the queue, marked as retries
    (not a node's claim: it comes back when its lease ends, ``core/delivery/_node_claims.py``)."""
    recovered = 0
    for delivery_id, agent, task_id in message_queries.interrupted(conn):
        if not message_queries.requeue_interrupted(conn, delivery_id, ctx.now):
            continue  # its receipt was stored meanwhile
        recovered += 1
        insert_event(
            conn,
            ctx.now,
            EventKind.DELIVERY_RECOVERED,
            f"delivery to {agent} was interrupted; it will be retried",
            task_id=task_id,
            agent=agent,
            actor=ctx.actor,
        )
    return recovered
