"""``swarm doctor`` as a user of the protocol route meets it (issue 64, item 5): each
protocol agent's host checked (running, answering, session open; a dead one names the task
stranded on it), and the Discord connection ``swarm run --local-discord`` has counts: a
healthy headless fleet beside it exits 0."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import warnings
from pathlib import Path

import pytest

from automation.protocol import launch
from tests.agents.test_host_hostile import AGENT_SCRIPT
from tests.discord.local_run import local_run
from tests.helpers import run_cli, write_agents

pytestmark = [pytest.mark.timeout(120)]


def start_host(home: Path, agent: str, cwd: Path) -> int:
    with warnings.catch_warnings():  # the host outlives its Popen, as after desktop up
        warnings.simplefilter("ignore", ResourceWarning)
        hello = asyncio.run(launch.start(home, agent, [sys.executable, str(AGENT_SCRIPT)],
                                         cwd, dict(os.environ), wait_s=30))  # fmt: skip
        gc.collect()
    assert hello.pid is not None
    return hello.pid


async def test_doctor_checks_the_hosts_and_counts_the_local_discord(tmp_path: Path) -> None:
    async with local_run(tmp_path) as run:
        home = tmp_path / "home"
        agents = write_agents(tmp_path / "agents.toml", [
            {"id": "Agent-1", "role": "backend", "delivery": "inbox"},
            {"id": "P", "role": "dev", "delivery": "protocol", "cli": "gemini"},
        ])  # fmt: skip
        pid = await asyncio.to_thread(start_host, home, "P", tmp_path)
        try:
            healthy = await asyncio.to_thread(run_cli, home, "doctor", config=agents)
            assert healthy.code == 0, healthy.out + healthy.err
            assert "the local Discord of swarm run --local-discord" in healthy.out
            assert f"P: host pid {pid}, agent pid" in healthy.out and "session open" in healthy.out
        finally:
            await launch.stop(home, "P")
        dead = await asyncio.to_thread(run_cli, home, "doctor", config=agents)
        assert dead.code == 1, dead.out
        assert "PROBLEM  hosts        P: no protocol host runs" in dead.out, dead.out
        assert await run.stop() == 0
    after = await asyncio.to_thread(run_cli, home, "doctor", config=agents)
    assert "PROBLEM  discord" in after.out  # no local Discord runs now: not set, said
