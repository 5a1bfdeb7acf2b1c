"""Delivery nodes' rows: claims with a lease, fenced receipts, heartbeats (PostgreSQL).

A node claims the due deliveries of its own agents with ``FOR UPDATE SKIP LOCKED`` (nodes
never wait on each other's rows) and marks them ``delivering`` with a lease
(``claim_until``) and its claimer: the node's name in ``node`` and its run in ``node_run``
(one run of the node: a restarted node of the same name is another claimer). A claim whose
lease ran out (its node died mid-delivery) is claimed again like a queued one, one more
attempt, so it goes out marked as a retry. Claims and
heartbeats write no events and run beside other writers (``PgDatabase.write_concurrent``);
the receipt, with its ``delivery.claimed`` event, is one ordinary write transaction (its
events are read in commit order through the outbox horizon, ``events.txid``) and is stored
only while the claim is
still the node's own: a node that comes back after its lease finds the delivery claimed or
finished by another and drops what it holds.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.context import Ctx
from core.delivery import _claim_queries as claim_queries
from core.delivery import _messages as messages
from core.delivery._onboarding import record_receipt_onboarded
from core.delivery._receipts import TaskOnFailedPrompt, record_receipt
from core.event_kinds import EventKind
from core.models import ClaimOutcome, Delivery, DeliveryState, Receipt, task_ref
from core.store.conn import Conn


@dataclass(frozen=True)
class Claimer:
    """One run of a delivery node: its name (``deliveries.node``) and the run's id
    (``deliveries.node_run``); a claim is fenced on both."""

    name: str
    run: str

    def __str__(self) -> str:
        return f"{self.name} (run {self.run})"


@dataclass(frozen=True)
class Claim:
    """A delivery this node holds until ``until`` (``taken_from``: the dead node it had)."""

    delivery: Delivery
    claimed_at: float
    until: float
    taken_from: Claimer | None = None
    fresh_agent: bool = False  # read with the claim (``claim_queries.FACT_COLUMNS``)
    handed_over: bool = False


def claim(
    conn: Conn,
    claimer: Claimer,
    agents: list[str],
    now: float,
    lease_s: float,
    limit: int,
    hold_s: float = 600.0,
    turn_heard_over: Sequence[str] = (),
) -> list[Claim]:
    """Take up to ``limit`` due deliveries of ``agents`` (queued, or claimed by a node whose
    lease ran out), oldest first, skipping rows another node is claiming right now and
    deliveries to an agent mid-turn (``message_queries.not_mid_turn``, its hook or its
    host read within ``hold_s``; an agent of ``turn_heard_over`` is not: its host said the
    turn ended, not yet written)."""
    until = now + lease_s
    rows = claim_queries.claim_rows(
        conn,
        (claimer.name, claimer.run),
        agents,
        now,
        until,
        limit,
        now - hold_s,
        turn_heard_over,
    )
    claims = []
    for row in sorted(rows, key=lambda r: r.delivery.id):
        found = row.delivery
        taken = (
            Claimer(row.held_by or "", row.held_run or "")
            if found.state == DeliveryState.delivering
            else None
        )
        claims.append(
            Claim(
                dataclasses.replace(
                    found,
                    state=DeliveryState.delivering,
                    attempts=found.attempts + 1,
                    is_retry=found.is_retry or taken is not None,
                ),
                now,
                now + lease_s,
                taken,
                row.flags.fresh_agent,
                row.flags.handed_over,
            )
        )
    return claims


def holds(conn: Conn, claimer: Claimer, delivery_id: int) -> bool:
    """True while ``claimer``'s claim on the delivery stands (checked before delivering)."""
    return _held_by(claim_queries.claim_of(conn, delivery_id), claimer)


def _held_by(row: claim_queries.ClaimHolder | None, claimer: Claimer) -> bool:
    """True when ``row`` is ``claimer``'s claim."""
    return (
        row is not None
        and row.node == claimer.name
        and row.node_run == claimer.run
        and row.state == DeliveryState.delivering
    )


def finish(
    conn: Conn,
    ctx: Ctx,
    claimer: Claimer,
    done: list[tuple[Claim, Receipt, bool]],
    tasks: TaskOnFailedPrompt,
) -> list[ClaimOutcome]:
    """Store the receipts of ``done`` (claim, receipt, onboarded) whose claims are still
    ``claimer``'s; ``lost`` for the others (another node took them after the lease);
    ``tasks``: what a task prompt that could not be delivered does to its task."""

    outcomes: list[ClaimOutcome] = []
    group: list[tuple[Claim, Receipt]] = []  # delivered receipts in a row: one statement
    for held, receipt, onboarded in done:
        if receipt.ok and not onboarded:  # the common case
            group.append((held, receipt))
            continue
        outcomes += _delivered(conn, ctx, claimer, group)
        group = []
        delivery = held.delivery
        if not _held_by(claim_queries.claim_of(conn, delivery.id, lock=True), claimer):
            outcomes.append(ClaimOutcome.lost)
            continue
        _claimed_event(conn, ctx, claimer, held)
        record = record_receipt_onboarded if onboarded else record_receipt
        state = record(conn, ctx, delivery, receipt, tasks, delivering=True)  # ends the claim
        outcomes.append(ClaimOutcome(state.value))
    return outcomes + _delivered(conn, ctx, claimer, group)


def _delivered(
    conn: Conn, ctx: Ctx, claimer: Claimer, group: list[tuple[Claim, Receipt]]
) -> list[ClaimOutcome]:
    """Store the delivered receipts of ``group`` in one statement: ``delivered`` for each,
    or ``lost`` for a claim that was no longer ``claimer``'s (nothing written for it)."""
    if not group:
        return []
    receipts: list[claim_queries.Delivered] = []
    for held, receipt in group:
        delivery = held.delivery
        lease = ctx.now + ctx.settings.lease_s if messages.renews_lease(delivery) else None
        rows = [e for e in (_claimed_row(ctx, claimer, held),) if e is not None]
        rows.append(messages.delivered_event(ctx, delivery, receipt))
        receipts.append(((delivery.id, receipt.method, delivery.task_id, lease), rows))
    stored = claim_queries.mark_delivered(conn, ctx.now, (claimer.name, claimer.run), receipts)
    return [
        ClaimOutcome.delivered if held.delivery.id in stored else ClaimOutcome.lost
        for held, _ in group
    ]


def _claimed_event(conn: Conn, ctx: Ctx, claimer: Claimer, held: Claim) -> None:
    row = _claimed_row(ctx, claimer, held)
    if row is not None:
        conn.add_event(row)


def _claimed_row(ctx: Ctx, claimer: Claimer, held: Claim) -> tuple[Any, ...] | None:
    """The ``delivery.claimed`` event's row (``Conn.add_event``'s values); None for a
    deferral streak's next attempt (recorded once)."""
    delivery = held.delivery
    taken = held.taken_from
    if delivery.deferred and taken is None:
        return None
    what = f"{task_ref(delivery.task_id)} prompt" if delivery.task_id else "message"
    after = f"; taken over from {taken} after its lease" if taken else ""
    data = {
        "delivery": delivery.id,
        "node": claimer.name,
        "run": claimer.run,
        **({"taken_from": taken.name, "taken_from_run": taken.run} if taken else {}),
    }
    return (
        held.claimed_at,
        EventKind.DELIVERY_CLAIMED,
        f"{what} to {delivery.agent}: delivering by {claimer.name} "
        f"(attempt {delivery.attempts}{after})",
        delivery.task_id,
        delivery.agent,
        ctx.actor,
        json.dumps(data),
    )
