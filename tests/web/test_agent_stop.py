"""The dashboard's Stop (``POST /api/v1/agents/A/stop``, the agents page's button): the one
operation of ``swarm agents stop`` (``automation.turn_stop.stop_and_record``) against a real
tmux pane, whose stop is seen on its screen; refused to a viewer, an agent and an agent's
token; a route that cannot stop, or a node's agent, said in one line with nothing recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from automation.turn_stop import stop_and_record
from core.access import _tokens as tokens
from core.errors import PersonOnly
from core.event_kinds import EventKind
from core.service.swarm import SwarmService
from core.settings import Settings
from core.tmux import PaneRef, capture
from tests.helpers import write_agents
from tests.tmux_server import Tmux, wait_text
from tests.web.conftest import acting_rows, bearer
from tests.web.test_pages import login

pytestmark = pytest.mark.timeout(60)
ESCAPE_SHOWN = "^["  # the pane's terminal echoes the Escape that Claude Code's interrupt is


@pytest.fixture
def pane(tmux: Tmux) -> Iterator[PaneRef]:
    """A pane running ``cat``: the keys pressed into it show on its screen."""
    tmux.window("agents", "P", "echo ready; exec cat")
    ref = tmux.ref("agents:P")
    wait_text(ref, "ready")
    yield ref


@pytest.fixture
def settings(home: Path, tmux: Tmux, pane: PaneRef, database_url: str | None) -> Settings:
    """P: Claude Code in that pane; I: inbox files; N: a pane on node desk-2 (a node's only
    on PostgreSQL: on SQLite the coordinator delivers to every agent)."""
    tmux_agent = {"cli": "claude-code", "delivery": "tmux", "role": "dev"}
    config = write_agents(
        home.parent / "agents.toml",
        [
            {"id": "P", **tmux_agent, "tmux": "agents:P", "tmux_socket": str(tmux.socket)},
            {"id": "I", "role": "dev", "delivery": "inbox"},
            {"id": "N", **tmux_agent, "tmux": "agents:N", "node": "desk-2"},
        ],
    )
    env = {"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)}
    return Settings.from_env(env | {"SWARM_DATABASE_URL": database_url or ""})


def escapes(ref: PaneRef) -> int:
    """How many Escapes the pane's screen shows."""
    read = capture(ref)
    assert read.ok, read
    return sum(line.count(ESCAPE_SHOWN) for line in read.lines)


async def stopped_events(service: SwarmService) -> list[tuple[Any, ...]]:
    found = await service.history.events(limit=100)
    return [(e.agent, e.actor, e.text) for e in found if e.kind == EventKind.AGENT_STOPPED]


async def test_an_admin_stops_a_pane_agents_turn_and_it_is_recorded(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str, pane: PaneRef
) -> None:
    answer = await client.post("/api/v1/agents/p/stop", headers=bearer(admin_token))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "agent": "P",
        "stopped": True,
        "how": "escape in its tmux pane",
        "text": "P: Claude Code's interrupt key pressed (escape in its tmux pane)",
    }
    assert escapes(pane) == 1
    assert await stopped_events(service) == [
        ("P", "web:laptop", "P's turn stopped by web:laptop (escape in its tmux pane)")
    ]
    (row,) = await acting_rows(service)
    assert (row.command, row.allowed, row.outcome) == (
        "POST /api/v1/agents/p/stop",
        1,
        "ok",
    )


async def test_a_viewer_an_agents_token_and_an_agent_are_refused_and_nothing_is_pressed(
    client: httpx.AsyncClient, service: SwarmService, viewer_token: str, pane: PaneRef
) -> None:
    refused = await client.post("/api/v1/agents/P/stop", headers=bearer(viewer_token))
    assert refused.status_code == 403
    assert refused.json() == {"error": "token 'wall' is a viewer token: only admin tokens may act"}
    mcp = tokens.new_token()
    now = service.clock.now()
    await service.store.update(tokens.create, mcp, "mcp", tokens.Role.agent, now, None, "I")
    as_agent = await client.post("/api/v1/agents/P/stop", headers=bearer(mcp))
    assert as_agent.status_code == 403 and "opens only /mcp" in as_agent.json()["error"]
    with pytest.raises(
        PersonOnly, match="stopping an agent's turn is a person's decision, not I's"
    ):
        await stop_and_record(service, "P", "I", on_coordinator=True)  # any front end's call
    assert escapes(pane) == 0 and await stopped_events(service) == []
    (row,) = await acting_rows(service)
    assert (row.user_name, row.allowed, row.outcome) == (
        "wall",
        0,
        "refused: viewer token",
    )


async def test_a_route_that_cannot_stop_is_one_line_and_nothing_recorded(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str
) -> None:
    inbox = await client.post("/api/v1/agents/I/stop", headers=bearer(admin_token))
    assert (inbox.status_code, inbox.json()) == (
        409,
        {"error": "I: its route (inbox files) has no way to stop a turn: stop it where it runs"},
    )
    unknown = await client.post("/api/v1/agents/Z/stop", headers=bearer(admin_token))
    assert unknown.status_code == 404 and "unknown agent" in unknown.json()["error"]
    assert await stopped_events(service) == []
    outcomes = [r.outcome for r in await acting_rows(service)]
    assert [o.split(":", 1)[0] for o in outcomes] == ["error"] * 2


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_nodes_agent_is_stopped_on_its_node_said_in_one_line(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str
) -> None:
    node = await client.post("/api/v1/agents/N/stop", headers=bearer(admin_token))
    assert (node.status_code, node.json()) == (
        409,
        {"error": "N runs on node desk-2: stop its turn on that machine (swarm agents stop N)"},
    )
    assert await stopped_events(service) == []


async def test_the_stop_button_is_an_admins_where_the_route_can_stop(
    client: httpx.AsyncClient, admin_token: str, viewer_token: str
) -> None:
    await login(client, admin_token)
    page = (await client.get("/agents")).text
    assert 'data-action="/api/v1/agents/P/stop"' in page
    assert 'data-action="/api/v1/agents/I/stop"' not in page  # inbox files: no way to stop
    assert 'data-action="/api/v1/agents/P/stop"' in (await client.get("/agents/P")).text
    await login(client, viewer_token)
    assert "/stop" not in (await client.get("/agents")).text
    assert "/stop" not in (await client.get("/agents/P")).text
