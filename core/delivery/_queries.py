"""Reads of deliveries other features ask for, one named operation each: the delivery
nodes' (a node's heartbeat, the nodes listed with their deliveries
in flight), a message's progress (the posts'), how long the latest deliveries took (the
dashboard's)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NamedTuple

from core.store.conn import Conn, sql, values

HEARTBEAT = sql(
    "INSERT INTO nodes (name, agents, host, pid, started_at, heartbeat_at) "
    "VALUES (:node, :agents, :host, :pid, :started_at, :now) ON CONFLICT(name) DO UPDATE SET "
    "agents = excluded.agents, host = excluded.host, pid = excluded.pid, "
    "started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at"
)
MESSAGE_COUNTS = sql(
    "SELECT COUNT(*) FILTER (WHERE state = 'delivered') AS delivered, "
    "COUNT(*) FILTER (WHERE state = 'failed') AS failed, "
    "COUNT(*) AS total FROM deliveries WHERE message_id = :message_id"
)
DELIVERED_SPANS = sql(
    "SELECT agent_id, updated_at - created_at AS took FROM deliveries "
    "WHERE state = 'delivered' AND updated_at >= :since ORDER BY id DESC LIMIT :limit"
)


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
        HEARTBEAT,
        {
            "node": node,
            "agents": json.dumps(agents),
            "host": host,
            "pid": pid,
            "started_at": started_at,
            "now": now,
        },
    )


NODES = sql(
    "SELECT n.name, n.agents, n.host, n.pid, n.heartbeat_at, (SELECT count(*) FROM "
    "deliveries d WHERE d.node = n.name AND d.state = 'delivering') AS in_flight "
    "FROM nodes n ORDER BY n.name"
)


@dataclass(frozen=True)
class NodeRow:
    """A delivery node that said it was alive: the agents it serves, where it runs, its
    last heartbeat and its deliveries in flight."""

    name: str
    agents: list[str]
    host: str
    pid: int
    heartbeat_at: float
    in_flight: int


def node_rows(conn: Conn) -> list[NodeRow]:
    """Every node that ever said it was alive."""
    return [_node(*values(row)) for row in conn.execute(NODES)]


def _node(
    name: str, agents: str, host: str, pid: int, heartbeat_at: float, in_flight: int
) -> NodeRow:
    """``NODES``' row (``agents``: a JSON list)."""
    return NodeRow(name, json.loads(agents), host, pid, heartbeat_at, in_flight)


class MessageCounts(NamedTuple):
    """Of one message's deliveries: how many were delivered, failed, in all."""

    delivered: int
    failed: int
    total: int


def message_counts(conn: Conn, message_id: int) -> MessageCounts:
    """How many of one message's deliveries were delivered, failed, in all."""
    row = conn.execute(MESSAGE_COUNTS, {"message_id": message_id}).fetchone()
    return MessageCounts(*values(row))


class DeliverySpan(NamedTuple):
    """How long a delivery took its agent, from queued to delivered."""

    agent_id: str
    took: float


def delivered_spans(conn: Conn, since: float, limit: int) -> list[DeliverySpan]:
    """The newest ``limit`` deliveries delivered since ``since``."""
    rows = conn.execute(DELIVERED_SPANS, {"since": since, "limit": limit})
    return [DeliverySpan(*values(row)) for row in rows]
