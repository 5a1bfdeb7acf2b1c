"""A running ``swarm run`` reloads the agents file when it changes: a bad edit keeps the
agents of before and says why once; a good one takes effect without a restart; what cannot
change live says "restart swarm run"; ``agents calibrate`` is picked up (issue 28, item 4).

The live coordinator that reloads then delivers, and the reloads in process, run on SQLite and
PostgreSQL; calibrate, which only rewrites the agents file, on SQLite."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from tests.helpers import ROOT, cli_env, run_cli, stored_count
from tests.run_child import Lines, end

ONE = '[[agent]]\nid = "Agent-1"\nrole = "qa"\ndelivery = "inbox"\n'


def _run(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "run", "--no-discord"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _inbox(home: Path, agent: str) -> list[str]:
    folder = home / "inbox" / agent
    if not folder.is_dir():
        return []
    return [p.read_text() for p in sorted(folder.iterdir()) if not p.name.startswith(".")]


@pytest.mark.both_databases
@pytest.mark.timeout(120)
def test_an_edited_agents_file_is_checked_then_used_without_a_restart(
    tmp_path: Path, cli_home: Path, settings: Settings
) -> None:
    home, agents = cli_home, tmp_path / "agents.toml"  # on PostgreSQL: its user config
    agents.write_text(ONE)
    env = cli_env(home, agents) | {"SWARM_LOG_FILE": str(tmp_path / "log"), "SWARM_WEB": "off"}
    proc = _run(env)
    out = Lines(proc)
    try:
        out.until("  Ctrl+C stops")
        agents.write_text(ONE + '[[agent]]\nid = "Agent-2"\nrole = "web"\nmood = "sunny"\n')
        refused = out.until("swarm run: agents file not reloaded")[-1]
        assert refused.startswith(
            f"swarm run: agents file not reloaded, the agents of before stay: agents file {agents}"
        )
        assert "mood" in refused
        agents.write_text(
            ONE + '[[agent]]\nid = "Agent-2"\nrole = "web"\ninput = [10, 10]\n'
        )  # a desktop agent, but this coordinator has no display: its inbox, and it says so
        assert out.until("swarm run: agents file reloaded")[-1] == (
            f"swarm run: agents file reloaded from {agents}: 2 agents (added Agent-2)\n"
        )
        assert out.until("swarm run: Agent-2")[-1] == (
            "swarm run: Agent-2 is a desktop agent, but this coordinator started without the "
            "desktop driver (no desktop agent or no display then): its messages go to inbox "
            "files; restart swarm run\n"
        )
        assert (
            run_cli(home, "task", "add", "Style the form", "--role", "web", config=agents).code == 0
        )
        deadline = time.monotonic() + 30
        while not _inbox(home, "Agent-2") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "T-1: Style the form" in _inbox(home, "Agent-2")[0]
        assert stored_count(settings, "tasks") == 1  # in the test's database
        assert refused not in "".join(out.lines.queue)  # said once, not at every look
    finally:
        end(proc, out)


@pytest.mark.timeout(120)
def test_calibrate_takes_effect_in_the_running_coordinator(
    tmp_path: Path, shared_xvfb: Any
) -> None:
    home = tmp_path / "home"
    screen = {"DISPLAY": shared_xvfb.display, "XAUTHORITY": str(shared_xvfb.xauthority)}
    env = cli_env(home) | screen | {"SWARM_LOG_FILE": str(tmp_path / "log"), "SWARM_WEB": "off"}
    proc = _run(env)  # the bundled agents file: calibrate copies it into the home
    out = Lines(proc)
    try:
        out.until("  Ctrl+C stops")
        shared_xvfb.xdotool("mousemove", "700", "333")
        calibrated = run_cli(
            home, "agents", "calibrate", "Agent-2", "--countdown", "0", "--points-only", env=screen
        )
        assert calibrated.code == 0, calibrated.err
        assert calibrated.out.splitlines()[-1] == (
            "a running swarm run reloads the agents file within 2 s (its log says 'agents file "
            "reloaded'); one started without desktop agents or without a display delivers to "
            "windows only once you restart swarm run"
        )
        reloaded = out.until("swarm run: agents file reloaded")[-1]
        if reloaded.endswith("(no change)\n"):  # seen the copy of the bundled file first
            reloaded = out.until("swarm run: agents file reloaded")[-1]
        assert reloaded == (
            f"swarm run: agents file reloaded from {home / 'agents.toml'}: 8 agents "
            "(changed Agent-2)\n"
        )
    finally:
        end(proc, out)


@pytest.mark.both_databases
async def test_a_reload_hands_the_new_agents_to_the_deliverer(service: Any, tmp_path: Path) -> None:
    """The desktop driver keeps its own list (where a stray paste may land): a reload
    replaces it too, not only the service's."""
    from core.coordinator.agents_reload import AgentsReload
    from tests.helpers import write_agents

    path = write_agents(
        tmp_path / "agents.toml",
        [{"id": "Agent-1", "role": "qa"}, {"id": "Agent-9", "role": "web", "delivery": "inbox"}],
    )
    handed: list[list[str]] = []
    reload = AgentsReload(service, lambda: path, apply=lambda a: handed.append([x.id for x in a]))
    assert await reload.run() == 1
    assert handed == [["Agent-1", "Agent-9"]]
    assert await reload.run() == 0 and len(handed) == 1  # unchanged: nothing handed again


