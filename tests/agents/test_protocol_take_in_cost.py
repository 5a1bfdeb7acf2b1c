"""What a protocol journal's take-in reads of its agent, counted in statements by SQLite's own
trace callback (not timed): the agent's decided state and its observations once, in one
statement, at the take-in's start (issue 50, item 8: the node's CPU per agent), and the
judgement on them decides what a judgement reading the store would."""

from __future__ import annotations

import json
from typing import Any

from core.agent_state import AgentState, Signal
from core.agents import _signals as agent_signals
from core.agents._alerts import list_alerts
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.agents.protocol_journal import AGENT, HOST, numbered, record, started
from tests.tasks.test_hot_path import traced

TURN = {"type": "turn", "delivery": 1, "chars": 4, "text": "work"}
CHUNK = {"type": "update", "kind": "agent_message_chunk", "text": "more words "}
TOOL = {"type": "update", "kind": "tool_call", "title": "touch x", "status": "pending"}
END = {"type": "turn_end", "delivery": 1, "stop_reason": "end_turn"}


def _reads_of_the_agent(statements: list[str]) -> list[str]:
    """The statements that read the agent's decided state or its observations."""
    return [
        s
        for s in statements
        if s.startswith("SELECT") and ("FROM agent_signals" in s or "FROM agent_state" in s)
    ]


async def test_a_take_in_reads_the_agents_state_and_observations_once(
    service: SwarmService, clock: ManualClock
) -> None:
    await started(service)
    entries = numbered([TURN, CHUNK, TOOL])
    await record(service, entries[:2])
    clock.advance(1.0)
    async with traced(service) as trace:
        await record(service, entries[2:])  # new words: the agent is judged
    reads = _reads_of_the_agent(trace.statements)
    assert len(reads) == 1 and "LEFT JOIN agent_signals" in reads[0], reads
    decided = await service.store.read(agent_signals.get_state, AGENT)
    assert (decided.state, decided.signal, decided.evidence) == (
        AgentState.WORKING, Signal.PROTOCOL, "protocol: tool call touch x (pending)"
    )  # fmt: skip


async def test_a_whole_turn_in_one_take_in_is_judged_on_the_state_its_start_stored(
    service: SwarmService, clock: ManualClock
) -> None:
    """The turn's start is judged (working), then its end on the state that judgement
    stored (read again, not the one read at the take-in's start): idle since now, and the
    agent's state changed twice."""
    await started(service)
    await record(service, numbered([{"type": "session", "session": "s-1"}]))
    clock.advance(1.0)
    async with traced(service) as trace:
        await record(service, [{**e, "seq": e["seq"] + 1} for e in numbered([TURN, CHUNK, END])])
    assert len(_reads_of_the_agent(trace.statements)) == 2
    decided = await service.store.read(agent_signals.get_state, AGENT)
    assert (decided.state, decided.since) == (AgentState.IDLE, clock.now())
    changes = [
        s for s in trace.statements if s.startswith("INSERT INTO events") and "agent.state" in s
    ]
    assert len(changes) == 2, changes


async def test_a_take_in_beside_a_row_that_cannot_be_read_is_written_and_the_agent_unjudged(
    service: SwarmService, clock: ManualClock
) -> None:
    """A stored observation swarm cannot read (issue 40) is left out of the take-in's one
    read: the entries are written (the journal's cursor moves on) and the judgement reads
    the rows itself and says why it cannot judge the agent, as a judgement reading the
    store did."""
    await started(service)

    def plant(conn: Any) -> None:
        conn.execute(
            "INSERT INTO agent_signals (agent, signal, state, at, evidence) VALUES "
            "($1, 'text', 'exhausted', 1, 'text: ?')",
            (AGENT,),
        )

    await service.store.update(plant)
    assert await record(service, numbered([TURN, TOOL])) == 2
    seen = await service.store.read(agent_signals.observations, [AGENT], {})
    assert seen[AGENT][Signal.PROTOCOL].evidence == "protocol: tool call touch x (pending)"
    (alert,) = await service.store.read(list_alerts)
    assert alert.kind == "unjudged" and "swarm cannot judge Agent-1's state" in alert.text


async def test_entries_taken_in_before_are_skipped_beside_a_protocol_row_that_cannot_be_read(
    service: SwarmService,
) -> None:
    """The journal's cursor is in the protocol observation's detail: a row whose state swarm
    cannot read still says how far the journal was taken in, and what was is not taken in
    twice (a turn's end recorded twice would count its usage twice)."""
    await started(service)

    def plant(conn: Any) -> None:
        conn.execute(
            "INSERT INTO agent_signals (agent, signal, state, at, evidence, detail) VALUES "
            "($1, 'protocol', 'exhausted', 1, 'protocol: ?', $2)",
            (AGENT, json.dumps({"host": HOST, "seq": 2})),
        )

    await service.store.update(plant)
    assert await record(service, numbered([TURN, END, CHUNK])) == 3
    turns = [e for e in await service.history.events(limit=1000) if e.kind == "agent.turn"]
    assert turns == []
