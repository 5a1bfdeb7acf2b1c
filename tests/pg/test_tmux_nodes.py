"""Headless agents on two machines (issue 39, items 3 and 5): each machine runs ``swarm
desktop up --headless --node NAME`` and ``swarm node --name NAME``; a coordinator runs on a
third. A machine has a default tmux server of its own (``TMUX_TMPDIR``) and a swarm home of
its own, so the tmux server its sessions run on; each machine also has decoy panes there
under the other machine's agents' session names, which record anything typed into them. A
node's tmux agents are delivered to by that node only, each message once and in order."""

from __future__ import annotations

import asyncio
import json
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from automation import tmux_sessions
from core.models import DeliveryState
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.conftest import skip_or_fail
from tests.desktop.rig import DesktopRig
from tests.pg.fleet import Fleet

NODES = {"desk-1": ("Agent-1", "Agent-2"), "desk-2": ("Agent-3", "Agent-4")}
LEASE_S = 40.0  # longer than one tmux delivery's time limit (30.5 s)


def _machine_env(rig: DesktopRig, machine: Path) -> dict[str, str]:
    """A machine's: its own default tmux server and its own swarm home (so its own server
    for swarm's sessions)."""
    return {**rig.env, "TMUX_TMPDIR": str(machine), "SWARM_HOME": str(machine / "home")}


