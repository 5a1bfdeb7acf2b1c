"""The one count of what happened to tasks and deliveries over a period: ``swarm stats``, the
dashboard's charts, the period summary and a campaign's history all read :func:`count`, so
they agree.

What is counted is what happened (the ``events`` of each kind), not the tasks' states now:
a task done, reopened by a review and done again counts two ``done`` and one ``reopened``;
a lease that ran out counts one ``lease_expired`` and then one ``requeued`` when the task
went back to the queue (or one ``failed`` when its attempts were used up); a person's
requeue or a limit's hand-on counts ``requeued`` alone. One exception: a failure that a
person's retry took back, after which the task was done, is no failure (the task ended done:
it counts ``retried`` and ``done``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.event_kinds import EventKind
from core.history import event_queries
from core.store.conn import Conn

HOUR = 3600
FOREVER = 1e18  # "until" of a count over all time
COUNTED: dict[str, EventKind] = {  # name -> the kind of event counted
    "created": EventKind.TASK_CREATED,
    "done": EventKind.TASK_DONE,
    "failed": EventKind.TASK_FAILED,
    "cancelled": EventKind.TASK_CANCELLED,
    "reopened": EventKind.TASK_REOPENED,
    "requeued": EventKind.TASK_REQUEUED,
    "lease_expired": EventKind.TASK_LEASE_EXPIRED,
    "retried": EventKind.TASK_RETRIED,
    "delivered": EventKind.DELIVERY_DELIVERED,
    "delivery_failed": EventKind.DELIVERY_FAILED,
}
NAMES = tuple(COUNTED)
_BY_KIND = {kind.value: name for name, kind in COUNTED.items()}
TASK_NAMES = ("done", "failed", "cancelled", "reopened", "requeued", "lease_expired", "retried")


def zero() -> dict[str, int]:
    """Every count at 0."""
    return dict.fromkeys(NAMES, 0)


@dataclass(frozen=True)
class Counts:
    """What happened in ``[since, until]``: in all, per agent (the agent of each event:
    the task's holder, the delivery's agent) and per hour (hour start, epoch seconds)."""

    since: float
    until: float
    total: dict[str, int] = field(default_factory=zero)
    per_agent: dict[str, dict[str, int]] = field(default_factory=dict)
    per_hour: dict[int, dict[str, int]] = field(default_factory=dict)

    def agent(self, agent: str) -> dict[str, int]:
        """One agent's counts (every name, 0 when nothing happened)."""
        return self.per_agent.get(agent) or zero()

    def to_json(self) -> dict[str, Any]:
        """The totals and the per-agent counts."""
        return {"total": dict(self.total), "per_agent": dict(self.per_agent)}


def count(
    conn: Conn, since: float, until: float = FOREVER, campaign_id: int | None = None
) -> Counts:
    """Count the events of ``COUNTED`` with ``since <= ts <= until`` (``campaign_id``: only
    those of the campaign's tasks)."""
    rows = event_queries.event_counts(conn, since, until, sorted(_BY_KIND), campaign_id)
    found = Counts(since, until)
    for kind, agent, hour, n in rows:
        name = _BY_KIND[kind]
        found.total[name] += int(n)
        found.per_hour.setdefault(int(hour) * HOUR, zero())[name] += int(n)
        if agent is not None:
            found.per_agent.setdefault(agent, zero())[name] += int(n)
    return found


def tasks_text(total: dict[str, int]) -> str:
    """``2 done, 1 failed, 1 cancelled, 1 reopened, 2 back in the queue, 1 lease expired,
    1 retried``: every task count, the zeros too (a reader sees that none happened)."""
    expired = total["lease_expired"]
    return ", ".join(
        [
            f"{total['done']} done",
            f"{total['failed']} failed",
            f"{total['cancelled']} cancelled",
            f"{total['reopened']} reopened",
            f"{total['requeued']} back in the queue",
            f"{expired} lease{'' if expired == 1 else 's'} expired",
            f"{total['retried']} retried",
        ]
    )


def deliveries_text(total: dict[str, int]) -> str:
    """``4 delivered, 1 failed``."""
    return f"{total['delivered']} delivered, {total['delivery_failed']} failed"
