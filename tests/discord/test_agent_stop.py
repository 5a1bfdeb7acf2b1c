"""Discord's ``/agent stop`` through the local Discord: the one operation of ``swarm agents
stop`` against a real tmux pane (its Escape seen on the pane's screen), answered only to the
admin who asked (the channel gets the ``agent.stopped`` line), pinging nobody; refused to a
user who is no admin; a route that cannot stop is the presser's one line."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.event_kinds import EventKind
from core.service.swarm import SwarmService
from core.settings import Settings
from core.tmux import PaneRef, capture
from tests.discord.conftest import World, slash
from tests.helpers import write_agents
from tests.tmux_server import Tmux, wait_text

pytestmark = pytest.mark.timeout(60)
NONE: dict[str, list[str]] = {"parse": []}
EPHEMERAL = 64


@pytest.fixture
def pane(tmux: Tmux) -> Iterator[PaneRef]:
    """A pane running ``cat``: the keys pressed into it show on its screen."""
    tmux.window("agents", "P", "echo ready; exec cat")
    ref = tmux.ref("agents:P")
    wait_text(ref, "ready")
    yield ref


@pytest.fixture
async def service(home: Path, tmux: Tmux, pane: PaneRef) -> AsyncIterator[SwarmService]:
    """P: Claude Code in that pane; I: inbox files."""
    config = write_agents(
        home.parent / "agents.toml",
        [
            {"id": "P", "role": "dev", "cli": "claude-code", "delivery": "tmux",
             "tmux": "agents:P", "tmux_socket": str(tmux.socket)},
            {"id": "I", "role": "dev", "delivery": "inbox"},
        ],
    )  # fmt: skip
    svc = await SwarmService.open(
        Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    )
    yield svc
    await svc.close()


def escapes(ref: PaneRef) -> int:
    """How many Escapes the pane's screen shows (its terminal echoes one as ``^[``)."""
    read = capture(ref)
    assert read.ok, read
    return sum(line.count("^[") for line in read.lines)


async def stopped_events(service: SwarmService) -> list[tuple[str | None, str | None]]:
    found = await service.history.events(limit=100)
    return [(e.agent, e.actor) for e in found if e.kind == EventKind.AGENT_STOPPED]


async def test_an_admin_stops_a_pane_agents_turn_privately_and_the_channel_says_so(
    world: World, pane: PaneRef
) -> None:
    handle = await world.server.invoke_slash(world.admin, "agent stop", {"agent": "p"})
    assert (await handle.wait_callback()).data["flags"] & EPHEMERAL  # "thinking", only to boss
    (answer,) = await handle.wait_followups(1)
    assert answer.content == "⏹️ P: Claude Code's interrupt key pressed (escape in its tmux pane)"
    assert answer.ephemeral and answer.allowed_mentions == NONE and answer.pings == set()
    assert escapes(pane) == 1
    assert await stopped_events(world.service) == [("P", "discord:boss")]
    line = await world.server.wait_for_message(
        lambda m: "P's turn stopped by discord:boss" in m.content, channel=world.channel
    )
    assert line.pings == set()


async def test_a_user_who_is_no_admin_is_refused_and_nothing_is_pressed(
    world: World, pane: PaneRef
) -> None:
    refused = await slash(world, world.user, "agent stop", {"agent": "P"})
    assert refused.data["flags"] & EPHEMERAL
    assert refused.data["content"] == "/agent stop is for swarm admins only."
    assert escapes(pane) == 0 and await stopped_events(world.service) == []


async def test_a_route_that_cannot_stop_is_the_pressers_one_line(world: World) -> None:
    handle = await world.server.invoke_slash(world.admin, "agent stop", {"agent": "I"})
    await handle.wait_callback()
    (answer,) = await handle.wait_followups(1)
    assert answer.content == (
        "⚠️ I: its route (inbox files) has no way to stop a turn: stop it where it runs"
    )
    assert answer.ephemeral and answer.allowed_mentions == NONE
    assert await stopped_events(world.service) == []
