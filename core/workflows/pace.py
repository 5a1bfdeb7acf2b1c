"""How fast agents finish tasks lately: the basis of a campaign's estimated finish."""

from __future__ import annotations

import math
import statistics
from collections.abc import Collection
from dataclasses import dataclass

from core.store.conn import Conn
from core.tasks import queries as task_queries

WINDOW_S = 24 * 3600.0  # tasks finished in the last 24 hours count
MIN_SAMPLES = 3  # fewer recent tasks than this: the campaign's own pace is used
MAX_SAMPLES = 500


@dataclass(frozen=True)
class Pace:
    """Durations (start or assignment to done) of tasks the agents finished lately."""

    durations: tuple[float, ...]
    agents: tuple[str, ...]
    whose: str  # "its agents" or "the swarm's agents" (none of its tasks assigned yet)
    window_s: float = WINDOW_S

    @property
    def usable(self) -> bool:
        """Enough recent tasks to speak of a pace."""
        return len(self.durations) >= MIN_SAMPLES and bool(self.agents)

    @property
    def median_s(self) -> float:
        """The median duration of one task."""
        return statistics.median(self.durations)

    def remaining_s(self, left: int) -> float:
        """``left`` tasks shared by the agents, in rounds of one task each."""
        return math.ceil(left / len(self.agents)) * self.median_s

    def basis(self) -> str:
        """What the estimate stands on, in words."""
        hours = self.window_s / 3600
        count = len(self.agents)
        median = duration_text(self.median_s)
        return (
            f"at the recent pace of {self.whose}: median {median} per task over "
            f"{len(self.durations)} tasks done in the last {hours:.0f} h, "
            f"{count} agent{'' if count == 1 else 's'}"
        )


def recent_pace(
    conn: Conn, agents: Collection[str], now: float, window_s: float = WINDOW_S
) -> Pace:
    """The pace of ``agents`` (of every agent that finished a task lately when empty)."""
    rows = task_queries.recent_durations(conn, now - window_s, MAX_SAMPLES)
    wanted = set(agents)
    picked = [(a, max(0.0, float(d))) for a, d in rows if not wanted or a in wanted]
    if wanted:
        return Pace(tuple(d for _, d in picked), tuple(sorted(wanted)), "its agents", window_s)
    return Pace(
        tuple(d for _, d in picked),
        tuple(sorted({a for a, _ in picked})),
        "the swarm's agents",
        window_s,
    )


def duration_text(seconds: float) -> str:
    """``12m 30s`` or ``2h 05m``."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"
