"""A node whose deliverer serves its agents side by side (inbox files, tmux panes, protocol
hosts) claims every agent's delivery in one round: a broadcast to its 12 agents goes out in
one step, not in rounds of 8 each waiting for its slowest agent; a deliverer that serves
one at a time (the desktop driver; here one that is not ``Parallel``) keeps rounds of 8."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.routes import build_deliverer
from core.coordinator.node import BATCH, DeliveryNode
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import RecordingDeliverer, write_agents

AGENTS = 12
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


async def test_a_broadcast_to_a_nodes_side_by_side_agents_is_one_round(
    tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    agents: list[dict[str, object]] = [
        {"id": f"A-{n}", "role": "w", "delivery": "inbox", "node": "desk-1"}
        for n in range(1, AGENTS + 1)
    ]
    config = write_agents(tmp_path / "agents.toml", agents)
    settings = Settings.from_env({"SWARM_HOME": str(tmp_path / "home"),
                                  "SWARM_CONFIG": str(config),
                                  "SWARM_DATABASE_URL": database_url})  # fmt: skip
    service = await SwarmService.open(settings, clock)
    try:
        deliverer = build_deliverer(settings, list(service.agents.values()), service.kill_switch)
        await service.messages.broadcast("hello all", "test")
        one_by_one = DeliveryNode(service, RecordingDeliverer(), "desk-1")
        assert one_by_one.batch == BATCH < AGENTS
        node = DeliveryNode(service, deliverer, "desk-1")
        assert node.batch == AGENTS
        assert await node.step() == AGENTS
        deliverer.close()
    finally:
        await service.close()
