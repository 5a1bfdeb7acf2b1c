"""``swarm doctor`` lists every problem at once and exits 1; a healthy set-up exits 0."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from core.coordinator_lock import CoordinatorLock
from tests.helpers import run_cli
from tests.localopenai import LocalOpenAI
from tests.watch.conftest import desktop_agents, watch_xserver  # noqa: F401 - fixtures


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "home", "doctor", env={"SWARM_GUILD_ID": "42"})
    assert result.code == 1, result.out + result.err
    assert "PROBLEM  display      DISPLAY is not set" in result.out
    assert "PROBLEM  coordinator  not running" in result.out
    assert ("not set: DISCORD_TOKEN, SWARM_CHANNEL_ID, SWARM_ADMIN_IDS or "
            "SWARM_ADMIN_ROLE_IDS") in result.out
    assert f"ok       database     {tmp_path / 'home' / 'swarm.db'} (created on first use)" \
        in result.out
    assert "skipped  AI endpoint" in result.out
    assert result.out.endswith("\n3 problem(s)\n")
    assert not (tmp_path / "home").exists()  # the doctor writes nothing


async def test_a_healthy_setup_passes_and_a_dead_endpoint_does_not(
    tmp_path: Path, watch_xserver: Any, desktop_agents: Path  # noqa: F811
) -> None:
    home = tmp_path / "home"
    env = {"DISPLAY": watch_xserver.display, "XAUTHORITY": str(watch_xserver.xauthority),
           "DISCORD_TOKEN": "t", "SWARM_GUILD_ID": "1", "SWARM_CHANNEL_ID": "2",
           "SWARM_ADMIN_IDS": "3"}
    assert run_cli(home, "task", "add", "make the database", config=desktop_agents).code == 0
    async with LocalOpenAI() as ai:
        env["OPENAI_BASE_URL"] = ai.url
        with CoordinatorLock(home):
            result = await asyncio.to_thread(run_cli, home, "doctor", config=desktop_agents,
                                             env=env)
    assert result.code == 0, result.out + result.err
    assert "ok       points on screen  8 agents inside the screen" in result.out
    assert "ok       AI endpoint" in result.out and "(1 model(s))" in result.out
    assert result.out.endswith("\nno problems found\n")
    dead = run_cli(home, "doctor", "--timeout", "2", config=desktop_agents, env=env)
    assert dead.code == 1 and "PROBLEM  AI endpoint" in dead.out
    assert "PROBLEM  coordinator" in dead.out
