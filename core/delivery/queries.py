"""Reads of deliveries other features ask for, one named operation each: the delivery
nodes' (``core.delivery.roster``: a node's heartbeat, the nodes listed with their deliveries
in flight), a message's progress (the posts'), how long the latest deliveries took (the
dashboard's)."""

from __future__ import annotations

import json
from typing import Any

from core.store.conn import Conn, sql

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


def message_counts(conn: Conn, message_id: int) -> Any:
    """Of one message's deliveries: how many were ``delivered``, ``failed``, in all
    (``total``)."""
    return conn.execute(MESSAGE_COUNTS, {"message_id": message_id}).fetchone()


def delivered_spans(conn: Conn, since: float, limit: int) -> Any:
    """The newest ``limit`` deliveries delivered since ``since`` (``agent_id``, ``took``:
    queued to delivered)."""
    return conn.execute(DELIVERED_SPANS, {"since": since, "limit": limit})
