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
from dataclasses import dataclass
from typing import Any

from core.context import Ctx
from core.delivery import assignment
from core.delivery.prompt import FACT_COLUMNS
from core.event_kinds import EventKind
from core.models import ClaimOutcome, Delivery, DeliveryState, Receipt, task_ref
from core.store.conn import Args, Conn
from core.store.tables import row_to_delivery
from core.tasks import message_queries, messages

# One statement (as procrastinate's ``procrastinate_fetch_job``): pick the due rows, skipping
# those another node is claiming, and mark them ours; the rows come back with what was there
# before (``was``, ``held_by``) and their message. PostgreSQL's own SQL: this module runs only
# on PostgreSQL (nodes need it), with ``= ANY`` and ``FOR UPDATE SKIP LOCKED``.
_CLAIM = (
    "WITH picked AS (SELECT d.id, d.state AS was, d.node AS held_by, d.node_run AS held_run "
    "FROM deliveries d "
    "WHERE d.agent_id = ANY($1) AND ((d.state = 'queued' AND d.not_before <= $2) OR "
    "(d.state = 'delivering' AND d.claim_until < $3)) "
    f"AND {message_queries.not_mid_turn('d', '$9')} ORDER BY d.id LIMIT $4 "
    "FOR UPDATE SKIP LOCKED) "
    "UPDATE deliveries d SET state = 'delivering', node = $5, node_run = $6, claim_until = $7, "
    "attempts = d.attempts + 1, updated_at = $8 FROM picked p, messages m "
    "WHERE d.id = p.id AND m.id = d.message_id "
    "RETURNING d.id, d.message_id, d.agent_id, p.was AS state, d.attempts - 1 AS attempts, "
    "d.reason, d.deferred, m.text, m.sender, m.task_id, m.priority, m.target_kind, "
    f"m.target_name, p.held_by, p.held_run, {FACT_COLUMNS}"
)


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
    fresh_agent: bool = False  # read with the claim (``prompt.FACT_COLUMNS``)
    handed_over: bool = False


def claim(
    conn: Conn,
    claimer: Claimer,
    agents: list[str],
    now: float,
    lease_s: float,
    limit: int,
    hold_s: float = 600.0,
) -> list[Claim]:
    """Take up to ``limit`` due deliveries of ``agents`` (queued, or claimed by a node whose
    lease ran out), oldest first, skipping rows another node is claiming right now and
    deliveries to an agent mid-turn (``message_queries.not_mid_turn``, its hook read within
    ``hold_s``)."""
    until = now + lease_s
    rows = conn.execute(
        _CLAIM, (agents, now, now, limit, claimer.name, claimer.run, until, now, now - hold_s)
    ).fetchall()
    claims = []
    for row in sorted(rows, key=lambda r: int(r["id"])):
        found = row_to_delivery(row)
        taken = (
            Claimer(row["held_by"], row["held_run"] or "")
            if row["state"] == DeliveryState.delivering
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
                bool(row["fresh_agent"]),
                bool(row["handed_over"]),
            )
        )
    return claims


def holds(conn: Conn, claimer: Claimer, delivery_id: int) -> bool:
    """True while ``claimer``'s claim on the delivery stands (checked before delivering)."""
    row = conn.execute(
        "SELECT node, state, node_run FROM deliveries WHERE id = $1", (delivery_id,)
    ).fetchone()
    return _held_by(row, claimer)


def _held_by(row: Any, claimer: Claimer) -> bool:
    """True when ``row`` (node, node_run, state) is ``claimer``'s claim."""
    return (
        row is not None
        and row["node"] == claimer.name
        and row["node_run"] == claimer.run
        and row["state"] == DeliveryState.delivering
    )


def finish(
    conn: Conn, ctx: Ctx, claimer: Claimer, done: list[tuple[Claim, Receipt, bool]]
) -> list[ClaimOutcome]:
    """Store the receipts of ``done`` (claim, receipt, onboarded) whose claims are still
    ``claimer``'s; ``lost`` for the others (another node took them after the lease)."""
    from core.delivery.onboarding import record_receipt_onboarded

    outcomes: list[ClaimOutcome] = []
    group: list[tuple[Claim, Receipt]] = []  # delivered receipts in a row: one statement
    for held, receipt, onboarded in done:
        if receipt.ok and not onboarded:  # the common case
            group.append((held, receipt))
            continue
        outcomes += _delivered(conn, ctx, claimer, group)
        group = []
        delivery = held.delivery
        row = conn.execute(
            "SELECT node, state, node_run FROM deliveries WHERE id = $1 FOR UPDATE",
            (delivery.id,),
        ).fetchone()
        if not _held_by(row, claimer):
            outcomes.append(ClaimOutcome.lost)
            continue
        _claimed_event(conn, ctx, claimer, held)
        record = record_receipt_onboarded if onboarded else assignment.record_receipt
        state = record(conn, ctx, delivery, receipt, delivering=True)  # ends the claim
        outcomes.append(ClaimOutcome(state.value))
    return outcomes + _delivered(conn, ctx, claimer, group)


