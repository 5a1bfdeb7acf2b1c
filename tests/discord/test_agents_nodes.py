"""``/agents`` names each agent's node when some agent has one (PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.service.swarm import SwarmService
from core.settings import Settings
from tests.discord.conftest import World
from tests.helpers import write_agents

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
async def service(home: Path, database_url: str) -> AsyncIterator[SwarmService]:
    """A-1 on node desk-1, C-1 on the coordinator; the real clock."""
    config = write_agents(
        home.parent / "agents.toml",
        [
            {"id": "A-1", "role": "builder", "delivery": "inbox", "node": "desk-1"},
            {"id": "C-1", "role": "builder", "delivery": "inbox"},
        ],
    )
    svc = await SwarmService.open(
        Settings.from_env(
            {
                "SWARM_HOME": str(home),
                "SWARM_CONFIG": str(config),
                "SWARM_DATABASE_URL": database_url,
            }
        )
    )
    yield svc
    await svc.close()


async def test_agents_shows_each_agents_node(world: World) -> None:
    reply = await (await world.server.invoke_slash(world.user, "agents")).wait_callback()
    lines = reply.data["embeds"][0]["description"].strip("`\n").splitlines()
    assert lines[0].split() == ["AGENT", "ROLE", "NODE", "STATE", "TASK", "DONE"]
    assert [line.split()[:3] for line in lines[-2:]] == [
        ["A-1", "builder", "desk-1"],
        ["C-1", "builder", "-"],
    ]
