"""Three ``swarm node`` and two ``swarm run`` processes on one database, killed at random."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from core.models import DeliveryState, TaskSpec, TaskStatus
from core.service import SwarmService
from core.settings import Settings
from tests.helpers import run_cli, write_agents
from tests.pg.procs import Proc, start

NODES = ("desk-1", "desk-2", "desk-3")
PER_NODE = 8
TASKS = 120


def _agents() -> list[dict[str, object]]:
    return [{"id": f"{node}-a{i}", "role": "worker", "delivery": "inbox", "node": node}
            for node in NODES for i in range(1, PER_NODE + 1)]


class Fleet:
    """The processes, each on its own home (so its inbox files are its own)."""

    def __init__(self, tmp_path: Path, url: str, config: Path) -> None:
        self.tmp_path, self.url, self.config = tmp_path, url, config
        self.procs: dict[str, Proc] = {}
        self.starts = 0
        self.kills: list[str] = []

    def home(self, name: str) -> Path:
        return self.tmp_path / name

    def launch(self, name: str) -> None:
        self.starts += 1
        env = {"SWARM_HOME": str(self.home(name)), "SWARM_CONFIG": str(self.config),
               "SWARM_DATABASE_URL": self.url, "SWARM_FAILOVER": "1"}
        args = (("run", "--no-discord") if name.startswith("coord")
                else ("node", "--name", name, "--lease", "2"))
        self.procs[name] = start(f"{name}.{self.starts}", self.tmp_path, env, *args)

    def kill_and_restart(self, name: str) -> None:
        self.procs[name].kill9()
        self.kills.append(name)
        self.launch(name)

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.stop()


async def _play_agents(service: SwarmService, done: set[int]) -> None:
    """Agents report done once their prompt was delivered to them."""
    delivered = {(d.task_id, d.agent) for d in await service.deliveries(limit=10_000)
                 if d.state is DeliveryState.delivered and d.task_id is not None}
    for task in await service.list_tasks(status="assigned", limit=1000):
        if (task.id, task.agent) in delivered and task.id not in done:
            await service.complete_task(task.id, task.agent or "", "ok")
            done.add(task.id)


def _inbox_texts(folder: Path) -> list[str]:
    return [p.read_text() for p in folder.rglob("inbox/*/*.txt")]


@pytest.mark.timeout(240)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_three_nodes_two_coordinators_kill_9_at_random_nothing_lost(
        tmp_path: Path, database_url: str) -> None:
    config = write_agents(tmp_path / "agents.toml", _agents())
    settings = Settings.from_env({"SWARM_HOME": str(tmp_path / "cli"),
                                  "SWARM_CONFIG": str(config), "SWARM_DATABASE_URL": database_url})
    fleet = Fleet(tmp_path, database_url, config)
    rng = random.Random()
    service = await SwarmService.open(settings)
    try:
        for name in ("coord-1", *NODES):
            fleet.launch(name)
        fleet.procs["coord-1"].wait_for("coordinator started")
        fleet.launch("coord-2")
        await service.create_tasks([TaskSpec(f"job {k:03d}") for k in range(TASKS)], "test")
        done: set[int] = set()
        deadline = time.monotonic() + 150
        next_kill = time.monotonic() + rng.uniform(0.3, 1.0)
        while len(done) < TASKS or len(fleet.kills) < 2:  # at least two kills, even if fast
            assert time.monotonic() < deadline, f"{len(done)} of {TASKS} done"
            await _play_agents(service, done)
            if time.monotonic() >= next_kill and len(fleet.kills) < 8:
                fleet.kill_and_restart(rng.choice(["coord-1", "coord-2", *NODES]))
                next_kill = time.monotonic() + rng.uniform(0.3, 1.0)
            await asyncio.sleep(0.1)
        tasks = await service.list_tasks(status="done", limit=1000)
        deliveries = await service.deliveries(limit=10_000)
    finally:
        await service.close()
        fleet.stop()
    assert len(tasks) == TASKS and all(t.status is TaskStatus.done for t in tasks)
    assert all(d.state is DeliveryState.delivered for d in deliveries), fleet.kills
    files = _inbox_texts(tmp_path)
    for k in range(TASKS):
        copies = [text for text in files if f"job {k:03d}" in text]
        assert copies, f"job {k:03d} never reached its agent (kills: {fleet.kills})"
        # one first copy at most; any other is a marked retry (a node died mid-delivery)
        assert sum("RETRY" not in text for text in copies) <= 1, (k, copies, fleet.kills)
    assert len(fleet.kills) >= 2
    status = run_cli(tmp_path / "cli", "status", config=config,
                     env={"SWARM_DATABASE_URL": database_url})
    assert status.code == 0, status.err
    for node in NODES:
        assert f"  {node}" in status.out and f"({node}-a1, " in status.out
