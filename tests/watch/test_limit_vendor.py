"""Issue 41, item 2: a limited agent's task handed on goes first to an agent of another CLI
vendor (a vendor's usage limit likely holds that vendor's other agents too), and to the same
vendor's agent only when no other can take it (real store, manual clock)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from core.agent_state import AgentState, Observation, Signal
from core.agents import _signals as agent_signals
from core.coordinator.jobs import Watcher
from core.models import TaskSpec, TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.watch.conftest import FakeFrames, watch_settings

pytestmark = pytest.mark.both_databases

CLIS = {"Agent-1": "claude-code", "Agent-2": "claude-code", "Agent-3": "codex"}


async def three_agents(
    service: SwarmService, tmp_path: Path, accounts: dict[str, str] | None = None
) -> None:
    """Agent-1 and Agent-2 run Claude Code, Agent-3 Codex (``accounts``: named ones); the
    others leave."""
    named = accounts or {}
    kept = [
        dataclasses.replace(service.agents[agent], cli=cli, account=named.get(agent))
        for agent, cli in CLIS.items()
    ]
    await service.replace_agents(kept, tmp_path / "agents.toml")


async def hand_on_from_agent_1(service: SwarmService, clock: ManualClock) -> str | None:
    """Agent-1 takes a task, shows a usage limit, and the watcher hands the task on at
    once (SWARM_LIMIT_HANDOFF=0); the agent that takes it next."""
    task = await service.tasks.create(TaskSpec("anyone's work"), "test")
    await service.queue.assign_batch()
    assert (await service.tasks.get(task.id)).agent == "Agent-1"  # the first in the file
    limit = Observation(
        "Agent-1",
        Signal.TEXT,
        AgentState.LIMITED,
        clock.now(),
        "text: usage limit",
        until=clock.now() + 3600,
    )
    await service.store.update(agent_signals.record, limit)
    watcher = Watcher(service, watch_settings(interval_s=1.0, limit_handoff_s=0.0), FakeFrames())
    clock.advance(1)
    assert (await watcher.tick()).handed_on == [task.id]
    assert (await service.tasks.get(task.id)).status is TaskStatus.ready
    await service.queue.assign_batch()
    return (await service.tasks.get(task.id)).agent


async def test_a_task_handed_on_from_a_limited_agent_goes_to_another_vendor_first(
    service: SwarmService, clock: ManualClock, tmp_path: Path
) -> None:
    """Before: Agent-2 (Claude Code, like the limited Agent-1) took it, first in the file."""
    await three_agents(service, tmp_path)
    assert await hand_on_from_agent_1(service, clock) == "Agent-3"


async def test_the_same_vendor_takes_it_when_no_other_can(
    service: SwarmService, clock: ManualClock, tmp_path: Path
) -> None:
    """Agent-2 runs on another account (issue 51: an account's limit holds all its agents)."""
    await three_agents(service, tmp_path, {"Agent-2": "second-key"})
    await service.roster.set_paused("Agent-3", True, "test")  # the only other vendor
    assert await hand_on_from_agent_1(service, clock) == "Agent-2"


async def test_an_agent_of_the_limited_account_does_not_take_it(
    service: SwarmService, clock: ManualClock, tmp_path: Path
) -> None:
    """Issue 51: Agent-2 shares Agent-1's account (the same CLI, no credential seen: the
    CLI's default login): its breaker holds it, and the task waits."""
    await three_agents(service, tmp_path)
    await service.roster.set_paused("Agent-3", True, "test")
    assert await hand_on_from_agent_1(service, clock) is None
