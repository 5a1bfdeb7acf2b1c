"""Issue 41, item 2: one Discord post per usage limit, not one per flap. A limit that returns
within the reset window already posted (the agent was seen working for a while between) is
``agent.limit_flapped``, which the notifier does not post (real store, manual clock, the
watcher's tick)."""

from __future__ import annotations

import pytest

from core.agent_state import AgentState, Observation, Signal
from core.agents import _signals as agent_signals
from core.coordinator.jobs import Watcher
from core.event_kinds import shown
from core.models import Event
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.watch.conftest import FakeFrames, watch_settings

pytestmark = pytest.mark.both_databases

LIMIT_KINDS = ("agent.limited", "agent.limit_ended", "agent.limit_flapped")


async def observe(
    service: SwarmService, clock: ManualClock, state: AgentState, until: float | None = None
) -> None:
    """Agent-7's hook sees it ``state`` now (``until``: a limit's reset)."""
    words = "hook: rate limit" if state is AgentState.LIMITED else "hook: PreToolUse"
    obs = Observation("Agent-7", Signal.HOOK, state, clock.now(), words, until=until)
    await service.store.update(agent_signals.record, obs)


async def limit_events(service: SwarmService) -> list[Event]:
    found = [e for e in await service.history.events(limit=500) if e.kind in LIMIT_KINDS]
    return sorted(found, key=lambda e: e.id)


async def test_a_limit_that_flaps_within_its_reset_window_is_posted_once(
    service: SwarmService, clock: ManualClock
) -> None:
    """Before: each return of the limit was a new ``agent.limited`` (one post per flap)."""
    watcher = Watcher(service, watch_settings(interval_s=1.0), FakeFrames())
    reset = clock.now() + 3600
    for _ in range(3):  # limited, then seen working a moment, then limited again: same reset
        await observe(service, clock, AgentState.LIMITED, until=reset)
        clock.advance(1)
        await watcher.tick()
        assert (await service.explain_agent("Agent-7"))["state"] == "limited"
        clock.advance(60)
        await observe(service, clock, AgentState.WORKING)
        clock.advance(1)
        await watcher.tick()
        assert (await service.explain_agent("Agent-7"))["state"] == "working"
    seen = await limit_events(service)
    assert [e.kind for e in seen] == [
        "agent.limited",
        "agent.limit_ended",
        *["agent.limit_flapped"] * 4,
    ]
    posted = [e for e in seen if shown(e.kind).posted]
    assert [e.kind for e in posted] == ["agent.limited", "agent.limit_ended"]
    assert "Agent-7 is limited again until" in seen[2].text

    clock.advance(3600)  # past the reset: a new limit is a new post
    await observe(service, clock, AgentState.LIMITED, until=clock.now() + 1800)
    clock.advance(1)
    await watcher.tick()
    assert (await limit_events(service))[-1].kind == "agent.limited"


async def test_a_limit_with_a_later_reset_is_a_new_limit_and_posted(
    service: SwarmService, clock: ManualClock
) -> None:
    """Within the window, but the screen now says a reset hours later (another limit, e.g.
    the weekly one): posted."""
    watcher = Watcher(service, watch_settings(interval_s=1.0), FakeFrames())
    await observe(service, clock, AgentState.LIMITED, until=clock.now() + 3600)
    clock.advance(1)
    await watcher.tick()
    clock.advance(60)
    await observe(service, clock, AgentState.WORKING)
    clock.advance(1)
    await watcher.tick()
    await observe(service, clock, AgentState.LIMITED, until=clock.now() + 5 * 3600)
    clock.advance(1)
    await watcher.tick()
    assert [e.kind for e in await limit_events(service)] == [
        "agent.limited",
        "agent.limit_ended",
        "agent.limited",
    ]