async def test_a_reloaded_agent_with_a_node_is_served_by_the_coordinator_on_sqlite(
    service: Any, tmp_path: Path
) -> None:
    """SQLite serves no delivery nodes: an agents file naming one, reloaded, leaves the agent
    to the coordinator, as at start (not to a node that can never come)."""
    from core.models import Agent

    agents = [Agent(id="Agent-1", role="qa", node="desk-1"), Agent(id="Agent-2", role="web")]
    await service.replace_agents(agents, tmp_path / "agents.toml")
    assert [a.node for a in service.agents.values()] == [None, None]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.both_databases
async def test_a_reloaded_agent_with_a_node_is_left_to_its_node_on_postgresql(
    service: Any, tmp_path: Path
) -> None:
    """PostgreSQL serves delivery nodes: a reloaded agent keeps the node it names."""
    from core.models import Agent

    agents = [Agent(id="Agent-1", role="qa", node="desk-1"), Agent(id="Agent-2", role="web")]
    await service.replace_agents(agents, tmp_path / "agents.toml")
    assert [a.node for a in service.agents.values()] == ["desk-1", None]


@pytest.mark.both_databases
async def test_a_reload_that_changes_an_agent_sends_what_waits_for_it_at_once(
    service: Any, tmp_path: Path
) -> None:
    """A message put off for its agent (busy, offline) waits for its next try; an agents file
    that changes the agent (``desktop up`` writing its route) makes it due at once, to go by
    that route, not after the wait (10 s for an agent whose session is gone)."""
    import dataclasses

    from core.coordinator.scheduler import Scheduler
    from tests.helpers import RecordingDeliverer

    await service.messages.send("Agent-1", "waiting for its route", "test")
    deliverer = RecordingDeliverer(deferring={"Agent-1": "its pane is not there yet"})
    scheduler = Scheduler(service, deliverer)
    await scheduler.deliver_once()
    deliverer.deferring.clear()
    assert await scheduler.deliver_once() == 0  # put off: the clock has not moved
    agents = [
        dataclasses.replace(a, role="changed") if a.id == "Agent-1" else a
        for a in service.agents.values()
    ]
    said = await service.replace_agents(agents, tmp_path / "agents.toml")
    assert said.endswith("(changed Agent-1)"), said
    assert await scheduler.deliver_once() == 1
    (parcel,) = deliverer.for_agent("Agent-1")
    assert parcel.text.endswith("\n\nwaiting for its route") and parcel.agent.role == "changed"
