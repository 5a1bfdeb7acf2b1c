"""Slack's 429s met by the notifier's posts: waited for (Retry-After), nothing dropped or
doubled."""

from __future__ import annotations

import pytest
from localslack import Limit, RateLimits

from core.models import TaskSpec
from tests.slack.conftest import TEST_RATE_LIMITS, World

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def limits() -> RateLimits:
    """chat.postMessage and chat.update at 3 a second: the cards meet a 429 (Slack's
    Retry-After is whole seconds: each 429 is waited for a second at least)."""
    slow = Limit(3, 1.0)
    return TEST_RATE_LIMITS.with_limit("chat.postMessage", slow).with_limit("chat.update", slow)


async def test_a_429_is_waited_for_nothing_dropped_or_doubled(world: World) -> None:
    server = world.server
    for n in range(6):
        await world.service.tasks.create(TaskSpec(f"job {n}"), "cli")
    await server.wait_for(lambda: len(server.top_level(world.channel)) >= 6, within_s=30)
    limited = [c for c in server.calls_to("chat.postMessage") if c.status == 429]
    assert limited, "the test's limit was never met"
    texts = [m.text for m in server.top_level(world.channel)]
    for n in range(1, 7):
        assert sum(f"*T-{n}*" in t for t in texts) == 1, texts
