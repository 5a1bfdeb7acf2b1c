"""A delivery node watches its own agents' screens (PostgreSQL, real Tk windows on Xvfb).

Agent-1 and Agent-2 are served by node desk-1, Agent-3 by the coordinator. The node runs
(``DeliveryNode.run``) and records screen activity in the database; the coordinator's
stall rules read it from there and never grab a node agent's region. Time is a
ManualClock advanced a minute per step; the node's watch loop runs every 0.1 s real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from automation.desktop.watch import ScreenFrames
from core.coordinator.jobs import Watcher
from core.coordinator.node import DeliveryNode
from core.models import Agent
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import RecordingDeliverer, write_agents
from tests.watch.conftest import assign, desktop_env, kinds, watch_settings
from tests.watch.test_desktop import states, type_into, wait_until_shown

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


class LoggedFrames(ScreenFrames):
    """The real screen, remembering whose regions were grabbed."""

    def __init__(self) -> None:
        super().__init__()
        self.grabbed: set[str] = set()

    def grab(self, agent: Agent) -> bytes | None:
        """The agent's region (see ScreenFrames), noted."""
        self.grabbed.add(agent.id)
        return super().grab(agent)


@pytest.fixture
async def node_service(
    tmp_path: Path, database_url: str, clock: ManualClock
) -> AsyncIterator[SwarmService]:
    """Agent-1, Agent-2 on node desk-1 and Agent-3 on the coordinator, over windows 1-3."""
    env = desktop_env()
    agents: list[dict[str, object]] = []
    for i in range(3):
        left, top = (i % 4) * 480 + 10, (i // 4) * 540 + 40
        agents.append(
            {
                "id": f"Agent-{i + 1}",
                "role": "w",
                "delivery": "inbox",
                "input": list(env.input_point(i)),
                "watch": [left, top, 460, 490],
                **({"node": "desk-1"} if i < 2 else {}),
            }
        )
    config = write_agents(tmp_path / "agents.toml", agents)
    settings = Settings.from_env(
        {
            "SWARM_HOME": str(tmp_path / "home"),
            "SWARM_CONFIG": str(config),
            "SWARM_DATABASE_URL": database_url,
        }
    )
    service = await SwarmService.open(settings, clock)
    yield service
    await service.close()


async def screen_active_at(service: SwarmService, agent: str) -> float | None:
    row = await service.store.read(
        lambda conn: conn.execute(
            "SELECT screen_active_at FROM agent_watch WHERE agent_id = $1", (agent,)
        ).fetchone()
    )
    return None if row is None else row["screen_active_at"]


async def recorded(service: SwarmService, agent: str, at: float) -> None:
    """Wait until the running node stored ``agent``'s screen activity at clock time ``at``."""
    deadline = time.monotonic() + 10
    while await screen_active_at(service, agent) != at:
        assert time.monotonic() < deadline, f"the node did not record {agent}'s activity"
        await asyncio.sleep(0.05)


async def test_the_node_watches_its_agents_and_the_coordinator_judges_from_the_database(
    node_service: SwarmService, clock: ManualClock, windows: Any, watch_xserver: Any
) -> None:
    service = node_service
    start = clock.now()
    for agent in ("Agent-1", "Agent-2", "Agent-3"):
        await assign(service, agent)
    settings = watch_settings(interval_s=0.1, stall_after_s=240.0, grace_s=60.0)
    node_watch = Watcher(service, settings, ScreenFrames(), node="desk-1")
    node = DeliveryNode(service, RecordingDeliverer(), "desk-1", watcher=node_watch)
    screen = LoggedFrames()
    coordinator = Watcher(service, settings, screen)
    stop = asyncio.Event()
    running = asyncio.create_task(node.run(stop))
    seen: dict[int, dict[str, str]] = {}
    try:
        await coordinator.tick()  # the coordinator's baseline frame (Agent-3)
        deadline = time.monotonic() + 10
        while len(node_watch._last) < 2:  # the node's baseline frames
            assert time.monotonic() < deadline, "the node took no frames"
            await asyncio.sleep(0.05)
        # its agents' prompts delivered at the start: a delivery stamped after the clock
        # moves would make that minute's typing an echo of the paste, not activity
        while node.delivered < 2:
            assert time.monotonic() < deadline, "the node delivered nothing"
            await asyncio.sleep(0.05)
        for minute in range(1, 6):
            clock.advance(60)
            for index in (0, 2):  # a word: wider than a caret, no small change to recheck
                type_into(watch_xserver, index, f"minute {minute} ")
            wait_until_shown(coordinator, service.agents["Agent-3"])
            await recorded(service, "Agent-1", clock.now())
            report = await coordinator.tick()
            assert report.active == ["Agent-3"], (minute, report)
            seen[minute] = await states(service)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(running, 10)
        await node_watch.close()
        await coordinator.close()
    assert screen.grabbed == {"Agent-3"}  # never a node agent's region
    assert all(s["Agent-1"] == "working" and s["Agent-3"] == "working" for s in seen.values())
    # the node delivered the prompts at once: stalled 4 min after the 1 min grace
    assert [seen[m]["Agent-2"] for m in (4, 5)] == ["idle", "stalled"]  # a quiet screen
    nudges = await kinds(service, "agent.nudged")
    assert [(e.agent, e.ts - start) for e in nudges] == [("Agent-2", 300)]
