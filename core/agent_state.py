"""What an agent is doing, and the evidence for it: the shared vocabulary of every signal.

Each signal (the agent's own hooks, its terminal's text, its screen, its CLI reports) turns
what it saw into an ``Observation``: a state, when, and the evidence in plain words. The
latest observation of each signal is kept per agent (``core.agents._signals``); the
watcher combines them, strongest signal first, into the agent's state. ``UNKNOWN`` is a real
answer: nothing here defaults to ``IDLE``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class AgentState(enum.StrEnum):
    """What an agent is doing."""

    IDLE = "idle"  # ready for work
    WORKING = "working"  # busy on its task
    WAITING = "waiting"  # for a human: a question, a permission prompt, a plan to approve
    LIMITED = "limited"  # a usage limit, until its reset time when one is known
    ERRORED = "errored"  # the agent shows an error
    STALLED = "stalled"  # holds a task and shows no work for too long
    OFFLINE = "offline"  # gone: its session ended, its window closed
    UNKNOWN = "unknown"  # no signal says


class Signal(enum.StrEnum):
    """Where an observation came from."""

    PROTOCOL = "protocol"  # the agent's own protocol (ACP): its turns, requests and errors
    HOOK = "hook"  # the agent's own hooks (Claude Code, Codex CLI)
    TEXT = "text"  # its terminal's text (a tmux pane)
    SCREEN = "screen"  # its window's pixels
    REPORT = "report"  # its CLI reports (task start, done, fail, ask)


SIGNAL_ORDER: tuple[Signal, ...] = (
    Signal.PROTOCOL, Signal.HOOK, Signal.TEXT, Signal.SCREEN, Signal.REPORT,
)  # fmt: skip
"""Signals, strongest first."""

LIMIT_MAX_S = 7 * 24 * 3600.0
"""The longest a usage limit holds an agent: a week (the agent CLIs' weekly limits). A reset
shown further away is taken as no reset shown (probed: ``core.agents._limit_probes``)."""


RETRY_MAX_S = 6 * 3600.0
"""The longest an API retry the agent says (a 429's ``retry_delay_ms``) holds it limited."""


def believable_until(until: float | None, at: float) -> float | None:
    """A usage limit's reset ``until``, seen at ``at``, if it can be believed: a finite time
    up to ``LIMIT_MAX_S`` after ``at`` (one before ``at``, by as much at most, is ``at``: the
    limit is over); None (no reset shown) otherwise."""
    if until is None or not math.isfinite(until - at) or abs(until - at) > LIMIT_MAX_S:
        return None
    return max(until, at)


def retry_at(at: float, wait_s: float) -> float:
    """When an API retry ``wait_s`` after ``at`` falls, within ``at`` and ``RETRY_MAX_S``
    after it (a negative wait: ``at``; an absurd one, or one that is no number: 6 h)."""
    if math.isnan(wait_s):
        return at + RETRY_MAX_S
    return at + min(max(wait_s, 0.0), RETRY_MAX_S)


@dataclass(frozen=True)
class Observation:
    """One signal's latest reading of one agent.

    ``evidence``: what was seen, in plain words ("hook: Stop", "text: 'esc to interrupt'",
    "screen: no change for 3 m 10 s (caret blinks ignored)"); ``until``: when a ``LIMITED``
    state ends, if the agent said; ``detail``: what a decision needs (a prompt's options);
    ``work``: a ``WORKING`` reading that is the agent's own progress (False: a prompt it was
    given was submitted, swarm's nudge as much as its task: no stall clock restarts on it).
    """

    agent: str
    signal: Signal
    state: AgentState
    at: float
    evidence: str
    until: float | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    work: bool = True

    def to_json(self) -> dict[str, Any]:
        """A plain dict (``swarm agents --json``, the dashboard)."""
        return {
            "signal": self.signal.value,
            "state": self.state.value,
            "at": self.at,
            "evidence": self.evidence,
            "until": self.until,
            "detail": dict(self.detail),
        }
