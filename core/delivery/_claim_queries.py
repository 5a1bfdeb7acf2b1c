"""The statements of claims on deliveries: what a task's prompt needs to know, read with its
claim (``core.delivery._prompt``), and delivery nodes' claims (``core.delivery._node_claims``,
PostgreSQL's own SQL: a claim with ``FOR UPDATE SKIP LOCKED``, a claim's holder read back, a
group of delivered receipts as one statement, when the next claim is due). Each is one named
operation; what a claim means (its lease, its fencing, its events) is in node_claims."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from core.agents import queries as agent_queries
from core.delivery._message_queries import not_mid_turn, oldest_due_statement, row_to_delivery
from core.history import event_queries
from core.models import Delivery
from core.store.conn import Conn, listed, sql, values
from core.tasks import RENEW_LEASES_OF

# What a prompt needs to know before its facts are read, as columns of a claim's select over
# deliveries ``d`` and messages ``m``: whether its agent was never onboarded, and whether
# another agent was ever assigned its task (else there is no handoff: no events read).
FACT_COLUMNS = (
    f"{agent_queries.FRESH_AGENT_OF_DELIVERY}AS fresh_agent, "
    f"{event_queries.HANDED_OVER_OF_DELIVERY}AS handed_over"
)
# the oldest due delivery with its prompt's flags (``message_queries.oldest_due``)
OLDEST_DUE_WITH_FACTS = oldest_due_statement(FACT_COLUMNS)
FLAGS = sql(
    f"SELECT {agent_queries.FRESH_AGENT_PARAM}AS fresh_agent, "
    f"{event_queries.HANDED_OVER_PARAM}AS handed_over"
)


class PromptFlags(NamedTuple):
    """``FACT_COLUMNS`` of a prompt: its agent was never onboarded, another agent was ever
    assigned its task."""

    fresh_agent: bool
    handed_over: bool

    @classmethod
    def of(cls, found: Sequence[object]) -> PromptFlags:
        """The flags from ``FACT_COLUMNS``' values (0/1 on SQLite)."""
        fresh_agent, handed_over = found
        return cls(bool(fresh_agent), bool(handed_over))


def prompt_flags(conn: Conn, agent: str, task_id: int) -> PromptFlags:
    """``FACT_COLUMNS`` of a prompt of task ``task_id`` to ``agent``, read on their own."""
    found = conn.execute(FLAGS, {"agent": agent, "task_id": task_id}).fetchone()
    return PromptFlags.of(values(found))


# One statement (as procrastinate's ``procrastinate_fetch_job``): pick the due rows, skipping
# those another node is claiming, and mark them ours; the rows come back with what was there
# before (``was``, ``held_by``) and their message, and the prompt's facts. With ``= ANY``
# and ``FOR UPDATE SKIP LOCKED``.
CLAIM = sql(
    "WITH picked AS (SELECT d.id, d.state AS was, d.node AS held_by, d.node_run AS held_run "
    "FROM deliveries d "
    "WHERE d.agent_id = ANY(:agents) AND ((d.state = 'queued' AND d.not_before <= :now) OR "
    "(d.state = 'delivering' AND d.claim_until < :now)) "
    f"AND {not_mid_turn('d', ':mid_turn_since', ':heard_over')} ORDER BY d.id LIMIT :limit "
    "FOR UPDATE SKIP LOCKED) "
    "UPDATE deliveries d SET state = 'delivering', node = :node, node_run = :run, "
    "claim_until = :until, attempts = d.attempts + 1, updated_at = :now "
    "FROM picked p, messages m "
    "WHERE d.id = p.id AND m.id = d.message_id "
    "RETURNING d.id, d.message_id, d.agent_id, p.was AS state, d.attempts - 1 AS attempts, "
    "d.reason, d.deferred, m.text, m.sender, m.task_id, m.priority, m.target_kind, "
    f"m.target_name, p.held_by, p.held_run, {FACT_COLUMNS}"
)


@dataclass(frozen=True)
class ClaimRow:
    """A delivery a node claimed, as it was before (its ``state``; ``held_by`` and
    ``held_run``: the node whose lease ran out, or None) with its prompt's flags."""

    delivery: Delivery
    held_by: str | None
    held_run: str | None
    flags: PromptFlags


def claim_rows(
    conn: Conn,
    claimer: tuple[str, str],
    agents: list[str],
    now: float,
    until: float,
    limit: int,
    mid_turn_since: float,
    turn_heard_over: Sequence[str] = (),
) -> list[ClaimRow]:
    """Mark up to ``limit`` due deliveries of ``agents`` (queued, or claimed with a lease
    that ended) ``delivering`` by ``claimer`` (name, run) until ``until``, skipping rows
    another node is claiming and agents mid-turn since ``mid_turn_since`` (but for
    ``turn_heard_over``: their host's end of the turn heard, not yet written): their rows as
    they were (``state``, ``held_by``, ``held_run``), their message and ``FACT_COLUMNS``."""
    name, run = claimer
    rows = conn.execute(
        CLAIM,
        {
            "agents": agents,
            "now": now,
            "limit": limit,
            "node": name,
            "run": run,
            "until": until,
            "mid_turn_since": mid_turn_since,
            "heard_over": list(turn_heard_over),
        },
    ).fetchall()
    return [_claim_row(row) for row in rows]


def _claim_row(row: Any) -> ClaimRow:
    """``CLAIM``'s row."""
    flags = PromptFlags(bool(row["fresh_agent"]), bool(row["handed_over"]))
    return ClaimRow(row_to_delivery(row), row["held_by"], row["held_run"], flags)


