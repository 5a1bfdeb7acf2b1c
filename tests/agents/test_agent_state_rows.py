"""The rows behind agent state: observations per signal, the decided state, prompts."""

from __future__ import annotations

import pytest

from core.agent_state import AgentState, Observation, Signal
from core.agents import _signals as agent_signals
from core.dialogs import permissions as prompts
from core.errors import InvalidInput, InvalidState
from core.models import PromptOption
from core.service.swarm import SwarmService

pytestmark = pytest.mark.both_databases

OPTIONS = (
    PromptOption("1", "Yes"),
    PromptOption("2", "Yes, and don't ask again"),
    PromptOption("3", "No"),
)


async def test_latest_observation_per_signal_replaces_the_last(service: SwarmService) -> None:
    first = Observation("Agent-1", Signal.HOOK, AgentState.WORKING, 10.0, "hook: PreToolUse")
    later = Observation(
        "Agent-1", Signal.HOOK, AgentState.LIMITED, 20.0, "hook: limit\x1b[2J", until=99.0
    )
    screen = Observation("Agent-1", Signal.SCREEN, AgentState.IDLE, 15.0, "screen: quiet")
    for obs in (first, later, screen):
        await service.store.update(agent_signals.record, obs)
    seen = await service.store.read(agent_signals.observations, None)
    hook = seen["Agent-1"][Signal.HOOK]
    assert (hook.state, hook.at, hook.until) == (AgentState.LIMITED, 20.0, 99.0)
    assert "\x1b" not in hook.evidence and "\\x1b" in hook.evidence
    assert seen["Agent-1"][Signal.SCREEN].state is AgentState.IDLE
    await service.store.update(agent_signals.forget, "Agent-1", Signal.SCREEN)
    assert set((await service.store.read(agent_signals.observations, ["Agent-1"]))["Agent-1"]) == {
        Signal.HOOK
    }


async def test_state_is_unknown_until_decided_and_an_event_marks_each_change(
    service: SwarmService,
) -> None:
    row = await service.store.read(agent_signals.get_state, "Agent-2")
    assert row.state is AgentState.UNKNOWN and row.since is None
    assert await service.store.update(
        agent_signals.set_state, "Agent-2", AgentState.WORKING, 5.0, Signal.HOOK, "hook: Start"
    )
    assert not await service.store.update(
        agent_signals.set_state, "Agent-2", AgentState.WORKING, 9.0, Signal.TEXT, "text: spin"
    )
    row = await service.store.read(agent_signals.get_state, "Agent-2")
    assert (row.state, row.since, row.signal, row.evidence) == (
        AgentState.WORKING,
        5.0,
        Signal.TEXT,
        "text: spin",
    )
    kinds = [e.kind for e in await service.history.events() if e.agent == "Agent-2"]
    assert kinds.count("agent.state") == 1


async def test_a_prompt_is_decided_once_and_names_who_decided(service: SwarmService) -> None:
    opened = await service.store.write(
        "hook", prompts.open_prompt, "Agent-3", Signal.HOOK, "Allow Bash(rm -rf build)?", OPTIONS
    )
    again = await service.store.write(
        "hook", prompts.open_prompt, "Agent-3", Signal.HOOK, "Allow Bash(rm -rf build)?", OPTIONS
    )
    assert again.id == opened.id
    with pytest.raises(InvalidInput, match="choose one of 1, 2, 3"):
        await service.store.write("discord:ann", prompts.decide, opened.id, "9")
    decided = await service.store.write("discord:ann", prompts.decide, opened.id, "3")
    assert (decided.decision, decided.decided_by, decided.open) == ("3", "discord:ann", False)
    for key in ("1", "9"):  # a late press, whatever its option, hears who decided
        with pytest.raises(InvalidState, match="already answered '3' by discord:ann"):
            await service.store.write("discord:bob", prompts.decide, opened.id, key)
    assert await service.store.read(prompts.open_prompts, None) == []
    other = await service.store.write(
        "watch", prompts.open_prompt, "Agent-4", Signal.TEXT, "Proceed?", OPTIONS[:1]
    )
    closed = await service.store.write("watch", prompts.close, other.id, "the prompt left the pane")
    assert closed.closed_why == "the prompt left the pane" and not closed.open
    kinds = [e.kind for e in await service.history.events() if e.kind.startswith("prompt.")]
    assert kinds == ["prompt.opened", "prompt.decided", "prompt.opened", "prompt.closed"]


async def test_a_later_idle_reading_keeps_when_the_signal_last_saw_work(
    service: SwarmService,
) -> None:
    readings = (
        Observation("Agent-1", Signal.TEXT, AgentState.WORKING, 10.0, "text: esc to interrupt"),
        Observation("Agent-1", Signal.TEXT, AgentState.IDLE, 20.0, "text: prompt"),
        Observation("Agent-2", Signal.HOOK, AgentState.IDLE, 30.0, "hook: Stop"),
    )
    for obs in readings:
        await service.store.update(agent_signals.record, obs)
    assert await service.store.read(agent_signals.active_times) == {"Agent-1": {Signal.TEXT: 10.0}}
    seen = await service.store.read(agent_signals.observations, ["Agent-1"])
    assert seen["Agent-1"][Signal.TEXT].state is AgentState.IDLE
