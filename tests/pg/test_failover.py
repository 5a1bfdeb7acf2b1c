"""Exactly one scheduler over PostgreSQL: a standby takes over after kill -9 of the holder."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from core.models import DeliveryState, TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import run_cli, write_agents
from tests.pg.procs import Proc, start

AGENTS: list[dict[str, object]] = [
    {"id": f"Agent-{i}", "role": "worker", "delivery": "inbox"} for i in range(1, 9)
]


def _env(tmp_path: Path, name: str, url: str, config: Path) -> dict[str, str]:
    return {
        "SWARM_HOME": str(tmp_path / name),
        "SWARM_CONFIG": str(config),
        "SWARM_DATABASE_URL": url,
        "SWARM_FAILOVER": "2",
    }


async def _delivered(settings: Settings, count: int, timeout_s: float = 30.0) -> None:
    service = await SwarmService.open(settings)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            done = [
                d for d in await service.messages.deliveries() if d.state is DeliveryState.delivered
            ]
            if len(done) >= count:
                return
            assert time.monotonic() < deadline, f"{len(done)} of {count} delivered"
            await asyncio.sleep(0.1)
    finally:
        await service.close()


async def _add(settings: Settings, titles: list[str]) -> None:
    service = await SwarmService.open(settings)
    try:
        await service.tasks.create_many([TaskSpec(t) for t in titles], "test")
    finally:
        await service.close()


def _inbox_files(*homes: Path) -> list[str]:
    return sorted(p.read_text() for h in homes for p in (h / "inbox").rglob("*.txt"))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_standby_takes_over_after_kill_9_of_the_scheduler(
    tmp_path: Path, database_url: str
) -> None:
    config = write_agents(tmp_path / "agents.toml", AGENTS)
    env_a, env_b = (_env(tmp_path, n, database_url, config) for n in ("a", "b"))
    settings = Settings.from_env(_env(tmp_path, "cli", database_url, config))
    first = start("first", tmp_path, env_a, "run", "--no-discord")
    procs: list[Proc] = [first]
    try:
        first.wait_for("coordinator started")
        second = start("second", tmp_path, env_b, "run", "--no-discord")
        procs.append(second)
        second.wait_for("standby: scheduler")
        burst = start("burst", tmp_path, env_b, "run", "--no-discord", "--burst")
        assert burst.popen.wait(30) == 2
        assert "already running: scheduler" in burst.text()
        await _add(settings, [f"before {i}" for i in range(4)])
        await _delivered(settings, 4)
        assert "took over" not in second.text()
        status = run_cli(
            tmp_path / "cli", "status", config=config, env={"SWARM_DATABASE_URL": database_url}
        )
        assert f"coordinator: running, pid {first.popen.pid} since" in status.out, status

        first.kill9()
        await _add(settings, [f"after {i}" for i in range(4)])
        second.wait_for("took over as the scheduler", timeout_s=20)
        await _delivered(settings, 8)
    finally:
        for proc in procs:
            proc.stop()
    texts = _inbox_files(tmp_path / "a", tmp_path / "b")
    for i in range(4):
        assert sum(f"before {i}" in t for t in texts) == 1
        assert sum(f"after {i}" in t for t in texts) == 1
    assert not any(f"after {i}" in t for i in range(4) for t in _inbox_files(tmp_path / "a"))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_lone_holder_stalled_past_its_fence_stops_then_takes_the_lock_again(
    tmp_path: Path, database_url: str
) -> None:
    """SIGSTOP for 3 s (a loop that cannot prove its lock in time, the server still holding
    it): the holder fences its store and goes back to standby, then, nobody else holding the
    lock, becomes the scheduler again by itself and delivers."""
    import signal

    config = write_agents(tmp_path / "agents.toml", AGENTS)
    settings = Settings.from_env(_env(tmp_path, "cli", database_url, config))
    holder = start(
        "holder", tmp_path, _env(tmp_path, "a", database_url, config), "run", "--no-discord"
    )
    try:
        holder.wait_for("coordinator started")
        holder.popen.send_signal(signal.SIGSTOP)
        await asyncio.sleep(3)
        holder.popen.send_signal(signal.SIGCONT)
        holder.wait_for("back to standby", timeout_s=15)
        deadline = time.monotonic() + 15
        while holder.text().count("coordinator started") < 2:  # the lock at its first try
            assert time.monotonic() < deadline, holder.text()
            await asyncio.sleep(0.1)
        await _add(settings, ["after the stall"])
        await _delivered(settings, 1)
        assert holder.popen.poll() is None, holder.text()
    finally:
        holder.stop()
    assert holder.text().count("coordinator started") == 2, holder.text()
