"""A running ``swarm node`` reloads its machine's agents file as ``swarm run`` does: a route
written after it started (``swarm desktop up --node NAME`` writing a tmux agent's pane, here
an agent moved from a tmux session it never had to its inbox) is the one its agent's next
prompt takes; an agent added to the node in its file is served: the node ends what it has
under way and starts again in its own process. Its timers run as the coordinator's: its
sandboxed agents' git stores are folded, a refusal said."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.agents import GIT_REFUSED, open_kinds
from core.agents_file import load_agents
from core.models import DeliveryState
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.desktop.test_object_stores import forge
from tests.helpers import write_agents
from tests.pg.fleet import Fleet, inbox_texts
from tests.pg.procs import Proc

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _agents(path: Path, delivery: str, *more: dict[str, object]) -> Path:
    first: dict[str, object] = {"id": "A-1", "role": "w", "delivery": delivery, "node": "desk-1"}
    if delivery == "tmux":
        first["tmux"] = "swarm-A-1:0"
    return write_agents(path, [first, *more])


@pytest.mark.timeout(120)
async def test_a_route_written_while_the_node_runs_takes_its_agents_next_prompt(
    tmp_path: Path, database_url: str
) -> None:
    config = _agents(tmp_path / "agents.toml", "tmux")  # its session not started yet
    machine = {"TMUX_TMPDIR": str(tmp_path)}  # a tmux server of its own
    async with _node_beside(tmp_path, database_url, config, machine) as (service, node):
        node.wait_for("node desk-1 serves A-1")
        await service.messages.send("A-1", "the prompt for A-1", "test")
        deadline = time.monotonic() + 30
        while not (tried := (await service.messages.deliveries())[0]).reason:
            assert time.monotonic() < deadline, tried
            await asyncio.sleep(0.2)
        assert "tmux" in tried.reason and tried.state is not DeliveryState.delivered, tried
        more: dict[str, object] = {"id": "A-2", "role": "w", "delivery": "inbox", "node": "desk-1"}
        _agents(config, "inbox", more)  # A-1's route written (as desktop up does), and an A-2
        deadline = time.monotonic() + 60
        while (delivery := (await service.messages.deliveries())[0]).state is not (
            DeliveryState.delivered  # (its receipt stored after the inbox file is written)
        ):
            assert time.monotonic() < deadline, (delivery, node.text())
            await asyncio.sleep(0.2)
        assert len(await service.messages.deliveries()) == 1
        assert "the prompt for A-1" in inbox_texts(tmp_path / "desk-1")[0]
        assert "agents file reloaded from" in node.text()
        node.wait_for("node desk-1 starts again to serve A-1, A-2, as its agents file gives it")
        node.wait_for("node desk-1 serves A-1, A-2")  # the same process, its agents anew
        assert node.popen.poll() is None
        await service.replace_agents(load_agents(config), config)  # as swarm run reloads it
        await service.messages.send("A-2", "the prompt for A-2", "test")
        deadline = time.monotonic() + 30
        while not any("the prompt for A-2" in text for text in inbox_texts(tmp_path / "desk-1")):
            assert time.monotonic() < deadline, node.text()
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def _node_beside(
    tmp_path: Path, database_url: str, config: Path, machine: dict[str, str]
) -> AsyncIterator[tuple[SwarmService, Proc]]:
    """A real ``swarm node --name desk-1`` on ``config`` started (``machine``: its
    environment's additions), and the test's own service on the same database."""
    fleet = Fleet(tmp_path, database_url, config, {"desk-1": machine}, {"desk-1": 40.0})
    settings = Settings.from_env(
        {"SWARM_HOME": str(tmp_path / "cli"), "SWARM_CONFIG": str(config),
         "SWARM_DATABASE_URL": database_url}
    )  # fmt: skip
    service = await SwarmService.open(settings)
    try:
        fleet.launch("desk-1")
        yield service, fleet.procs["desk-1"]
    finally:
        await service.close()
        fleet.stop()


@pytest.mark.timeout(120)
async def test_a_nodes_timer_folds_its_sandboxed_agents_store_and_says_a_refusal(
    tmp_path: Path, database_url: str
) -> None:
    """A sandboxed agent of node desk-1 plants its commit under another object's name in its
    git store: the running ``swarm node``'s timer (not the coordinator's: none runs) folds
    the store, keeps the real commit, removes the forgery, and opens the agent's
    ``git-refused`` alert in the shared database."""
    planted = forge(tmp_path)
    work, common, real, forged = planted.work, planted.common, planted.real, planted.forged
    config = _agents(tmp_path / "agents.toml", "inbox", {
        "id": "S-1", "role": "w", "delivery": "inbox", "node": "desk-1",
        "workspace": str(work), "sandbox": True})  # fmt: skip
    async with _node_beside(tmp_path, database_url, config, {}) as (service, node):
        node.wait_for("node desk-1 serves A-1, S-1")
        deadline = time.monotonic() + 30
        while GIT_REFUSED not in (await service.store.read(open_kinds)).get("S-1", set()):
            assert time.monotonic() < deadline, node.text()
            await asyncio.sleep(0.2)
    assert not forged.exists()
    assert (common / "objects" / real[:2] / real[2:]).is_file()
