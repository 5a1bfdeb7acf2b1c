"""The roster's statements (``core.delivery.roster``): one named read each; the delivery
nodes' rows (``nodes``: a node's heartbeat, the nodes listed)."""

from __future__ import annotations

import json
from typing import Any

from core.store.conn import Conn, Row


def agent_state_rows(conn: Conn) -> dict[str, Row]:
    """Each agent's ``agent_state`` row (pause, score, counts, last report) by its id."""
    return {r["id"]: r for r in conn.execute("SELECT * FROM agent_state")}


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
