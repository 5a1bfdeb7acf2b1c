"""The watch tick judges every agent from one read of each table (``judge_all``): each
agent's verdict is the one judging it alone gives (a working stream, an open permission
prompt, an open question, a limit, nothing seen), and an agent whose rows cannot be read
(a prompt whose options are not JSON) is left out with why,
the others judged all the same. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from core.agent_state import AgentState, Observation, Signal
from core.agents import _judge as agent_judge
from core.agents import _signals as agent_signals
from core.dialogs import prompt_queries
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.store.conn import Conn
from tests.watch.conftest import assign

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


def seen(agent: str, state: AgentState, now: float, until: float | None = None) -> Observation:
    return Observation(agent, Signal.PROTOCOL, state, now, f"protocol: {state.value}", until)


def prompt(conn: Conn, agent: str, options: str, now: float) -> int:
    row = (agent, None, "protocol", "permission", "run x", options, None, now,
           None, None, None, None, None)  # fmt: skip
    return prompt_queries.insert(conn, row)


async def test_every_agent_judged_at_once_as_each_alone(
    service: SwarmService, clock: ManualClock
) -> None:
    now = clock.now()
    for obs in (
        seen("Agent-1", AgentState.WORKING, now),
        seen("Agent-2", AgentState.WORKING, now),
        seen("Agent-3", AgentState.WORKING, now),
        seen("Agent-4", AgentState.LIMITED, now, until=now + 600),
        seen("Agent-6", AgentState.WORKING, now),
    ):
        await service.store.update(agent_signals.record, obs)
    allow = json.dumps([{"key": "1", "label": "Allow"}])
    await service.store.update(prompt, "Agent-2", allow, now)
    task = await assign(service, "Agent-3")
    await service.questions.ask(task, "Which branch?", "Agent-3")
    await service.store.update(prompt, "Agent-6", "{not json", now)
    fresh = agent_judge.Freshness()
    agents = [f"Agent-{n}" for n in range(1, 7)]
    verdicts, unjudged = await service.store.read(agent_judge.judge_all, agents, clock.now(), fresh)
    assert set(unjudged) == {"Agent-6"} and "JSONDecodeError" in unjudged["Agent-6"]
    for agent in set(agents) - {"Agent-6"}:
        alone = await service.store.read(agent_judge.judge, agent, clock.now(), fresh)
        assert verdicts[agent] == alone, agent
    states = {a: v.state for a, v in verdicts.items()}
    assert states == {
        "Agent-1": AgentState.WORKING,
        "Agent-2": AgentState.WAITING,
        "Agent-3": AgentState.WAITING,
        "Agent-4": AgentState.LIMITED,
        "Agent-5": AgentState.UNKNOWN,
    }
    assert "prompt" in verdicts["Agent-2"].evidence
    assert "Which branch?" in verdicts["Agent-3"].evidence