# A node's delivered receipts as one statement (PostgreSQL's data-modifying CTEs): of the
# deliveries (``v``), those whose claim is still ``claimer``'s are held (``h``: none for one
# another node took), their tasks' leases renewed (``t``, for a task's prompt), their events
# written with the change, in order (each event row of ``e`` joined to its delivery's row of
# ``h``, so none is written for a claim that was lost), and they are marked delivered: the
# statement itself is that UPDATE, so the rows it changed count as a commit's changes.
_DELIVERED = (
    "WITH v (id, method, task, lease) AS (VALUES {deliveries}), "
    "h AS (SELECT deliveries.id, deliveries.agent_id FROM deliveries JOIN v "
    "ON v.id = deliveries.id WHERE deliveries.node = $2 AND deliveries.node_run = $3 "
    "AND deliveries.state = 'delivering' ORDER BY deliveries.id FOR UPDATE OF deliveries), "
    "t AS (UPDATE tasks SET lease_expires_at = v.lease FROM h JOIN v ON v.id = h.id "
    "WHERE tasks.id = v.task AND v.lease IS NOT NULL AND tasks.status = 'assigned' "
    "AND tasks.assignee = h.agent_id), "
    "e (delivery, n, ts, kind, text, task_id, agent_id, actor, data) AS (VALUES {events}), "
    "i AS (INSERT INTO events (ts, kind, text, task_id, agent_id, actor, data) "
    "SELECT e.ts, e.kind, e.text, e.task_id, e.agent_id, e.actor, e.data FROM e "
    "JOIN h ON h.id = e.delivery ORDER BY e.n) "
    "UPDATE deliveries SET state = 'delivered', method = v.method, reason = NULL, "
    "deferred = 0, updated_at = $1, claim_until = NULL FROM h JOIN v ON v.id = h.id "
    "WHERE deliveries.id = h.id RETURNING deliveries.id"
)
_DELIVERY_ROW = (
    "(CAST({} AS BIGINT), CAST({} AS TEXT), CAST({} AS BIGINT), CAST({} AS DOUBLE PRECISION))"
)
_EVENT_ROW = (
    "(CAST({} AS BIGINT), CAST({} AS INTEGER), CAST({} AS DOUBLE PRECISION), CAST({} AS TEXT), "
    "CAST({} AS TEXT), CAST({} AS BIGINT), CAST({} AS TEXT), CAST({} AS TEXT), CAST({} AS TEXT))"
)


def _delivered(
    conn: Conn, ctx: Ctx, claimer: Claimer, group: list[tuple[Claim, Receipt]]
) -> list[ClaimOutcome]:
    """Store the delivered receipts of ``group`` in one statement: ``delivered`` for each,
    or ``lost`` for a claim that was no longer ``claimer``'s (nothing written for it)."""
    if not group:
        return []
    args = Args([ctx.now, claimer.name, claimer.run])  # $1, $2, $3 of _DELIVERED
    deliveries: list[str] = []
    events: list[str] = []
    for held, receipt in group:
        delivery = held.delivery
        lease = ctx.now + ctx.settings.lease_s if messages.renews_lease(delivery) else None
        row = (delivery.id, receipt.method, delivery.task_id, lease)
        deliveries.append(_DELIVERY_ROW.format(*map(args, row)))
        rows = [e for e in (_claimed_row(ctx, claimer, held),) if e is not None]
        rows.append(messages.delivered_event(ctx, delivery, receipt))
        for event in rows:
            events.append(_EVENT_ROW.format(*map(args, (delivery.id, len(events), *event))))
    sql = _DELIVERED.format(deliveries=", ".join(deliveries), events=", ".join(events))
    conn.flush_events()  # the events held so far keep their place before these
    stored = {r["id"] for r in conn.execute(sql, args).fetchall()}
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


def next_due(conn: Conn, agents: list[str]) -> float | None:
    """When the next delivery of ``agents`` becomes claimable (due, or its lease ends)."""
    row = conn.execute(
        "SELECT min(CASE WHEN state = 'queued' THEN not_before ELSE claim_until END) AS due "
        "FROM deliveries WHERE agent_id = ANY($1) AND (state = 'queued' OR "
        "(state = 'delivering' AND claim_until IS NOT NULL))",
        (agents,),
    ).fetchone()
    due: float | None = row["due"]
    return due


def heartbeat(
    conn: Conn,
    node: str,
    agents: list[str],
    host: str,
    pid: int,
    started_at: float,
    now: float,
) -> None:
    """Say that ``node`` is alive and which agents it serves."""
    conn.execute(
        "INSERT INTO nodes (name, agents, host, pid, started_at, heartbeat_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT(name) DO UPDATE SET agents = excluded.agents, "
        "host = excluded.host, pid = excluded.pid, started_at = excluded.started_at, "
        "heartbeat_at = excluded.heartbeat_at",
        (node, json.dumps(agents), host, pid, started_at, now),
    )


def node_rows(conn: Conn) -> list[dict[str, Any]]:
    """Every node that ever said it was alive: name, agents, host, pid, last heartbeat,
    deliveries in flight."""
    rows = conn.execute(
        "SELECT n.name, n.agents, n.host, n.pid, n.heartbeat_at, (SELECT count(*) FROM "
        "deliveries d WHERE d.node = n.name AND d.state = 'delivering') AS in_flight "
        "FROM nodes n ORDER BY n.name"
    ).fetchall()
    return [
        {
            "name": r["name"],
            "agents": json.loads(r["agents"]),
            "host": r["host"],
            "pid": r["pid"],
            "heartbeat_at": r["heartbeat_at"],
            "in_flight": r["in_flight"],
        }
        for r in rows
    ]
