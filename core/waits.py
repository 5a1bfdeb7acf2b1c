"""Waiting with a time limit without losing a cancellation.

On Python 3.11 ``asyncio.wait_for`` swallows a cancellation that arrives as the awaited
thing finishes: the caller's loop then outlives the stop (a scheduler going on after losing
its lock, a coordinator that never exits). ``asyncio.timeout`` does not.
"""

from __future__ import annotations

import asyncio


async def wait_set(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set or ``seconds`` pass; True if it was set."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
