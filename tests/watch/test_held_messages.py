"""Messages held behind a turn that does not end (hardening, round five, item 3): a protocol
agent's message waits while its turn runs; once the oldest has waited ``SWARM_STALL`` a
"Needs you" item says so and how to let it through (before: it waited without end, nothing
for a person to act on); it clears once none waits. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.coordinator.jobs import Watcher
from core.models import Agent, Receipt
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.agents.protocol_journal import numbered, record
from tests.watch.conftest import FakeFrames, watch_settings

pytestmark = pytest.mark.both_databases
AGENT = "Agent-1"


async def alert_items(service: SwarmService) -> list[str]:
    return [n.text for n in await service.inbox.needs() if n.kind == "alert"]


async def test_a_message_held_behind_a_hung_turn_becomes_an_item(
    service: SwarmService, clock: ManualClock, frames: FakeFrames, tmp_path: Path
) -> None:
    await service.replace_agents(
        [Agent(AGENT, "dev", cli="gemini", delivery="protocol")], tmp_path / "agents.toml"
    )
    await record(service, numbered([
        {"type": "session", "session": "s-1", "loaded": False},
        {"type": "turn", "delivery": 99, "chars": 4, "text": "work"},
        {"type": "update", "kind": "agent_message_chunk", "text": "thinking"},
    ]))  # fmt: skip
    await service.messages.send(AGENT, "a question for you", "me")  # held: a turn runs
    settings = watch_settings(interval_s=1.0, stall_after_s=60.0)
    watcher = Watcher(service, settings, frames)
    clock.advance(30)
    await watcher.tick()
    assert not [t for t in await alert_items(service) if "wait behind it" in t]
    clock.advance(31)
    await watcher.tick()
    (item,) = [t for t in await alert_items(service) if "wait behind it" in t]
    assert item.startswith(f"{AGENT}'s turn has not ended: 1 message(s) wait behind it")
    assert f"swarm agents stop {AGENT}" in item
    await record(service, numbered([
        {"type": "session", "session": "s-1", "loaded": False},
        {"type": "turn", "delivery": 99, "chars": 4, "text": "work"},
        {"type": "update", "kind": "agent_message_chunk", "text": "thinking"},
        {"type": "turn_end", "delivery": 99, "stop_reason": "cancelled"},
    ]))  # fmt: skip
    claimed = await service.queue.claim_prompt()  # the turn over: the message goes
    assert claimed is not None
    await service.queue.record_receipt(claimed[0], Receipt.delivered("protocol"))
    clock.advance(1)
    await watcher.tick()
    assert not [t for t in await alert_items(service) if "wait behind it" in t]
