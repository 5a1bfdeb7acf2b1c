"""The agents' rows as the front ends list them, and whether anyone watches them now: the
coordinator's watchers keep each agent's state current; while no coordinator runs, each
state is the one last seen, so its row says so (``"stale": True``) and the front end says
how old it is (``working (as of 12m ago)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.coordinator import db_lock

if TYPE_CHECKING:
    from core.service.swarm import SwarmService


async def agent_rows(service: SwarmService) -> list[dict[str, Any]]:
    """``service.roster.rows()``, each marked ``"stale": True`` while no coordinator runs
    (on PostgreSQL: nobody holds the scheduler lock, on any machine)."""
    rows = await service.roster.rows()
    if await db_lock.running(service) is None:
        return [{**row, "stale": True} for row in rows]
    return rows
