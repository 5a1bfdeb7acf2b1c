"""Messages and their deliveries. Each function runs inside one write transaction."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection
from typing import Any

from core.context import Ctx
from core.event_kinds import EventKind
from core.formats.text import shorten
from core.models import Delivery, DeliveryState, Priority, Receipt, Target, TargetKind, task_ref
from core.store.conn import Args, Conn, values
from core.store.row_locks import read_held
from core.store.tables import DELIVERY_SELECT, insert_event, row_to_delivery
from core.waits import ErrorBackoff

DEFER_DELAY_S = 1.0  # a deferred delivery (not attempted) is looked at again after this
# A message's target is two columns, ``target_kind`` (``TargetKind``) and ``target_name``.
# A note about a task that is not its prompt (an answer, a nudge) is delivered as it is,
# without the workspace, handoff and footer; a withdrawal takes a task back.
_NOT_WITHDRAWAL = f"m.target_kind <> '{TargetKind.withdraw}'"


def note_to(agent: str) -> Target:
    """The target of a note about a task to ``agent``."""
    return Target(TargetKind.note, agent)


def is_note(target: Target) -> bool:
    """True for a note about a task (not the task's prompt)."""
    return target.kind is TargetKind.note


def not_mid_turn(d: str, since: str) -> str:
    """SQL: delivery ``d`` may go now. A task's prompt (an ``agent`` target, with its task)
    waits while its agent's hook says it is mid-turn (working, or waiting on a permission
    dialog) and said so after ``since`` (now less ``Settings.turn_hold_s``: an older reading
    is stale, as the stall rules take it); the hook's Stop (idle) lets it go. Plain messages,
    notes (a nudge, an answer, review comments) and withdrawals are meant for the turn under
    way: not held."""
    return (
        f"NOT EXISTS (SELECT 1 FROM agent_signals s JOIN messages hm ON hm.id = {d}.message_id "
        f"WHERE s.agent = {d}.agent_id AND s.signal = 'hook' "
        f"AND s.state IN ('working', 'waiting') AND s.at > {since} "
        f"AND hm.task_id IS NOT NULL AND hm.target_kind = '{TargetKind.agent}')"
    )


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
    cur = conn.execute(
        "INSERT INTO messages (sender, target_kind, target_name, text, task_id, priority, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        (ctx.actor, target.kind.value, target.name, text, task_id, int(priority), ctx.now),
    )
    message_id = int(cur.fetchone()["id"])
    conn.executemany(
        "INSERT INTO deliveries (message_id, agent_id, state, created_at, updated_at) "
        "VALUES ($1, $2, 'queued', $3, $4)",
        [(message_id, agent, ctx.now, ctx.now) for agent in recipients],
    )
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
    args, kind = Args(), TargetKind.agent.value
    groups = ", ".join(
        f"({args.many((ctx.actor, kind, agent, text, task_id, int(priority), ctx.now))})"
        for agent, text, task_id, priority in prompts
    )
    rows = conn.execute(
        "INSERT INTO messages (sender, target_kind, target_name, text, task_id, priority, "
        "created_at) "
        f"VALUES {groups} RETURNING id, task_id",
        args,
    ).fetchall()
    ids = {int(r["task_id"]): int(r["id"]) for r in rows}
    args = Args()
    groups = ", ".join(
        f"({args(ids[task_id])}, {args(agent)}, 'queued', {args(ctx.now)}, {args(ctx.now)})"
        for agent, _, task_id, _ in prompts
    )
    conn.execute(
        "INSERT INTO deliveries (message_id, agent_id, state, created_at, updated_at) "
        f"VALUES {groups}",
        args,
    )
    return ids


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
    (``core/delivery/node_claims.py``)."""
    found = claim_row(conn, ctx)
    return None if found is None else found[0]


def claim_row(
    conn: Conn, ctx: Ctx, extra: str = "", busy: Collection[str] = ()
) -> tuple[Delivery, Any] | None:
    """As ``claim``, with ``extra`` columns (SQL over deliveries ``d`` and messages ``m``)
    read by the same select: the delivery, and the row that has them. ``busy``: agents
    whose deliveries wait (one of theirs is being made: one at a time per agent, in order)."""
    skip = [a.id for a in ctx.agents.values() if a.node]  # no node on SQLite: StoreAccess
    skip += sorted(busy)
    args = Args([ctx.now])
    others = f" AND agent_id NOT IN ({args.many(skip)})" if skip else ""
    free = not_mid_turn("q", args(ctx.now - ctx.settings.turn_hold_s))
    select = (
        f"SELECT {extra}, {DELIVERY_SELECT.removeprefix('SELECT ')}" if extra else DELIVERY_SELECT
    )
    # the oldest due id first: the columns (``extra``'s subqueries) are then computed for
    # that one row, not for every due delivery the ordering looks at
    row = conn.execute(
        f"{select} WHERE d.id = (SELECT id FROM deliveries q WHERE state = 'queued' "
        f"AND not_before <= $1{others} AND {free} ORDER BY id LIMIT 1)",
        args,
    ).fetchone()
    if row is None:
        return None
    taken = conn.execute(
        "UPDATE deliveries SET state = 'delivering', attempts = attempts + 1, updated_at = $1 "
        "WHERE id = $2 AND state = 'queued'",
        (ctx.now, row["id"]),
    )
    if taken.rowcount == 0:  # dropped or claimed meanwhile by another writer: next time
        return None
    found = row_to_delivery(row)  # is_retry: an earlier attempt was made
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
    return claimed, row


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
        if delivering  # held: a receipt and a requeue or drop of it at once take turns
        else DeliveryState(read_held(conn, "deliveries", "state", delivery.id)["state"])
    )
    if state is not DeliveryState.delivering:  # superseded (task cancelled or reassigned)
        return state
    if receipt.deferred:
        why = receipt.reason or "not attempted"
        if not (delivery.deferred and delivery.reason == why):  # a streak: recorded once
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
        _requeue(conn, ctx, delivery.id, DEFER_DELAY_S, why, counted=False)
        return DeliveryState.queued
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


def _state(conn: Conn, delivery_id: int) -> DeliveryState:
    row = conn.execute("SELECT state FROM deliveries WHERE id = $1", (delivery_id,)).fetchone()
    return DeliveryState(row["state"])


def _delivered(
    conn: Conn, ctx: Ctx, delivery: Delivery, receipt: Receipt, *, checked: bool
) -> DeliveryState:
    """Mark the delivery delivered if it is still ``delivering`` (``checked``: the caller
    read it so in this transaction); else its state, unchanged (superseded meanwhile). The
    task's lease restarts: its row is taken before the delivery's, as a requeue or a cancel
    takes them (never crosswise), unless the caller already holds the delivery."""
    if not checked:
        _restart_lease(conn, ctx, delivery)
    still = "" if checked else " AND state = 'delivering'"
    cur = conn.execute(
        "UPDATE deliveries SET state = 'delivered', method = $1, reason = NULL, deferred = 0, "
        f"updated_at = $2, claim_until = NULL WHERE id = $3{still}",
        (receipt.method, ctx.now, delivery.id),
    )
    if cur.rowcount == 0 and not checked:
        return _state(conn, delivery.id)
    conn.add_event(delivered_event(ctx, delivery, receipt))
    if checked:
        _restart_lease(conn, ctx, delivery)
    return DeliveryState.delivered


def _restart_lease(conn: Conn, ctx: Ctx, delivery: Delivery) -> None:
    """A task prompt arrived: the lease of the agent's task starts again (a no-op for a
    task no longer the agent's)."""
    if renews_lease(delivery):
        conn.execute(
            "UPDATE tasks SET lease_expires_at = $1 WHERE id = $2 AND status = 'assigned' "
            "AND assignee = $3",
            (ctx.now + ctx.settings.lease_s, delivery.task_id, delivery.agent),
        )


def delivered_event(ctx: Ctx, delivery: Delivery, receipt: Receipt) -> tuple[Any, ...]:
    """The ``delivery.delivered`` event's row (``Conn.add_event``'s values)."""
    text = (
        f"{_what(delivery)} delivered to {delivery.agent} ({receipt.method or 'delivered'}"
        f"{', retry' if delivery.is_retry else ''})"
    )
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
    conn.execute(
        "UPDATE deliveries SET state = 'failed', reason = $1, deferred = 0, updated_at = $2, "
        "claim_until = NULL WHERE id = $3",
        (reason, ctx.now, delivery.id),
    )
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
    conn.execute(
        "UPDATE deliveries SET state = 'queued', reason = $1, deferred = $2, not_before = $3, "
        "attempts = attempts - $4, updated_at = $5, claim_until = NULL WHERE id = $6",
        (why, 0 if counted else 1, ctx.now + delay, 0 if counted else 1, ctx.now, delivery_id),
    )


def drop_pending(conn: Conn, ctx: Ctx, task_id: int, agent: str) -> None:
    """Cancel prompts for a task that an agent has not received yet (it no longer holds it).
    A withdrawal stays: it may take back a prompt of an earlier turn that did arrive."""
    rows = conn.execute(
        "SELECT d.id, d.state FROM deliveries d JOIN messages m ON m.id = d.message_id "
        "WHERE d.agent_id = $1 AND d.state IN ('queued', 'delivering') AND m.task_id = $2 "
        f"AND {_NOT_WITHDRAWAL}",
        (agent, task_id),
    ).fetchall()
    for delivery_id, state in map(values, rows):
        dropped = conn.execute(
            "UPDATE deliveries SET state = 'failed', reason = 'superseded', deferred = 0, "
            "updated_at = $1 WHERE id = $2 AND state IN ('queued', 'delivering')",
            (ctx.now, delivery_id),
        )
        if dropped.rowcount == 0:  # its receipt came first (another writer): it stays so
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
    turn = "" if since is None else " AND m.created_at >= $3"
    row = conn.execute(
        "SELECT 1 FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE "
        "d.agent_id = $1 AND m.task_id = $2 AND d.state IN ('delivered', 'delivering') "
        f"AND {_NOT_WITHDRAWAL}{turn} LIMIT 1",
        (agent, task_id) if since is None else (agent, task_id, since),
    ).fetchone()
    return row is not None


def _what(delivery: Delivery) -> str:
    if delivery.task_id is None:
        return "message"
    return f"{task_ref(delivery.task_id)} {'note' if is_note(delivery.target) else 'prompt'}"


def recover(conn: Conn, ctx: Ctx) -> int:
    """After a crash: deliveries left 'delivering' go back to the queue, marked as retries
    (not a node's claim: it comes back when its lease ends, ``core/delivery/node_claims.py``)."""
    rows = conn.execute(
        "SELECT d.id, d.agent_id, m.task_id FROM deliveries d JOIN messages m "
        "ON m.id = d.message_id WHERE d.state = 'delivering' AND d.node IS NULL"
    ).fetchall()
    recovered = 0
    for delivery_id, agent, task_id in map(values, rows):
        back = conn.execute(
            "UPDATE deliveries SET state = 'queued', reason = 'interrupted', deferred = 0, "
            "updated_at = $1 WHERE id = $2 AND state = 'delivering' AND node IS NULL",
            (ctx.now, delivery_id),
        )
        if back.rowcount == 0:  # its receipt was stored meanwhile
            continue
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
