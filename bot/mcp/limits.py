"""How much of the dashboard's port the agents' ``/mcp`` calls may hold at once.

A call to ``/mcp`` holds its connection until the tool returns (the transport answers each
POST whole), and ``ask_human`` with ``wait_s`` holds it up to 600 s: one agent's calls could
take every connection of the dashboard (``SWARM_WEB_MAX_CONNECTIONS``), and the person would
get 503. So each agent (all its tokens together) may have at most ``calls`` requests in
progress on ``/mcp`` and ``waits`` of them waiting for an answer, and all agents together at
most ``total`` requests (half the dashboard's connections): the rest stays for people.
Beyond a limit a call is refused at once, in one line the MCP client shows.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator

from core.errors import InvalidState


class McpBusy(InvalidState):
    """A call beyond the limits of ``/mcp``: refused at once, nothing done."""


class CallLimits:
    """Counters of the ``/mcp`` requests in progress and the answers waited for, by agent."""

    def __init__(self, calls: int, waits: int, total: int) -> None:
        self.calls = calls
        self.waits = waits
        self.total = total
        self._calls: Counter[str] = Counter()
        self._waits: Counter[str] = Counter()

    @contextlib.contextmanager
    def call(self, agent: str) -> Iterator[None]:
        """One request of ``agent`` in progress; McpBusy beyond ``calls`` or ``total``."""
        if self._calls[agent] >= self.calls:
            raise McpBusy(
                f"{agent} has {self._calls[agent]} calls to /mcp in progress, the most one "
                "agent may (SWARM_MCP_MAX_CALLS): wait for one to finish"
            )
        if self._calls.total() >= self.total:
            raise McpBusy(
                f"the agents have {self._calls.total()} calls to /mcp in progress, the most "
                "the dashboard gives them (half its connections): try again shortly"
            )
        with _counted(self._calls, agent):
            yield

    @contextlib.contextmanager
    def waiting(self, agent: str) -> Iterator[None]:
        """``agent`` waits for an answer in its call; McpBusy beyond ``waits``."""
        if self._waits[agent] >= self.waits:
            raise McpBusy(
                f"{agent} already waits for {self._waits[agent]} answers, the most one agent "
                "may (SWARM_MCP_MAX_WAITS): nothing asked; ask with wait_s=0 and the answer "
                "comes to you like any message"
            )
        with _counted(self._waits, agent):
            yield


@contextlib.contextmanager
def _counted(counter: Counter[str], key: str) -> Iterator[None]:
    counter[key] += 1
    try:
        yield
    finally:
        counter[key] -= 1
        if counter[key] <= 0:
            del counter[key]
