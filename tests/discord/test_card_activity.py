"""A protocol agent's activity on its task's card (issue 50, item 4), on the local Discord:
one status line, edited at most every ``activity_s``, never a message per chunk; the agent's
words as inline code (no markdown or mention of theirs takes effect); gone once the task is
done."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from core.agents import _hook_events as hook_events
from core.agents._judge import Freshness
from core.agents._service import SignalBook
from tests.agents.protocol_journal import journal, numbered, record, started
from tests.discord.conftest import World
from tests.discord.test_notifier import edited_to, has

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(90)]
ACTIVITY_S = 0.5  # the cards' status lines looked at this often (5 s in use)


async def test_a_card_shows_one_live_status_line_of_its_agent(world: World) -> None:
    server, service = world.server, world.service
    notifier = world.bot.notifier
    notifier.activity_s = ACTIVITY_S
    task, delivery = await started(service)
    card = await server.wait_for_message(has(f"**T-{task}**"), channel=world.channel)
    await edited_to(server, card, "in progress (Agent-1)")
    entries = journal(delivery)
    await record(service, entries[:7])
    await edited_to(server, card, "\n↳ `Agent-1 working: tool call touch x (pending)`")
    # a flood of chunks, 300 batches in about two seconds: a few edits, no new message
    edits = len(card.history)
    started_at = time.monotonic()
    chunk = {"type": "update", "kind": "agent_message_chunk", "text": "@everyone **bold** `x` "}
    flood = numbered([*entries[:7], *[chunk] * 300])
    for seq in range(8, len(flood) + 1):
        await record(service, flood[seq - 1 : seq])
        await asyncio.sleep(0.005)
    await edited_to(server, card, "↳ `Agent-1 working: says: …")
    await asyncio.sleep(notifier.activity_s * 1.5)  # the last look at the lines
    took = time.monotonic() - started_at
    assert len(card.history) - edits <= took / notifier.activity_s + 2
    assert "`Agent-1 working: says: …" in card.content and "ˋxˋ" in card.content
    assert card.content.count("`") == 2  # the agent's backticks cannot end the code span
    assert card.pings == set()  # @everyone in the agent's words notifies no one
    assert server.messages(world.channel) == [card]
    await service.tasks.complete(task, "Agent-1")
    done = await edited_to(server, card, "done by Agent-1")
    assert "↳" not in done.content


async def test_a_card_says_its_agents_state_as_swarm_agents_does(world: World) -> None:
    """Issue 53, item 3: a terminal agent's turn ended (its Stop hook) before it reported: the
    card says it is idle, as ``swarm agents`` does. Before: the card said "working
    (Agent-1)" while ``swarm agents`` and the dashboard said idle."""
    server, service = world.server, world.service
    world.bot.notifier.activity_s = ACTIVITY_S
    task, _delivery = await started(service)
    card = await server.wait_for_message(has(f"**T-{task}**"), channel=world.channel)
    stop = hook_events.parse(json.dumps({"hook_event_name": "Stop", "session_id": "s"}))
    await SignalBook(service.store).record_hook("Agent-1", stop, Freshness())
    shown = await edited_to(server, card, "\n↳ `Agent-1 idle: hook: Stop`")
    (row,) = [r for r in await service.roster.rows() if r["id"] == "Agent-1"]
    assert row["state"] == "idle"
    assert "in progress (Agent-1)" in shown.content and "working" not in shown.content
