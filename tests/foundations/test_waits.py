"""core.waits: a stop that comes as the awaited event is set is never lost."""

from __future__ import annotations

import asyncio

import pytest

from core.waits import wait_set


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