CLAIM_OF = sql("SELECT node, state, node_run FROM deliveries WHERE id = :id")
CLAIM_LOCKED = sql("SELECT node, state, node_run FROM deliveries WHERE id = :id FOR UPDATE")


class ClaimHolder(NamedTuple):
    """Who holds a delivery's claim: a node and its run (None: none), in its state."""

    node: str | None
    state: str
    node_run: str | None


def claim_of(conn: Conn, delivery_id: int, *, lock: bool = False) -> ClaimHolder | None:
    """The delivery's claim, or None; ``lock``: held (``FOR UPDATE``) until the transaction
    ends."""
    found = conn.execute(CLAIM_LOCKED if lock else CLAIM_OF, {"id": delivery_id}).fetchone()
    return None if found is None else ClaimHolder(*values(found))


# A node's delivered receipts as one statement (PostgreSQL's data-modifying CTEs): of the
# deliveries (``v``), those whose claim is still the claimer's are held (``h``: none for one
# another node took), their tasks' leases renewed (``t``, for a task's prompt: core.tasks'
# fragment over ``renewed``), their events written with the change, in order (each event
# row of ``e`` joined to its delivery's row of ``h``, so none is written for a claim that
# was lost), and they are marked delivered: the statement itself is that UPDATE, so the
# rows it changed count as a commit's changes.
_DELIVERED = sql(
    "WITH v AS (SELECT * FROM jsonb_to_recordset(CAST(:deliveries AS jsonb)) "
    "AS r(id BIGINT, method TEXT, task BIGINT, lease DOUBLE PRECISION)), "
    "h AS (SELECT deliveries.id, deliveries.agent_id FROM deliveries JOIN v "
    "ON v.id = deliveries.id WHERE deliveries.node = :node AND deliveries.node_run = :run "
    "AND deliveries.state = 'delivering' ORDER BY deliveries.id FOR UPDATE OF deliveries), "
    "renewed AS (SELECT v.task, h.agent_id AS agent, v.lease FROM h JOIN v ON v.id = h.id), "
    f"t AS ({RENEW_LEASES_OF}), "
    "e AS (SELECT * FROM jsonb_to_recordset(CAST(:events AS jsonb)) AS r(delivery BIGINT, "
    "n INTEGER, ts DOUBLE PRECISION, kind TEXT, text TEXT, task_id BIGINT, agent_id TEXT, "
    "actor TEXT, data TEXT)), "
    f"i AS ({event_queries.INSERT_HEAD}"
    "SELECT e.ts, e.kind, e.text, e.task_id, e.agent_id, e.actor, e.data FROM e "
    "JOIN h ON h.id = e.delivery ORDER BY e.n) "
    "UPDATE deliveries SET state = 'delivered', method = v.method, reason = NULL, "
    "deferred = 0, updated_at = :now, claim_until = NULL FROM h JOIN v ON v.id = h.id "
    "WHERE deliveries.id = h.id RETURNING deliveries.id"
)
_DELIVERY_FIELDS = ("id", "method", "task", "lease")
_EVENT_FIELDS = ("ts", "kind", "text", "task_id", "agent_id", "actor", "data")

# one delivered receipt: (delivery id, method, task id, the task's new lease or None) and
# the rows of its events (``Conn.add_event``'s values)
Delivered = tuple[tuple[int, str | None, int | None, float | None], Sequence[Sequence[Any]]]


def mark_delivered(
    conn: Conn, now: float, claimer: tuple[str, str], group: Sequence[Delivered]
) -> set[int]:
    """Mark ``group``'s deliveries delivered, their events written and their tasks' leases
    renewed, in one statement, for those whose claim is still ``claimer``'s (name, run):
    their ids (nothing is written for the others). The deliveries and the events are each
    one JSON list of rows, the events numbered in their order."""
    name, run = claimer
    deliveries = [dict(zip(_DELIVERY_FIELDS, receipt, strict=True)) for receipt, _ in group]
    events = [
        {"delivery": receipt[0], **dict(zip(_EVENT_FIELDS, event, strict=True))}
        for receipt, event_rows in group
        for event in event_rows
    ]
    for n, event in enumerate(events):
        event["n"] = n
    params = {"deliveries": listed(deliveries), "events": listed(events)}
    conn.flush_events()  # the events held so far keep their place before these
    found = conn.execute(_DELIVERED, {**params, "now": now, "node": name, "run": run})
    return {r["id"] for r in found.fetchall()}


NEXT_DUE = sql(
    "SELECT min(due) FILTER (WHERE due > :claimed_at) AS due, "
    "coalesce(bool_or(due <= :claimed_at), false) AS held FROM (SELECT CASE "
    "WHEN state = 'queued' THEN not_before ELSE claim_until END AS due FROM deliveries "
    "WHERE agent_id = ANY(:agents) AND (state = 'queued' OR "
    "(state = 'delivering' AND claim_until IS NOT NULL))) AS pending"
)


def next_due(conn: Conn, agents: list[str], claimed_at: float) -> tuple[float | None, bool]:
    """When the next delivery of ``agents`` becomes claimable after the claim made at
    ``claimed_at`` (due, or its lease ends, later than that), and whether one was due then
    that the claim left (held: its agent mid-turn, ``message_queries.not_mid_turn``)."""
    row = conn.execute(NEXT_DUE, {"agents": agents, "claimed_at": claimed_at}).fetchone()
    return row["due"], bool(row["held"])
