"""A protocol agent whose saved session its CLI could not load (a ``desktop up`` after its
files went, Gemini CLI's ``session/load`` refused) is a "Needs you" item saying what was
lost (issue 64, item 10; before: one line in an event), cleared once the agent took a turn in
its new session. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from core.service.swarm import SwarmService
from tests.agents.protocol_journal import AGENT, numbered, record, started

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


async def test_a_lost_session_is_an_item_until_the_agent_works_in_the_new_one(
    service: SwarmService,
) -> None:
    task, delivery = await started(service)
    await record(service, numbered([
        {"type": "session", "session": "s-2", "loaded": False, "lost": "s-1"},
        {"type": "ready", "session": "s-2", "pid": 1, "lost": "s-1"},
    ]))  # fmt: skip
    (item,) = [n for n in await service.inbox.needs() if n.kind == "alert"]
    assert item.agent == AGENT and item.extra["alert"] == "session-lost"
    assert "saved session s-1 could not be loaded" in item.text
    assert item.text == (
        f"{AGENT}'s saved session s-1 could not be loaded: its new session s-2 starts without "
        f"that conversation, so {AGENT} does not remember T-{task}, the task it holds: tell it "
        f"what it needs (swarm send {AGENT} ...), or reassign or cancel its task"
    )
    await record(service, numbered([
        {"type": "session", "session": "s-2", "loaded": False, "lost": "s-1"},
        {"type": "ready", "session": "s-2", "pid": 1, "lost": "s-1"},
        {"type": "turn", "delivery": delivery, "chars": 2, "text": "go"},
        {"type": "turn_end", "delivery": delivery, "stop_reason": "end_turn"},
    ]))  # fmt: skip
    assert [n for n in await service.inbox.needs() if n.kind == "alert"] == []
