"""Waiting: with a time limit without losing a cancellation, and between tries.

On Python 3.11 ``asyncio.wait_for`` swallows a cancellation that arrives as the awaited
thing finishes: the caller's loop then outlives the stop (a scheduler going on after losing
its lock, a coordinator that never exits). ``asyncio.timeout`` does not.

Every retry loop waits the same way between tries: an ``ErrorBackoff`` (the first wait
doubled per failure in a row after the first, capped), counting the failures itself
(``failed``, ``succeeded``) or told a count kept elsewhere (``delay``: a task's attempts).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class ErrorBackoff:
    """How long a failing step waits before its next try: ``first_s`` doubled per failure
    in a row after the first, at most ``max_s``."""

    def __init__(self, first_s: float, max_s: float) -> None:
        self.first_s = first_s
        self.max_s = max_s
        self.failures = 0

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` in a row (no failure yet counts as one)."""
        return min(self.max_s, self.first_s * 2.0 ** min(max(failures - 1, 0), 60))

    def failed(self) -> float:
        """Count one more failure in a row; the wait before the next try."""
        self.failures += 1
        return self.delay(self.failures)

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


class Gathered:
    """A call made at most once per ``delay_s``: :meth:`soon` asks for it, and the asks
    that come before it runs are the same call (a burst of notifications, a stream's
    updates: one wake-up after them, none lost). Used from the event loop."""

    def __init__(self, delay_s: float, call: Callable[[], None]) -> None:
        self.delay_s = delay_s
        self.call = call
        self._planned: asyncio.TimerHandle | None = None

    def soon(self) -> None:
        """The call ``delay_s`` from now, unless one is planned already."""
        if self._planned is None:
            self._planned = asyncio.get_running_loop().call_later(self.delay_s, self._run)

    def cancel(self) -> None:
        """Drop the planned call, if any."""
        if self._planned is not None:
            self._planned.cancel()
            self._planned = None

    def _run(self) -> None:
        self._planned = None
        self.call()