def _swarms_tmux(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """tmux on the server ``desktop up`` started the machine's sessions on."""
    socket = tmux_sessions.home_socket(Path(env["SWARM_HOME"]), env)
    return _tmux(env, "-S", socket, *args)


def _tmux(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tmux", *args], env=env, capture_output=True, text=True, timeout=10)


@pytest.mark.timeout(240)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_nodes_tmux_agents_are_delivered_to_by_that_node_only(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("tmux") is None:
        skip_or_fail("tmux is not installed (apt-get install tmux)")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "TMUX", "TMUX_PANE"):
        monkeypatch.delenv(name, raising=False)
    rig = DesktopRig(None, tmp_path / "rig", with_workspaces=0)
    text = rig.config.read_text(encoding="utf-8")
    for node, agents in NODES.items():
        for agent in agents:
            text = text.replace(f'id = "{agent}"', f'id = "{agent}"\nnode = "{node}"')
    rig.config.write_text(text + '\n[[agent]]\nid = "C-1"\nrole = "coder"\ndelivery = "inbox"\n')
    machines = {node: tmp_path / node for node in NODES}
    for machine in machines.values():
        machine.mkdir()
    fleet = Fleet(
        tmp_path,
        database_url,
        rig.config,
        extra_env={
            "coord-1": {"TMUX_TMPDIR": str(tmp_path / "coordinator")},
            **{node: {"TMUX_TMPDIR": str(m)} for node, m in machines.items()},
        },
        leases=dict.fromkeys(NODES, LEASE_S),
    )
    (tmp_path / "coordinator").mkdir()
    settings = _settings(tmp_path, rig, database_url)
    service = None
    try:
        for node, machine in machines.items():
            _start_machine(rig, node, machine)
        rig.wait_ready()
        service = await SwarmService.open(settings)
        assert {a.id: (a.node, a.delivery) for a in service.agents.values()} == {
            "Agent-1": ("desk-1", "tmux"), "Agent-2": ("desk-1", "tmux"),
            "Agent-3": ("desk-2", "tmux"), "Agent-4": ("desk-2", "tmux"),
            "C-1": (None, "inbox"),
        }  # fmt: skip
        for name in ("coord-1", *NODES):
            fleet.launch(name)
        for n in (1, 2):
            for agent in (*NODES["desk-1"], *NODES["desk-2"], "C-1"):
                await service.messages.send(agent, f"message {n} for {agent}", "test")
        deadline = time.monotonic() + 120
        while True:
            deliveries = await service.messages.deliveries(limit=100)
            if len(deliveries) == 10 and all(
                d.state is DeliveryState.delivered for d in deliveries
            ):
                break
            assert time.monotonic() < deadline, [(d.agent, d.state.value) for d in deliveries]
            await asyncio.sleep(0.2)
        claimed = [
            e for e in await service.history.events(limit=1000) if e.kind == "delivery.claimed"
        ]
    finally:
        if service is not None:
            await service.close()
        fleet.stop()
        for machine in machines.values():
            _tmux(_machine_env(rig, machine), "kill-server")
            _swarms_tmux(_machine_env(rig, machine), "kill-server")
    for node, agents in NODES.items():
        for agent in agents:
            got = rig.wait_for(agent, 2)
            assert len(got) == 2, got
            assert f"message 1 for {agent}" in got[0] and f"message 2 for {agent}" in got[1]
            by = [e.text for e in claimed if e.agent == agent]
            assert len(by) == 2 and all(f"delivering by {node}" in t for t in by), by
    assert _decoys(tmp_path) == dict.fromkeys(
        [f"decoy-{n}-{a}.txt" for n in NODES for o, agents in NODES.items() if o != n
         for a in agents], ""
    )  # fmt: skip


def _start_machine(rig: DesktopRig, node: str, machine: Path) -> None:
    """On ``node``'s machine: ``swarm desktop up --headless --node NODE`` (its own agents
    only), and a decoy pane under each other machine's agent's session name."""
    env = _machine_env(rig, machine)
    _up(rig, machine, node, list(NODES[node]))
    others = [a for n, agents in NODES.items() if n != node for a in agents]
    for agent in others:
        decoy = shlex.quote(str(machine.parent / f"decoy-{node}-{agent}.txt"))
        made = _swarms_tmux(env, "new-session", "-d", "-s", f"swarm-{agent}", f"cat > {decoy}")
        assert made.returncode == 0, made.stderr


def _decoys(folder: Path) -> dict[str, str]:
    """What each decoy pane recorded, by file name."""
    return {path.name: path.read_text() for path in folder.glob("decoy-*.txt")}


@pytest.mark.timeout(240)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_an_agent_added_to_a_running_node_by_desktop_up_takes_its_prompt(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a person's order: ``desktop up --headless --node desk-1`` and ``swarm node``
    running with Agent-1; the person then gives Agent-2 ``node = "desk-1"`` in the agents
    file and runs ``desktop up --headless --node desk-1`` again. The node starts again for
    Agent-1 and Agent-2 and types Agent-2's prompt into its pane (before, it served Agent-1
    alone until restarted by hand)."""
    if shutil.which("tmux") is None:
        skip_or_fail("tmux is not installed (apt-get install tmux)")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "TMUX", "TMUX_PANE"):
        monkeypatch.delenv(name, raising=False)
    rig = DesktopRig(None, tmp_path / "rig", with_workspaces=0)
    _give_node(rig, "Agent-1")
    machine = tmp_path / "desk-1"
    machine.mkdir()
    fleet = Fleet(tmp_path, database_url, rig.config,
                  extra_env={"desk-1": {"TMUX_TMPDIR": str(machine)}},
                  leases={"desk-1": LEASE_S})  # fmt: skip
    settings = _settings(tmp_path, rig, database_url)
    service = None
    try:
        _up(rig, machine, "desk-1", ["Agent-1"])
        fleet.launch("desk-1")
        node = fleet.procs["desk-1"]
        node.wait_for("node desk-1 serves Agent-1")
        _give_node(rig, "Agent-2")
        _up(rig, machine, "desk-1", ["Agent-1", "Agent-2"])
        node.wait_for("node desk-1 starts again to serve Agent-1, Agent-2")
        node.wait_for("node desk-1 serves Agent-1, Agent-2")
        rig.wait_ready(["Agent-2"])
        service = await SwarmService.open(settings)
        await service.messages.send("Agent-2", "the prompt for Agent-2", "test")
        deadline = time.monotonic() + 60
        while (sent := (await service.messages.deliveries())[0]).state is not (
            DeliveryState.delivered
        ):
            assert time.monotonic() < deadline, (sent, node.text())
            await asyncio.sleep(0.2)
    finally:
        if service is not None:
            await service.close()
        fleet.stop()
        _tmux(_machine_env(rig, machine), "kill-server")
        _swarms_tmux(_machine_env(rig, machine), "kill-server")
    got = rig.wait_for("Agent-2", 1)
    assert len(got) == 1 and "the prompt for Agent-2" in got[0], got


def _give_node(rig: DesktopRig, agent: str) -> None:
    """The person's edit: ``node = "desk-1"`` under ``agent`` in the agents file."""
    text = rig.config.read_text(encoding="utf-8")
    rig.config.write_text(text.replace(f'id = "{agent}"', f'id = "{agent}"\nnode = "desk-1"'))


def _settings(tmp_path: Path, rig: DesktopRig, database_url: str) -> Settings:
    """The test's own settings: a home of its own, the rig's agents file, the database."""
    return Settings.from_env(
        {"SWARM_HOME": str(tmp_path / "cli"), "SWARM_CONFIG": str(rig.config),
         "SWARM_DATABASE_URL": database_url}
    )  # fmt: skip


def _up(rig: DesktopRig, machine: Path, node: str, agents: list[str]) -> None:
    """``swarm desktop up --headless --node NODE`` on the machine: ``agents`` up."""
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "desktop", "up", "--headless", "--node", node,
         "--json"],
        env=_machine_env(rig, machine), cwd=rig.workdir, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(row["agent"] for row in json.loads(done.stdout)) == agents
