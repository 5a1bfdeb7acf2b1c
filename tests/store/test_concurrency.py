"""Eight separate ``swarm`` processes writing at once lose nothing and never see a lock."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import ROOT, RecordingDeliverer, run_cli, write_agents

WORKERS = 8
PER_WORKER = 3  # 8 x 3 x 2 CLI processes at once: the contention is in the eight, not the length


pytestmark = pytest.mark.both_databases


async def _assigned_tasks(home: Path, config: Path, url: str | None) -> dict[int, list[str]]:
    """Set-up in-process (the CLI is not what is tested here): each worker's assigned tasks."""
    service = await SwarmService.open(Settings(home=home, config_path=config, database_url=url))
    try:
        await service.tasks.create_many(
            [
                TaskSpec(f"pre {w}.{n}", agent=f"W-{w}")
                for w in range(1, WORKERS + 1)
                for n in range(PER_WORKER)
            ],
            "test",
        )
        await Scheduler(service, RecordingDeliverer()).run_burst()
        return {
            w: [t.ref for t in await service.tasks.newest("assigned", f"W-{w}")]
            for w in range(1, WORKERS + 1)
        }
    finally:
        await service.close()


@pytest.mark.timeout(180)
def test_eight_processes_add_and_complete_at_once(tmp_path: Path, database_url: str | None) -> None:
    home = tmp_path / "home"
    config = write_agents(
        tmp_path / "agents.toml",
        [
            {"id": f"W-{i}", "role": "worker", "capacity": 50, "delivery": "inbox"}
            for i in range(1, WORKERS + 1)
        ],
    )
    mine = asyncio.run(_assigned_tasks(home, config, database_url))
    assert all(len(ids) == PER_WORKER for ids in mine.values())

    url = {"SWARM_DATABASE_URL": database_url} if database_url else {}
    env = {**os.environ, "SWARM_HOME": str(home), "SWARM_CONFIG": str(config), **url}
    swarm = f"{shlex.quote(sys.executable)} -m bot.cli.main"
    procs = []
    for worker, ids in mine.items():
        steps = []
        for n, task_id in enumerate(ids):
            steps.append(f"{swarm} task add 'new {worker}.{n}' --priority high")
            steps.append(f"SWARM_AGENT=W-{worker} {swarm} task done {task_id} --note ok")
        script = "set -e\n" + "\n".join(steps)
        procs.append(
            subprocess.Popen(
                ["bash", "-c", script],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = [p.communicate(timeout=150) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err
    tasks = json.loads(
        run_cli(
            home, "task", "list", "--all", "--limit", "1000", "--json", config=config, env=url
        ).out
    )
    titles = sorted(t["title"] for t in tasks if t["title"].startswith("new "))
    expected = sorted(f"new {w}.{n}" for w in range(1, WORKERS + 1) for n in range(PER_WORKER))
    assert titles == expected
    assert sorted(t["id"] for t in tasks) == sorted({t["id"] for t in tasks})
    pre = [t for t in tasks if t["title"].startswith("pre ")]
    assert len(pre) == WORKERS * PER_WORKER and all(t["status"] == "done" for t in pre)
    events = json.loads(
        run_cli(home, "events", "--limit", "100000", "--json", config=config, env=url).out
    )
    assert sum(e["kind"] == "task.done" for e in events) == WORKERS * PER_WORKER
