"""Messages and their deliveries. Each function runs inside one write transaction."""

from __future__ import annotations

import dataclasses

from core.context import Ctx
from core.models import Delivery, DeliveryState, Priority, Receipt, task_ref
from core.store.conn import Args, Conn, values
from core.store.tables import DELIVERY_SELECT, insert_event, row_to_delivery
from core.text import shorten

DEFER_DELAY_S = 1.0  # a deferred delivery (not attempted) is looked at again after this
DEFERRED = "deferred: "  # the stored reason of a deferred delivery starts with this
# A message about a task that is not its prompt (an answer, a nudge): its target is
# ``note:<agent>``; it is delivered as it is, without the workspace, handoff and footer.
NOTE_TARGET = "note:"


def is_note(target: str) -> bool:
    """True for a note about a task (not the task's prompt)."""
    return target.startswith(NOTE_TARGET)


WITHDRAW_TARGET = "withdraw:"  # a task taken back from an agent: ``withdraw:<agent>``
_NOT_WITHDRAWAL = f"m.target NOT LIKE '{WITHDRAW_TARGET}%'"


def queue(
    conn: Conn,
    ctx: Ctx,
    recipients: list[str],
    text: str,
    *,
    target: str,
    task_id: int | None = None,
    priority: Priority = Priority.normal,
) -> int:
    """Store one message and a queued delivery per recipient; return the message id."""
    cur = conn.execute(
        "INSERT INTO messages (sender, target, text, task_id, priority, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        (ctx.actor, target, text, task_id, int(priority), ctx.now),
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
            "message.queued",
            f"message from {ctx.actor} to {', '.join(recipients)}: {shorten(text, 80)}",
            actor=ctx.actor,
            data={"message": message_id, "target": target, "text": shorten(text, 300)},
        )
    return message_id


def send(conn: Conn, ctx: Ctx, agent_id: str, text: str) -> int:
    """A message to one agent."""
    agent = ctx.agent(agent_id).id
    text = ctx.check_text(text, "message")
    return queue(conn, ctx, [agent], text, target=f"agent:{agent}")


def broadcast(conn: Conn, ctx: Ctx, text: str, role: str | None = None) -> int:
    """A message to every agent, or to every agent of a role."""
    text = ctx.check_text(text, "message")
    if role:
        ctx.check_role(role)
        recipients = [a.id for a in ctx.agents.values() if a.role == role]
        return queue(conn, ctx, recipients, text, target=f"role:{role}")
    return queue(conn, ctx, list(ctx.agents), text, target="all")


def claim(conn: Conn, ctx: Ctx) -> Delivery | None:
    """Take the oldest due queued delivery and mark it delivering (one more attempt); on
    PostgreSQL, not one of an agent that a delivery node serves
    (``core/delivery/node_claims.py``)."""
    skip = [a.id for a in ctx.agents.values() if a.node]  # no node on SQLite: StoreAccess
    args = Args([ctx.now])
    others = f" AND d.agent_id NOT IN ({args.many(skip)})" if skip else ""
    row = conn.execute(
        f"{DELIVERY_SELECT} WHERE d.state = 'queued' AND d.not_before <= $1{others} "
        "ORDER BY d.id LIMIT 1",
        args,
    ).fetchone()
    if row is None:
        return None
    conn.execute(
        "UPDATE deliveries SET state = 'delivering', attempts = attempts + 1, updated_at = $1 "
        "WHERE id = $2",
        (ctx.now, row["id"]),
    )
    found = row_to_delivery(row)  # is_retry: an earlier attempt was made
    if not (found.reason or "").startswith(DEFERRED):  # a deferral streak is recorded once
        insert_event(
            conn,
            ctx.now,
            "delivery.claimed",
            f"{_what(found)} to {found.agent}: delivering (attempt {found.attempts + 1})",
            task_id=found.task_id,
            agent=found.agent,
            actor=ctx.actor,
            data={"delivery": found.id},
        )
    return dataclasses.replace(found, state=DeliveryState.delivering, attempts=found.attempts + 1)


