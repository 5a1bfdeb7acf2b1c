"""Issue 66, item 6: an API retry time a protocol agent says (a 429's ``retry_delay_ms``) is
held within 0 and ``RETRY_MAX_S`` (6 h): a negative one ends the limit at once, an absurd one
holds it 6 h (before: either was taken as no time said, ``SWARM_LIMIT_BACKOFF``'s 30 min
after the turn went through; one of 5 days held the agent 5 days). A usage limit's reset
time in the past ends it at once too (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from core.agent_state import RETRY_MAX_S, AgentState, believable_until, retry_at
from core.agents import _judge as judge
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.agents.protocol_journal import AGENT, record, started
from tests.agents.test_protocol_retries import retry, state

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


async def limit_after_a_retry_and_a_turn(
    service: SwarmService, clock: ManualClock, wait_ms: float
) -> judge.HeldLimit | None:
    """The limit held after a 429 retried in ``wait_ms`` and the turn that then went through."""
    _, delivery = await started(service)
    await record(service, [retry(clock.now(), 1, 429, wait_ms, error="rate_limit")])
    clock.advance(5)
    end = {"seq": 2, "at": clock.now(), "type": "turn_end", "delivery": delivery,
           "stop_reason": "end_turn"}  # fmt: skip
    await record(service, [end])
    return (await service.store.read(judge.held_limits)).get(AGENT)


async def test_a_negative_retry_time_holds_no_limit_after_the_turn(
    service: SwarmService, clock: ManualClock
) -> None:
    assert await limit_after_a_retry_and_a_turn(service, clock, -5_000) is None
    assert (await state(service)).state is AgentState.IDLE


@pytest.mark.parametrize("wait_ms", [1e12, 5 * 24 * 3600 * 1000.0])
async def test_an_absurd_retry_time_holds_six_hours_at_most(
    service: SwarmService, clock: ManualClock, wait_ms: float
) -> None:
    now = clock.now()
    held = await limit_after_a_retry_and_a_turn(service, clock, wait_ms)
    assert held is not None and held.until == pytest.approx(now + RETRY_MAX_S)


def test_the_bounds() -> None:
    assert retry_at(100.0, -3.0) == 100.0 and retry_at(100.0, 40.0) == 140.0
    assert retry_at(100.0, float("inf")) == retry_at(100.0, float("nan")) == 100.0 + RETRY_MAX_S
    assert believable_until(50.0, 100.0) == 100.0  # a reset in the past: over now
    assert believable_until(float("inf"), 100.0) is None
