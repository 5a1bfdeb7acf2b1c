"""Three ``swarm node`` and two ``swarm run`` processes on one database, killed at random."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from core.models import DeliveryState, TaskSpec, TaskStatus
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import run_cli, write_agents
from tests.pg.fleet import Fleet, inbox_texts, play_agents

NODES = ("desk-1", "desk-2", "desk-3")
PER_NODE = 8
TASKS = 120


def _agents() -> list[dict[str, object]]:
    return [
        {"id": f"{node}-a{i}", "role": "worker", "delivery": "inbox", "node": node}
        for node in NODES
        for i in range(1, PER_NODE + 1)
    ]


@pytest.mark.timeout(240)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_three_nodes_two_coordinators_kill_9_at_random_nothing_lost(
    tmp_path: Path, database_url: str
) -> None:
    config = write_agents(tmp_path / "agents.toml", _agents())
    settings = Settings.from_env(
        {
            "SWARM_HOME": str(tmp_path / "cli"),
            "SWARM_CONFIG": str(config),
            "SWARM_DATABASE_URL": database_url,
        }
    )
    fleet = Fleet(tmp_path, database_url, config)
    rng = random.Random()
    service = await SwarmService.open(settings)
    try:
        for name in ("coord-1", *NODES):
            fleet.launch(name)
        fleet.procs["coord-1"].wait_for("coordinator started")
        fleet.launch("coord-2")
        await service.tasks.create_many([TaskSpec(f"job {k:03d}") for k in range(TASKS)], "test")
        done: set[int] = set()
        deadline = time.monotonic() + 150
        next_kill = time.monotonic() + rng.uniform(0.3, 1.0)
        while len(done) < TASKS or len(fleet.kills) < 2:  # at least two kills, even if fast
            assert time.monotonic() < deadline, f"{len(done)} of {TASKS} done"
            await play_agents(service, done)
            if time.monotonic() >= next_kill and len(fleet.kills) < 8:
                fleet.kill_and_restart(rng.choice(["coord-1", "coord-2", *NODES]))
                next_kill = time.monotonic() + rng.uniform(0.3, 1.0)
            await asyncio.sleep(0.1)
        tasks = await service.tasks.newest(status="done", limit=1000)
        deliveries = await service.messages.deliveries(limit=10_000)
    finally:
        await service.close()
        fleet.stop()
    assert len(tasks) == TASKS and all(t.status is TaskStatus.done for t in tasks)
    assert all(d.state is DeliveryState.delivered for d in deliveries), fleet.kills
    files = inbox_texts(tmp_path)
    for k in range(TASKS):
        copies = [text for text in files if f"job {k:03d}" in text]
        assert copies, f"job {k:03d} never reached its agent (kills: {fleet.kills})"
        # one first copy at most; any other is a marked retry (a node died mid-delivery)
        assert sum("RETRY" not in text for text in copies) <= 1, (k, copies, fleet.kills)
    assert len(fleet.kills) >= 2
    status = run_cli(
        tmp_path / "cli", "status", config=config, env={"SWARM_DATABASE_URL": database_url}
    )
    assert status.code == 0, status.err
    for node in NODES:
        assert f"  {node}" in status.out and f"({node}-a1, " in status.out
