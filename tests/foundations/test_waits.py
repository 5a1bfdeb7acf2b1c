"""core.waits: a stop that comes as the awaited event is set is never lost."""

from __future__ import annotations

import asyncio

import pytest

from core.waits import ErrorBackoff, wait_set


async def test_a_cancellation_as_the_event_is_set_is_not_swallowed() -> None:
    event = asyncio.Event()
    waiting = asyncio.create_task(wait_set(event, 10))
    await asyncio.sleep(0.01)
    event.set()  # the inner wait is done ...
    waiting.cancel()  # ... and the stop comes before the waiter resumes (wait_for loses it)
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_it_says_whether_the_event_was_set() -> None:
    event = asyncio.Event()
    assert await wait_set(event, 0.01) is False
    event.set()
    assert await wait_set(event, 10) is True


def test_every_retry_waits_the_one_doubling_way() -> None:
    """Issue 42, item 5: one backoff (``core.waits``), used by every retry loop."""
    waits = ErrorBackoff(0.5, 4.0)
    assert [waits.delay(n) for n in range(0, 6)] == [0.5, 0.5, 1.0, 2.0, 4.0, 4.0]
    assert ErrorBackoff(1.0, 60.0).delay(10**9) == 60.0  # a long streak never overflows
    backoff = ErrorBackoff(1.0, 8.0)
    assert [backoff.failed() for _ in range(5)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    backoff.succeeded()
    assert backoff.failed() == 1.0