def finish(
    conn: Conn,
    ctx: Ctx,
    delivery: Delivery,
    receipt: Receipt,
    *,
    delivering: bool = False,
) -> str:
    """Record a deliverer's receipt; retry with backoff, or give up. Return the new state
    (a node's claim, ``claim_until``, ends with it). ``delivering``: the caller has just read
    the row as ``delivering`` in this transaction (a node's fenced receipt), no need to look."""
    state = (
        "delivering"
        if delivering
        else conn.execute("SELECT state FROM deliveries WHERE id = $1", (delivery.id,)).fetchone()[
            "state"
        ]
    )
    if state != "delivering":  # superseded meanwhile (task cancelled or reassigned)
        return str(state)
    if receipt.ok:
        return _delivered(conn, ctx, delivery, receipt)
    if receipt.deferred:
        why = f"{DEFERRED}{receipt.reason or 'not attempted'}"
        if delivery.reason != why:
            insert_event(
                conn,
                ctx.now,
                "delivery.deferred",
                f"{_what(delivery)} to {delivery.agent} waits: {why}",
                task_id=delivery.task_id,
                agent=delivery.agent,
                actor=ctx.actor,
                data={"delivery": delivery.id},
            )
        _requeue(conn, ctx, delivery.id, DEFER_DELAY_S, why, counted=False)
        return "queued"
    if receipt.retryable and delivery.attempts < ctx.settings.delivery_attempts:
        delay = min(
            ctx.settings.retry_backoff_s * 2 ** (delivery.attempts - 1),
            ctx.settings.retry_backoff_max_s,
        )
        _requeue(conn, ctx, delivery.id, delay, receipt.reason or "failed", counted=True)
        insert_event(
            conn,
            ctx.now,
            "delivery.retrying",
            f"delivery to {delivery.agent} failed ({receipt.reason}); "
            f"retry {delivery.attempts + 1} in {delay:g} s",
            task_id=delivery.task_id,
            agent=delivery.agent,
            actor=ctx.actor,
        )
        return "queued"
    return _failed(conn, ctx, delivery, receipt)


def _delivered(conn: Conn, ctx: Ctx, delivery: Delivery, receipt: Receipt) -> str:
    conn.execute(
        "UPDATE deliveries SET state = 'delivered', method = $1, reason = NULL, updated_at = $2, "
        "claim_until = NULL WHERE id = $3",
        (receipt.method, ctx.now, delivery.id),
    )
    what = _what(delivery)
    insert_event(
        conn,
        ctx.now,
        "delivery.delivered",
        f"{what} delivered to {delivery.agent} ({receipt.method or 'delivered'}"
        f"{', retry' if delivery.is_retry else ''})",
        task_id=delivery.task_id,
        agent=delivery.agent,
        actor=ctx.actor,
        data={"delivery": delivery.id, "message": delivery.message_id},
    )
    if delivery.task_id is not None and not is_note(delivery.target):
        conn.execute(
            "UPDATE tasks SET lease_expires_at = $1 WHERE id = $2 AND status = 'assigned' "
            "AND assignee = $3",
            (ctx.now + ctx.settings.lease_s, delivery.task_id, delivery.agent),
        )
    return "delivered"


def _failed(conn: Conn, ctx: Ctx, delivery: Delivery, receipt: Receipt) -> str:
    reason = receipt.reason or "failed"
    conn.execute(
        "UPDATE deliveries SET state = 'failed', reason = $1, updated_at = $2, "
        "claim_until = NULL WHERE id = $3",
        (reason, ctx.now, delivery.id),
    )
    insert_event(
        conn,
        ctx.now,
        "delivery.failed",
        f"delivery to {delivery.agent} failed after {delivery.attempts} attempt(s): {reason}",
        task_id=delivery.task_id,
        agent=delivery.agent,
        actor=ctx.actor,
        data={"delivery": delivery.id, "reason": reason},
    )
    return "failed"


def _requeue(conn: Conn, ctx: Ctx, delivery_id: int, delay: float, why: str, counted: bool) -> None:
    conn.execute(
        "UPDATE deliveries SET state = 'queued', reason = $1, not_before = $2, "
        "attempts = attempts - $3, updated_at = $4, claim_until = NULL WHERE id = $5",
        (why, ctx.now + delay, 0 if counted else 1, ctx.now, delivery_id),
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
        conn.execute(
            "UPDATE deliveries SET state = 'failed', reason = 'superseded', "
            "updated_at = $1 WHERE id = $2",
            (ctx.now, delivery_id),
        )
        insert_event(
            conn,
            ctx.now,
            "delivery.superseded",
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
    for delivery_id, agent, task_id in map(values, rows):
        conn.execute(
            "UPDATE deliveries SET state = 'queued', reason = 'interrupted', "
            "updated_at = $1 WHERE id = $2",
            (ctx.now, delivery_id),
        )
        insert_event(
            conn,
            ctx.now,
            "delivery.recovered",
            f"delivery to {agent} was interrupted; it will be retried",
            task_id=task_id,
            agent=agent,
            actor=ctx.actor,
        )
    return len(rows)


def next_due(conn: Conn) -> float | None:
    """When the earliest queued delivery becomes due."""
    row = conn.execute(
        "SELECT min(not_before) AS due FROM deliveries WHERE state = 'queued'"
    ).fetchone()
    due: float | None = row["due"]
    return due
