"""The tasks of an agent whose session ``swarm desktop down`` ended, or ``desktop up``
started afresh, back in the queue at once: the fresh session never sees the prompt it was
sent, so waiting for the task's lease (300 s) would only delay it. Said in one line each."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from core.errors import SwarmError
from core.models import task_ref
from core.settings import Settings

FRESH = ("started", "resumed")  # up's actions that start the agent's CLI anew


def hand_back(
    settings: Settings,
    actor: str,
    agents: Sequence[str],
    why: str,
    before: float | None = None,
) -> dict[str, str]:
    """Hand back what ``agents`` hold (run in a thread without a loop, or as a script):
    agent -> one line, for each that held something; each agent -> a line saying why when
    the store cannot be reached (the sessions stay as they are)."""
    if not agents or not (settings.database_url or settings.db_path.exists()):
        return {}  # no database yet: nobody holds anything
    try:
        return asyncio.run(_hand_back(settings, actor, agents, why, before))
    except SwarmError as exc:
        return {a: f"warning: its tasks were not handed back: {exc}" for a in agents}


async def _hand_back(
    settings: Settings, actor: str, agents: Sequence[str], why: str, before: float | None
) -> dict[str, str]:
    from core.service.swarm import SwarmService

    service = await SwarmService.open(settings)
    try:
        lines = {}
        for agent in agents:
            if agent not in service.agents:
                continue
            held = await service.queue.hand_back(agent, why, actor, before)
            if held:
                refs = ", ".join(task_ref(t) for t in held)
                lines[agent] = (
                    f"held {refs}: back in the queue now ({why}; a task pinned to {agent} "
                    "goes to its new session)"
                )
        return lines
    finally:
        await service.close()
