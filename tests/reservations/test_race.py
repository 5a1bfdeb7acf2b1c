"""Two agents in two processes race for overlapping globs, round after round: exactly one
wins each round (the check and the insert are one write transaction), on SQLite and on
PostgreSQL."""

from __future__ import annotations

import multiprocessing

import pytest

from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import query
from tests.reservations import race_child

pytestmark = pytest.mark.both_databases
ROUNDS = 40


async def test_two_processes_racing_for_overlapping_globs_exactly_one_wins(
    service: SwarmService, settings: Settings
) -> None:
    env = {"SWARM_HOME": str(settings.home), "SWARM_DATABASE_URL": settings.database_url or ""}
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    out = spawn.Queue()
    sides = [
        spawn.Process(
            target=race_child.run, args=(env, agent, glob, ROUNDS, barrier, out), daemon=True
        )
        for agent, glob in (("Agent-1", "r{round}/**"), ("Agent-2", "r{round}/*.py"))
    ]
    for side in sides:
        side.start()
    results = dict(out.get(timeout=120) for _ in sides)
    for side in sides:
        side.join(timeout=30)
        assert side.exitcode == 0
    wins = list(zip(results["Agent-1"], results["Agent-2"], strict=True))
    assert len(wins) == ROUNDS
    assert all(a != b for a, b in wins), wins  # exactly one of the two, every round
    rows = query(settings, "SELECT pattern FROM reservations")
    assert sorted(p.split("/")[0] for (p,) in rows) == sorted(f"r{n}" for n in range(ROUNDS))
