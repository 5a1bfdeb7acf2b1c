"""The statements of claims on deliveries: what a task's prompt needs to know, read with its
claim (``core.delivery.prompt``), and delivery nodes' claims (``core.delivery.node_claims``,
PostgreSQL's own SQL: a claim with ``FOR UPDATE SKIP LOCKED``, a claim's holder read back, a
group of delivered receipts as one statement, when the next claim is due). Each is one named
operation; what a claim means (its lease, its fencing, its events) is in node_claims."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.agents import queries as agent_queries
from core.history import event_queries
from core.store.conn import Args, Conn
from core.tasks.message_queries import not_mid_turn

# What a prompt needs to know before its facts are read, as columns of a claim's select over
# deliveries ``d`` and messages ``m``: whether its agent was never onboarded, and whether
# another agent was ever assigned its task (else there is no handoff: no events read).
FACT_COLUMNS = (
    f"{agent_queries.FRESH_AGENT_OF_DELIVERY}AS fresh_agent, "
    f"{event_queries.HANDED_OVER_OF_DELIVERY}AS handed_over"
)
_FLAGS = (
    f"SELECT {agent_queries.FRESH_AGENT_PARAM}AS fresh_agent, "
    f"{event_queries.HANDED_OVER_PARAM}AS handed_over"
)


def prompt_flags(conn: Conn, agent: str, task_id: int) -> Any:
    """``FACT_COLUMNS`` of a prompt of task ``task_id`` to ``agent``, read on their own."""
    return conn.execute(_FLAGS, (agent, task_id, agent)).fetchone()


# One statement (as procrastinate's ``procrastinate_fetch_job``): pick the due rows, skipping
# those another node is claiming, and mark them ours; the rows come back with what was there
# before (``was``, ``held_by``) and their message, and the prompt's facts. With ``= ANY``
# and ``FOR UPDATE SKIP LOCKED``.
_CLAIM = (
    "WITH picked AS (SELECT d.id, d.state AS was, d.node AS held_by, d.node_run AS held_run "
    "FROM deliveries d "
    "WHERE d.agent_id = ANY($1) AND ((d.state = 'queued' AND d.not_before <= $2) OR "
    "(d.state = 'delivering' AND d.claim_until < $3)) "
    f"AND {not_mid_turn('d', '$9', '$10')} ORDER BY d.id LIMIT $4 "
    "FOR UPDATE SKIP LOCKED) "
    "UPDATE deliveries d SET state = 'delivering', node = $5, node_run = $6, claim_until = $7, "
    "attempts = d.attempts + 1, updated_at = $8 FROM picked p, messages m "
    "WHERE d.id = p.id AND m.id = d.message_id "
    "RETURNING d.id, d.message_id, d.agent_id, p.was AS state, d.attempts - 1 AS attempts, "
    "d.reason, d.deferred, m.text, m.sender, m.task_id, m.priority, m.target_kind, "
    f"m.target_name, p.held_by, p.held_run, {FACT_COLUMNS}"
)


def claim_rows(
    conn: Conn,
    claimer: tuple[str, str],
    agents: list[str],
    now: float,
    until: float,
    limit: int,
    mid_turn_since: float,
    turn_heard_over: Sequence[str] = (),
) -> list[Any]:
    """Mark up to ``limit`` due deliveries of ``agents`` (queued, or claimed with a lease
    that ended) ``delivering`` by ``claimer`` (name, run) until ``until``, skipping rows
    another node is claiming and agents mid-turn since ``mid_turn_since`` (but for
    ``turn_heard_over``: their host's end of the turn heard, not yet written): their rows as
    they were (``state``, ``held_by``, ``held_run``), their message and ``FACT_COLUMNS``."""
    name, run = claimer
    rows: list[Any] = conn.execute(
        _CLAIM,
        (agents, now, now, limit, name, run, until, now, mid_turn_since, list(turn_heard_over)),
    ).fetchall()
    return rows


def claim_of(conn: Conn, delivery_id: int, *, lock: bool = False) -> Any:
    """The delivery's claim (``node``, ``state``, ``node_run``), or None; ``lock``: held
    (``FOR UPDATE``) until the transaction ends."""
    if lock:
        return conn.execute(
            "SELECT node, state, node_run FROM deliveries WHERE id = $1 FOR UPDATE",
            (delivery_id,),
        ).fetchone()
    return conn.execute(
        "SELECT node, state, node_run FROM deliveries WHERE id = $1", (delivery_id,)
    ).fetchone()


# A node's delivered receipts as one statement (PostgreSQL's data-modifying CTEs): of the
# deliveries (``v``), those whose claim is still the claimer's are held (``h``: none for one
# another node took), their tasks' leases renewed (``t``, for a task's prompt), their events
# written with the change, in order (each event row of ``e`` joined to its delivery's row of
# ``h``, so none is written for a claim that was lost), and they are marked delivered: the
# statement itself is that UPDATE, so the rows it changed count as a commit's changes.
_DELIVERED = (
    f"WITH v (id, method, task, lease) AS (VALUES {{deliveries}}), "
    "h AS (SELECT deliveries.id, deliveries.agent_id FROM deliveries JOIN v "
    "ON v.id = deliveries.id WHERE deliveries.node = $2 AND deliveries.node_run = $3 "
    "AND deliveries.state = 'delivering' ORDER BY deliveries.id FOR UPDATE OF deliveries), "
    "t AS (UPDATE tasks SET lease_expires_at = v.lease FROM h JOIN v ON v.id = h.id "
    "WHERE tasks.id = v.task AND v.lease IS NOT NULL AND tasks.status = 'assigned' "
    "AND tasks.assignee = h.agent_id), "
    f"e (delivery, n, ts, kind, text, task_id, agent_id, actor, data) AS (VALUES {{events}}), "
    f"i AS ({event_queries.INSERT_HEAD}"
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

# one delivered receipt: (delivery id, method, task id, the task's new lease or None) and
# the rows of its events (``Conn.add_event``'s values)
Delivered = tuple[tuple[int, str | None, int | None, float | None], Sequence[Sequence[Any]]]


def mark_delivered(
    conn: Conn, now: float, claimer: tuple[str, str], group: Sequence[Delivered]
) -> set[int]:
    """Mark ``group``'s deliveries delivered, their events written and their tasks' leases
    renewed, in one statement, for those whose claim is still ``claimer``'s (name, run):
    their ids (nothing is written for the others)."""
    name, run = claimer
    args = Args([now, name, run])  # $1, $2, $3 of _DELIVERED
    deliveries: list[str] = []
    events: list[str] = []
    for receipt, event_rows in group:
        delivery_id = receipt[0]
        deliveries.append(_DELIVERY_ROW.format(*map(args, receipt)))
        for event in event_rows:
            events.append(_EVENT_ROW.format(*map(args, (delivery_id, len(events), *event))))
    sql = _DELIVERED.format(deliveries=", ".join(deliveries), events=", ".join(events))
    conn.flush_events()  # the events held so far keep their place before these
    return {r["id"] for r in conn.execute(sql, args).fetchall()}


def next_due(conn: Conn, agents: list[str], claimed_at: float) -> tuple[float | None, bool]:
    """When the next delivery of ``agents`` becomes claimable after the claim made at
    ``claimed_at`` (due, or its lease ends, later than that), and whether one was due then
    that the claim left (held: its agent mid-turn, ``message_queries.not_mid_turn``)."""
    row = conn.execute(
        "SELECT min(due) FILTER (WHERE due > $2) AS due, coalesce(bool_or(due <= $2), false) "
        "AS held FROM (SELECT CASE WHEN state = 'queued' THEN not_before ELSE claim_until END "
        "AS due FROM deliveries WHERE agent_id = ANY($1) AND (state = 'queued' OR "
        "(state = 'delivering' AND claim_until IS NOT NULL))) AS pending",
        (agents, claimed_at),
    ).fetchone()
    return row["due"], bool(row["held"])
