"""Eight separate ``swarm`` processes writing at once lose nothing and never see a lock (each
worker's commands one after another, each a process of its own)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.cli_zygote import Zygote
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


def _worker(
    worker: int, ids: list[str], env: dict[str, str], first: Zygote | None
) -> list[tuple[int, str]]:
    """One worker's ``swarm`` commands in turn, each a process of its own forked from the
    worker's CLI zygote, a sibling of ``first`` (``tests/cli_zygote.py``: swarm imported once,
    not once a worker nor once a command), up to the first that fails: (exit status, stderr)
    of each."""
    steps: list[tuple[list[str], dict[str, str]]] = []
    for n, task_id in enumerate(ids):
        steps.append((["task", "add", f"new {worker}.{n}", "--priority", "high"], env))
        steps.append(
            (["task", "done", task_id, "--note", "ok"], env | {"SWARM_AGENT": f"W-{worker}"})
        )
    zygote = first.sibling() if first is not None else None
    done: list[tuple[int, str]] = []
    try:
        for argv, step_env in steps:
            done.append(_swarm(zygote, argv, step_env))
            if done[-1][0] != 0:
                break
    finally:
        if zygote is not None:
            zygote.close()
    return done


def _swarm(zygote: Zygote | None, argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """``swarm ARGV``'s exit status and stderr: forked from ``zygote`` when it can, else a
    fresh ``python -m bot.cli.main``."""
    ran = zygote.run(argv, env, ROOT, 120) if zygote and zygote.fits(env) else None
    if ran is not None:
        return ran[0], ran[2]
    fresh = subprocess.run([sys.executable, "-m", "bot.cli.main", *argv], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    return fresh.returncode, fresh.stderr


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
    first = Zygote(ROOT) if os.environ.get("SWARM_TEST_CLI_FORK", "1") != "0" else None
    try:
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            runs = [pool.submit(_worker, w, ids, env, first) for w, ids in mine.items()]
            for run in runs:
                for code, err in run.result(timeout=150):
                    assert code == 0, err
                    assert "locked" not in err
    finally:
        if first is not None:
            first.close()
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
