"""An entry of a host's journal that swarm cannot take in (here an answer whose text holds a
lone surrogate, which no database stores) costs nothing but itself: the watch takes the
batch in one entry at a time, the entry that fails alone is taken in as an error of the
agent's reading (its number kept, so it is not read again), and the entries around it are
taken in as they came."""

from __future__ import annotations

import pytest

from automation.protocol.watch import ProtocolWatch
from core.agent_state import AgentState
from core.agents import _queries as agent_queries
from core.agents import _signals as agent_signals
from core.agents._judge import Freshness
from core.hosts.entries import read
from core.service.swarm import SwarmService
from tests.agents.protocol_journal import AGENT, arrived, started
from tests.helpers import query

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


async def test_an_entry_that_cannot_be_taken_in_costs_only_itself(service: SwarmService) -> None:
    _, delivery = await started(service)
    watch = ProtocolWatch(service, Freshness())
    watch.pending[AGENT] = arrived([
        {"type": "turn", "delivery": delivery, "chars": 4, "text": "work"},
        {"type": "update", "kind": "agent_message_chunk", "text": "odd \ud800"},
        {"type": "update", "kind": "agent_message_chunk", "text": "done"},
        {"type": "turn_end", "delivery": delivery, "stop_reason": "end_turn"},
    ])  # fmt: skip
    assert await watch.fire() == 4
    _, cursor = await service.store.read(agent_queries.protocol_cursor, AGENT)
    assert cursor == 4
    state = await service.store.read(agent_signals.get_state, AGENT)
    assert state.state is AgentState.IDLE, state  # the turn's end taken in after it
    turns = query(service.settings, "SELECT text FROM events WHERE kind = 'agent.turn'")
    assert [row[0] for row in turns] == [f"{AGENT}'s turn ended: end_turn"]
    odd = {"seq": 5, "at": 2000.0, "type": "turn", "delivery": 9, "chars": 1, "text": "\ud800"}
    watch.pending[AGENT] = [read(odd)]
    assert await watch.fire() == 1
    _, cursor = await service.store.read(agent_queries.protocol_cursor, AGENT)
    assert cursor == 5
    state = await service.store.read(agent_signals.get_state, AGENT)
    assert state.state is AgentState.ERRORED
    assert "could not take in its host's turn entry 5: UnicodeEncodeError" in state.evidence
