"""Delivery nodes on the dashboard (PostgreSQL): the Agents page's Nodes table, each
agent's node, and the nodes in ``GET /api/v1/status``."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from core.coordinator.node import DeliveryNode
from core.delivery import _queries as delivery_queries
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import RecordingDeliverer, write_agents
from tests.web.conftest import bearer
from tests.web.test_pages import login

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def settings(home: Path, database_url: str) -> Settings:
    """A-1 and A-2 on node desk-1, C-1 on the coordinator."""
    config = write_agents(
        home.parent / "agents.toml",
        [
            {"id": "A-1", "role": "w", "delivery": "inbox", "node": "desk-1"},
            {"id": "A-2", "role": "w", "delivery": "inbox", "node": "desk-1"},
            {"id": "C-1", "role": "w", "delivery": "inbox"},
        ],
    )
    return Settings.from_env(
        {"SWARM_HOME": str(home), "SWARM_CONFIG": str(config), "SWARM_DATABASE_URL": database_url}
    )


async def running_node(service: SwarmService) -> None:
    """desk-1 said it is alive 7 s ago and holds one claimed delivery."""
    await service.messages.send("A-1", "hello", "test")
    assert len(await DeliveryNode(service, RecordingDeliverer(), "desk-1").claim()) == 1
    now = service.clock.now()
    await service.store.write_concurrent(
        delivery_queries.heartbeat, "desk-1", ["A-1", "A-2"], "desk-host", 4242, now - 60, now - 7
    )


async def test_the_agents_page_and_the_status_api_show_the_nodes(
    client: httpx.AsyncClient, service: SwarmService, viewer_token: str
) -> None:
    await login(client, viewer_token)
    page = (await client.get("/agents")).text
    assert "<h2>Nodes</h2>" not in page  # no node said it was alive yet
    await running_node(service)
    page = (await client.get("/agents")).text
    row = page.split('<tr id="node-desk-1">', 1)[1].split("</tr>", 1)[0]
    assert row == (
        "<td>desk-1</td><td>A-1, A-2</td><td>7 s ago (desk-host pid 4242)</td><td>1</td>"
    )
    assert page.count("node desk-1</span>") == 2
    status = (await client.get("/api/v1/status", headers=bearer(viewer_token))).json()
    assert [(n["name"], n["agents"], n["in_flight"]) for n in status["nodes"]] == [
        ("desk-1", ["A-1", "A-2"], 1)
    ]
    assert {a["id"]: a["node"] for a in status["agents"]} == {
        "A-1": "desk-1",
        "A-2": "desk-1",
        "C-1": None,
    }
