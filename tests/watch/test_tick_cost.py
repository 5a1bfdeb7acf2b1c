"""What one watch tick costs as the fleet grows, counted in statements by SQLite's own trace
callback (not timed): the tick reads each table once for every agent, so an agent more costs
no statement of its own while nothing about it needs one (an alert to clear, a delivery that
failed). The watch clocks' rows are one ``executemany`` (SQLite traces each of its rows; on
PostgreSQL they go in one pipeline), left out of the count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.agents import _protocol_events as protocol_events
from core.agents._judge import Freshness
from core.coordinator.jobs import Watcher
from core.delivery._message_queries import task_of_delivery
from core.hosts.entries import read
from core.models import Receipt, TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import write_agents
from tests.tasks.test_hot_path import traced
from tests.watch.conftest import watch_settings

SESSION: dict[str, Any] = {"type": "session", "session": "s-1"}
TURN: dict[str, Any] = {"type": "turn", "delivery": None}
CHUNK: dict[str, Any] = {"type": "update", "kind": "agent_message_chunk", "text": "words"}
END: dict[str, Any] = {"type": "turn_end", "stop_reason": "end_turn"}
WATCH_CLOCKS = "INSERT INTO agent_watch (agent_id, watch_since, ticked_at)"


def _agents_file(folder: Path, count: int) -> tuple[list[dict[str, object]], Path]:
    agents: list[dict[str, object]] = [
        {"id": f"Agent-{n + 1}", "role": "w", "delivery": "inbox"} for n in range(count)
    ]
    folder.mkdir()
    return agents, write_agents(folder / "agents.toml", agents)


async def _fleet(folder: Path, count: int, clock: ManualClock) -> SwarmService:
    """A service of ``count`` agents, each holding a task whose prompt reached it, half of
    them working (their protocol journal in a turn), half idle since a turn before it."""
    agents, config = _agents_file(folder, count)
    settings = Settings.from_env({"SWARM_HOME": str(folder), "SWARM_CONFIG": str(config)})
    service = await SwarmService.open(settings, clock)
    for n, agent in enumerate(agents):  # half at work on a turn, half at rest after one
        now = [TURN, CHUNK] if n % 2 else [TURN, END]
        entries = [{"seq": i + 1, "at": clock.now(), **e} for i, e in enumerate([SESSION, *now])]
        await service.store.write(
            str(agent["id"]),
            protocol_events.record,
            str(agent["id"]),
            100,
            [read(e) for e in entries],
            Freshness(),
            task_of_delivery,
        )
    clock.advance(1)
    for agent in agents:
        await service.tasks.create(TaskSpec(f"work of {agent['id']}", agent=str(agent["id"])), "t")
    await service.queue.assign_batch()
    while (delivery := await service.queue.claim_delivery()) is not None:
        await service.queue.record_receipt(delivery, Receipt.delivered("test"))
    return service


async def _tick_statements(folder: Path, count: int) -> list[str]:
    clock = ManualClock()
    service = await _fleet(folder, count, clock)
    try:
        watcher = Watcher(service, watch_settings(), None)
        clock.advance(5)
        await watcher.tick()  # the first: each agent's watch clock and state stored
        clock.advance(5)
        async with traced(service) as trace:
            await watcher.tick()
        return [s for s in trace.statements if not s.startswith(WATCH_CLOCKS)]
    finally:
        await service.close()


async def test_a_tick_over_twelve_agents_runs_the_statements_of_a_tick_over_two(
    tmp_path: Path,
) -> None:
    two = await _tick_statements(tmp_path / "two", 2)
    twelve = await _tick_statements(tmp_path / "twelve", 12)
    assert len(twelve) == len(two), "\n".join(twelve)
