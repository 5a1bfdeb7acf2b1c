"""A protocol agent's stream is judged when it says something new, not at every update: a
stream's next chunk that repeats what its decided state already says is recorded (its time
keeps the protocol signal fresh) without judging the agent again (issue 50, item 8: the
node's CPU per agent). What would change the decision is still judged at once: a question
asked meanwhile, new words, and news after a stale verdict. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from core.agent_state import AgentState, Signal
from core.agents import _judge as agent_judge
from core.agents import _signals as agent_signals
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.agents.protocol_journal import AGENT, numbered, record, started

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]
TURN = {"type": "turn", "delivery": 1, "chars": 4, "text": "work"}
CHUNK = {"type": "update", "kind": "agent_message_chunk", "text": "more words "}
TOOL = {"type": "update", "kind": "tool_call", "title": "touch x", "status": "pending"}


class Judged:
    """Counts the judgements of the agent (``agent_judge.judge``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = agent_judge.judge

        def counted(*args: Any) -> agent_judge.Verdict:
            self.count += 1
            return real(*args)

        monkeypatch.setattr(agent_judge, "judge", counted)


def stream(first: int, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``entries`` numbered on from ``first``."""
    return [{**e, "seq": e["seq"] + first - 1} for e in numbered(entries)]


async def state(service: SwarmService) -> agent_signals.StateRow:
    return await service.store.read(agent_signals.get_state, AGENT)


async def test_a_streams_repeated_update_is_recorded_not_judged_again(
    service: SwarmService, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await started(service)
    await record(service, stream(1, [TURN, CHUNK]))
    decided = await state(service)
    assert (decided.state, decided.signal) == (AgentState.WORKING, Signal.PROTOCOL)
    judged = Judged(monkeypatch)
    clock.advance(2.0)
    await record(service, stream(3, [CHUNK, CHUNK]))
    assert judged.count == 0
    seen = await service.store.read(agent_signals.observations, [AGENT])
    assert seen[AGENT][Signal.PROTOCOL].at == clock.now()  # the signal kept fresh
    assert await state(service) == decided
    await record(service, stream(5, [TOOL]))  # new words: judged
    assert judged.count == 1
    assert (await state(service)).evidence == "protocol: tool call touch x (pending)"


async def test_a_question_asked_mid_stream_makes_the_agent_waiting_at_its_next_update(
    service: SwarmService, clock: ManualClock
) -> None:
    task, _ = await started(service)
    await record(service, stream(1, [TURN, CHUNK]))
    await service.questions.ask(task, "Which branch?", AGENT)
    clock.advance(1.0)
    await record(service, stream(3, [CHUNK]))
    decided = await state(service)
    assert decided.state is AgentState.WAITING
    assert "Which branch?" in decided.evidence


async def test_the_stream_after_a_stale_verdict_is_judged_working_again(
    service: SwarmService, clock: ManualClock
) -> None:
    await started(service)
    await record(service, stream(1, [TURN, CHUNK]))
    clock.advance(3600.0)  # no news for an hour: the watch tick judges it unknown
    fresh = agent_judge.Freshness()
    verdict = await service.store.read(agent_judge.judge, AGENT, clock.now(), fresh)
    assert verdict.state is AgentState.UNKNOWN

    def apply(conn: Any, ctx: Any) -> bool:
        return agent_judge.apply(conn, ctx, AGENT, verdict)

    assert await service.store.write("test", apply)
    await record(service, stream(3, [CHUNK]))
    decided = await state(service)
    assert (decided.state, decided.evidence) == (AgentState.WORKING, "protocol: answering")
