"""A protocol agent is the process tree under its host (issue 54, item 1, with the protocol
route of issue 50): its shell tool's ``swarm`` command, its MCP server and its hooks run
under the host process whose pid ``swarm desktop up --protocol`` wrote, and are that agent's
whatever name they give."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.agents._identity import Refused, Resolver, whose
from core.hosts import client, running, wire
from core.models import Agent

AGENTS = {
    "A": Agent(id="A", role="dev", delivery="protocol", cli="gemini"),
    "B": Agent(id="B", role="dev", delivery="protocol", cli="claude-code"),
}


@pytest.fixture
def host(tmp_path: Path) -> Iterator[tuple[Path, int, int]]:
    """A's host running (a real one, started and its pid file written as launch does; its
    agent a ``sleep``, which never opens a session: the host runs it meanwhile) and its
    agent's pid."""
    home = tmp_path / "home"
    wire.folder(home).mkdir(parents=True)
    argv = [sys.executable, "-m", running.HOST_MODULE, "--home", str(home), "--agent", "A",
            "--cwd", str(tmp_path), "--", "sleep", "60"]  # fmt: skip
    with running.log_path(home, "A").open("ab") as log:
        process = subprocess.Popen(
            argv, cwd=tmp_path, stdout=log, stderr=log, start_new_session=True
        )
    running.pid_path(home, "A").write_text(str(process.pid), encoding="utf-8")
    try:
        yield home, process.pid, asyncio.run(_agent_pid(home))
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


async def _agent_pid(home: Path) -> int:
    """The pid of the agent A's host started, as its hello says."""
    for _ in range(300):
        with contextlib.suppress(client.HostUnreachable):
            pid = (await client.hello(home, "A")).agent_pid
            if pid:
                return int(pid)
        await asyncio.sleep(0.1)
    raise AssertionError("the host never started its agent")


def test_a_process_under_a_protocol_host_is_its_agent(host: tuple[Path, int, int]) -> None:
    home, pid, child = host
    placed = Resolver({}, home).place(child, AGENTS)
    assert placed.agent == "A"
    assert placed.how == f"protocol host pid {pid}, pid {child}"
    assert whose(placed, "B") == Refused("B", f"it runs in A's terminal ({placed.how})")


def test_outside_every_host_a_protocol_agents_name_is_refused(
    host: tuple[Path, int, int],
) -> None:
    home, _, _ = host
    placed = Resolver({}, home).place(os.getpid(), AGENTS)
    assert placed.agent is None
    assert placed.placeable == frozenset({"A"})  # B's host does not run: B cannot be placed
    assert isinstance(whose(placed, "A"), Refused)
    assert whose(placed, "B") == "B"


def test_without_the_home_no_host_is_a_root(host: tuple[Path, int, int]) -> None:
    _, _, child = host
    assert Resolver({}).place(child, AGENTS).agent is None
