"""Waiting for a condition on the server's recorded state, always with a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Changes:
    """Wakes waiters whenever the recorded state changes; waiters re-check their predicate."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.version = 0  # counts the changes: a poller compares it with the one it saw

    def notify(self) -> None:
        """Signal that something changed."""
        self.version += 1
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, probe: Callable[[], T | None], timeout_s: float, what: str) -> T:
        """Return the first truthy result of ``probe()``; TimeoutError after ``timeout_s``."""
        try:
            async with asyncio.timeout(timeout_s):
                while not (result := probe()):
                    await self._event.wait()
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout_s:.1f}s waiting for {what}") from None
        return result
