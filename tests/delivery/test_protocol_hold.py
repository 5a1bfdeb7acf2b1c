"""A protocol agent's prompts wait out the turn its host reported (issue 50, item 8): its host
would refuse them as busy, each a round of claim, build and send for nothing (394 of a
32-agent day's 673 deliveries were such refusals). The turn's end, taken in from the host's
journal, lets them go; a withdrawal goes at once (it cancels that turn). The journal entries
are the host's shapes (``core.hosts.wire``), taken in as swarm's protocol watch takes them."""

from __future__ import annotations

from typing import Any

import pytest

from core.agents import _queries as agent_queries
from core.agents._judge import Freshness
from core.coordinator.scheduler import Scheduler
from core.hosts.entries import read
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.watch import protocol_intake
from tests.helpers import RecordingDeliverer, query

pytestmark = pytest.mark.both_databases
HOST = 4242


async def journal(service: SwarmService, agent: str, *entries: dict[str, Any]) -> None:
    """``entries`` of ``agent``'s host journal, numbered on from swarm's cursor, taken in."""
    _, last = await service.store.read(agent_queries.protocol_cursor, agent)
    numbered = [{"seq": last + n, "at": service.clock.now(), **e} for n, e in enumerate(entries, 1)]
    await protocol_intake.take_in(service, agent, HOST, [read(e) for e in numbered], Freshness())


def texts(deliverer: RecordingDeliverer, agent: str) -> list[str]:
    return [p.text for p in deliverer.for_agent(agent)]


async def test_a_message_waits_for_the_turns_end_and_a_withdrawal_does_not(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    task = await service.tasks.create(TaskSpec("theirs", agent="Agent-1"), "me")
    scheduler = Scheduler(service, deliverer)
    await scheduler.run_burst()
    assert [p.task_id for p in deliverer.for_agent("Agent-1")] == [task.id]
    await journal(service, "Agent-1", {"type": "turn", "delivery": 1, "chars": 5, "text": "x"},
                  {"type": "update", "kind": "agent_message_chunk", "text": "on it"})  # fmt: skip
    await service.messages.send("Agent-1", "a note from the person", "cli")
    await scheduler.run_burst()
    assert len(texts(deliverer, "Agent-1")) == 1  # held: its host would refuse it
    pending = query(service.settings, "SELECT state, attempts FROM deliveries WHERE id = 2")
    assert [tuple(r) for r in pending] == [("queued", 0)]  # never claimed, no try used

    await service.tasks.assign(task.ref, "Agent-4", "boss")  # withdrawn from Agent-1
    await scheduler.run_burst()
    got = texts(deliverer, "Agent-1")
    assert len(got) == 2 and "WITHDRAWN" in got[1]  # mid-turn: it cancels that turn

    await journal(service, "Agent-1", {"type": "turn_end", "delivery": 1,
                                       "stop_reason": "cancelled"})  # fmt: skip
    await scheduler.run_burst()
    got = texts(deliverer, "Agent-1")
    assert len(got) == 3 and "a note from the person" in got[2]


async def test_a_permission_request_holds_the_next_prompt_too(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    scheduler = Scheduler(service, deliverer)
    await journal(service, "Agent-2", {"type": "turn", "delivery": 0, "chars": 5, "text": "x"},
                  {"type": "permission", "request": "s-1#1", "delivery": 0, "title": "rm x",
                   "kind": "execute", "tool": {}, "options": [
                       {"id": "allow", "name": "Allow", "kind": "allow_once"}]})  # fmt: skip
    task = await service.tasks.create(TaskSpec("next", agent="Agent-2"), "me")
    await scheduler.run_burst()
    assert deliverer.for_agent("Agent-2") == []
    await journal(service, "Agent-2", {"type": "permission_done", "request": "s-1#1",
                                       "option": "allow"},
                  {"type": "turn_end", "delivery": 0, "stop_reason": "end_turn"})  # fmt: skip
    await scheduler.run_burst()
    assert [p.task_id for p in deliverer.for_agent("Agent-2")] == [task.id]
