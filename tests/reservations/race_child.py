"""One side of the reservation race (``test_race.py``): a process of its own with its own
service and database connection; each round, after the barrier, reserve the round's glob."""

from __future__ import annotations

import asyncio
from typing import Any

from core.errors import ReservationConflict
from core.service.swarm import SwarmService
from core.settings import Settings


def run(env: dict[str, str], agent: str, glob: str, rounds: int, barrier: Any, out: Any) -> None:
    """Reserve ``glob`` (``{round}`` filled in) each round; put the list of wins on ``out``."""
    out.put((agent, asyncio.run(_rounds(env, agent, glob, rounds, barrier))))


async def _rounds(
    env: dict[str, str], agent: str, glob: str, rounds: int, barrier: Any
) -> list[bool]:
    service = await SwarmService.open(Settings.from_env(env))
    won = []
    try:
        for number in range(rounds):
            await asyncio.to_thread(barrier.wait, 60)
            try:
                # a TTL: a reservation with no task and none waits for a person (approval.py)
                await service.reservations.reserve(agent, [glob.format(round=number)], ttl_s=600)
            except ReservationConflict:
                won.append(False)
            else:
                won.append(True)
    finally:
        await service.close()
    return won
