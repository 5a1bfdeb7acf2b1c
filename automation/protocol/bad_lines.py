"""What an agent wrote that its protocol cannot take, journaled as ``agent_error`` entries at
most one each ``BAD_LINE_S`` (with how many came since the last said), so a flood of them
neither floods the journal nor goes unsaid."""

from __future__ import annotations

import asyncio
import logging
import time

from automation.protocol.journal import Journal
from core.hosts.entries import AgentError
from core.waits import Background

log = logging.getLogger(__name__)
BAD_LINE_S = 1.0  # a line the agent wrote that cannot be taken: journaled at most this often


class BadLines:
    """One agent's bad lines: the first said at once, those held back within the second
    said once it is over, the last of them named, so none is only counted and never said."""

    def __init__(self, agent: str, journal: Journal) -> None:
        self.agent, self.journal = agent, journal
        self.count = 0  # lines the agent wrote that were not said yet
        self._next = 0.0
        self._last = ""
        self._flush: asyncio.Task[None] | None = None
        self._later = Background(f"bad lines of {agent}")

    def said(self, why: str) -> None:
        """One more bad line (``why``: what, in words): journaled and logged, or held back
        until the second is over."""
        self.count += 1
        self._last = why
        now = time.monotonic()
        if now < self._next:
            if self._flush is None or self._flush.done():
                self._flush = self._later.start(
                    self._say_later(self._next - now), name="bad-lines-later"
                )
            return
        self._next = now + BAD_LINE_S
        self._journal()

    async def _say_later(self, wait: float) -> None:
        await asyncio.sleep(wait)
        if self.count:
            self._next = time.monotonic() + BAD_LINE_S
            self._journal()

    def _journal(self) -> None:
        why = self._last
        log.warning("host %s: the agent wrote %s (%d line(s))", self.agent, why, self.count)
        self.journal.add(AgentError(message=f"the agent wrote {why}", lines=self.count))
        self.count = 0
