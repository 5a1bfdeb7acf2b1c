"""An account's breaker as its row (``account_breakers``) holds it, and its states."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OPEN, PROBING, CLOSED = "open", "probing", "closed"


@dataclass(frozen=True)
class Breaker:
    """One account's breaker: ``until`` when it may be probed; ``agent`` where the limit was
    first seen; ``moved``: tasks its agents could have taken that went to another account."""

    id: int
    account: str
    state: str
    opened_at: float
    until: float
    failures: int
    agent: str
    evidence: str
    probe_agent: str | None
    probe_task: int | None
    probe_at: float | None
    moved: int

    def half_open(self, now: float) -> bool:
        """Open and past its reset: the next task to one of its agents probes it."""
        return self.state == OPEN and now >= self.until

    def to_json(self) -> dict[str, Any]:
        """A plain dict (``swarm agents --json``, the dashboard, the inbox)."""
        return {
            "account": self.account,
            "state": self.state,
            "opened_at": self.opened_at,
            "until": self.until,
            "failures": self.failures,
            "agent": self.agent,
            "evidence": self.evidence,
            "probe_agent": self.probe_agent,
            "probe_task": self.probe_task,
            "moved": self.moved,
        }
