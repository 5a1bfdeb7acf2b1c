"""Waiting: with a time limit without losing a cancellation, and between tries.

On Python 3.11 ``asyncio.wait_for`` swallows a cancellation that arrives as the awaited
thing finishes: the caller's loop then outlives the stop (a scheduler going on after losing
its lock, a coordinator that never exits). ``asyncio.timeout`` does not.

Every retry loop waits the same way between tries: ``doubled`` (the first wait doubled per
failure after the first, capped), or ``ErrorBackoff`` counting the failures in a row.
"""

from __future__ import annotations

import asyncio


def doubled(first_s: float, failures: int, max_s: float) -> float:
    """``first_s`` doubled for each failure in a row after the first, at most ``max_s``
    (no failure yet counts as one)."""
    return min(max_s, first_s * 2.0 ** min(max(failures - 1, 0), 60))


class ErrorBackoff:
    """How long a failing step waits before its next try: ``first_s`` doubled per failure
    in a row, at most ``max_s``."""

    def __init__(self, first_s: float, max_s: float) -> None:
        self.first_s = first_s
        self.max_s = max_s
        self.failures = 0

    def failed(self) -> float:
        """Count one more failure in a row; the wait before the next try."""
        self.failures += 1
        return doubled(self.first_s, self.failures, self.max_s)

    def succeeded(self) -> None:
        """The streak is over."""
        self.failures = 0


async def wait_set(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set or ``seconds`` pass; True if it was set."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
