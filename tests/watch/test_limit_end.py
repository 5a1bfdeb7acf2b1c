"""Issue 41, item 2: a usage limit ends only when its reset time passes or the agent is seen
working on a task; never because its window changed on screen (re-placed, raised: swarm's
own doing as often as not), swarm restarted, or its hook answered swarm's own paste (real
store, manual clock, the watcher's tick on scripted frames)."""

from __future__ import annotations

import json

import pytest

from core.agent_state import AgentState, Observation, Signal
from core.agents import _hook_events as hook_events
from core.agents import _signals as agent_signals
from core.coordinator.jobs import Watcher
from core.formats.timetext import local_text
from core.models import TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.watch.stalls import freshness
from tests.watch.conftest import FakeFrames, watch_settings

pytestmark = pytest.mark.both_databases

AGENT = "Agent-1"


async def state(service: SwarmService) -> str:
    return str((await service.explain_agent(AGENT))["state"])


async def hook(service: SwarmService, name: str) -> None:
    """``AGENT``'s hook reports ``name`` (as ``swarm hook`` would)."""
    fresh = freshness(service.ctx("hook"), watch_settings(interval_s=1.0))
    event = hook_events.parse(json.dumps({"hook_event_name": name, "session_id": "s"}))
    await service.store.write(AGENT, hook_events.record, AGENT, event, fresh, False)


async def test_a_limit_outlasts_screen_changes_a_restart_and_the_hooks_echo(
    service: SwarmService, clock: ManualClock
) -> None:
    """Before: the first change of the window's picture (a re-placed window) read as work
    and ended the limit an hour early."""
    frames = FakeFrames()
    frames.frames[AGENT] = bytes(64)
    watcher = Watcher(service, watch_settings(interval_s=1.0), frames)
    await watcher.tick()  # the first frame
    limit = Observation(
        AGENT, Signal.TEXT, AgentState.LIMITED, clock.now(), "text: usage limit",
        until=clock.now() + 3600,
    )  # fmt: skip
    await service.store.update(agent_signals.record, limit)
    clock.advance(1)
    await watcher.tick()
    assert await state(service) == "limited"
    for _ in range(3):  # the window is moved and resized: its picture changes
        clock.advance(5)
        frames.change(AGENT)
        await watcher.tick()
        assert await state(service) == "limited"
    clock.advance(5)
    await hook(service, "UserPromptSubmit")  # its hook saw a paste of swarm's
    await watcher.tick()
    assert await state(service) == "limited"
    restarted = Watcher(service, watch_settings(interval_s=1.0), frames)
    frames.change(AGENT)  # the picture after the restart differs again
    clock.advance(5)
    await restarted.tick()
    clock.advance(5)
    await restarted.tick()
    assert await state(service) == "limited"
    clock.advance(5)
    await hook(service, "PreToolUse")  # the agent works (a tool call): the limit is over
    await restarted.tick()
    assert await state(service) == "working"
    kinds = [
        e.kind for e in await service.history.events(limit=200) if e.kind.startswith("agent.limit")
    ]
    assert sorted(kinds) == ["agent.limit_ended", "agent.limited"]


async def test_a_reset_days_away_shows_its_date_wherever_the_limit_is_said(
    service: SwarmService, clock: ManualClock
) -> None:
    """Issue 41, item 2 (already so since issue 40, item 9; this holds it for every place
    item 2 shows a limit): the post, the agent's evidence, "Needs you" and the handoff's
    reason say the date of a reset three days away, not only its time."""
    held = await service.tasks.create(TaskSpec("Fix the build"), "cli")
    await service.queue.assign_batch()
    holder = (await service.tasks.get(held.id)).agent
    assert holder is not None
    reset = clock.now() + 3 * 86400 + 7200
    limit = Observation(
        holder, Signal.TEXT, AgentState.LIMITED, clock.now(), "text: usage limit", until=reset
    )
    await service.store.update(agent_signals.record, limit)
    dated = local_text(reset)  # 2026-11-28 14:00:00
    (need,) = await service.inbox.needs()
    assert f"limited until {dated}" in need.text
    watcher = Watcher(service, watch_settings(interval_s=1.0, limit_handoff_s=0.0), FakeFrames())
    clock.advance(1)
    assert (await watcher.tick()).handed_on == [held.id]
    (posted,) = [e for e in await service.history.events(limit=100) if e.kind == "agent.limited"]
    assert f"until {dated}:" in posted.text
    assert f"until {dated})" in (await service.explain_agent(holder))["evidence"]
    assert f"{holder} is limited until {dated}: handed on" in (
        (await service.tasks.get(held.id)).reason or ""
    )
