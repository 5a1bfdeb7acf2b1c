"""The roster's statements (``core.delivery.roster``): one named read each."""

from __future__ import annotations

from core.store.conn import Conn, Row


def agent_state_rows(conn: Conn) -> dict[str, Row]:
    """Each agent's ``agent_state`` row (pause, score, counts, last report) by its id."""
    return {r["id"]: r for r in conn.execute("SELECT * FROM agent_state")}


def held_tasks(conn: Conn) -> dict[str, list[str]]:
    """The tasks each agent holds now (assigned or in progress), as ``T-n``, oldest first."""
    holding: dict[str, list[str]] = {}
    for row in conn.execute(
        "SELECT id, assignee FROM tasks WHERE status IN ('assigned', 'in_progress') ORDER BY id"
    ):
        holding.setdefault(row["assignee"], []).append(f"T-{row['id']}")
    return holding
