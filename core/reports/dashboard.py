"""The dashboard's reads: filtered task pages, the board's columns, chart series.

Store functions of a ``Conn`` (run with ``Database.read``); the writes all go
through ``SwarmService``, like every other front end.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.delivery import queries as delivery_queries
from core.history import event_queries
from core.models import FINISHED, Priority, Task, TaskStatus
from core.reports import queries
from core.store.conn import Conn

BOARD_COLUMNS = tuple(TaskStatus)
PAGE_MAX = 500
HOUR = 3600.0


@dataclass(frozen=True)
class TaskFilter:
    """What a task list or the board shows: each field narrows it (None: any)."""

    status: TaskStatus | None = None
    agent: str | None = None
    role: str | None = None
    priority: Priority | None = None
    campaign: int | None = None
    text: str | None = None

    def match(self) -> queries.TaskMatch:
        """The parameters of the filter's statements (``queries.TASK_PAGE``): None for a
        field that narrows nothing."""
        pattern = number = None
        if self.text:
            digits = self.text.upper().removeprefix("T-")
            pattern = "%" + _escape_like(self.text) + "%"
            number = int(digits) if digits.isdigit() and len(digits) < 18 else -1
        return {
            "status_of": self.status and self.status.value,
            "role": self.role,
            "campaign": self.campaign,
            "priority": None if self.priority is None else int(self.priority),
            "agent": self.agent or None,
            "pattern": pattern,
            "number": number,
        }


def find_tasks(conn: Conn, flt: TaskFilter, before_id: int | None, limit: int) -> list[Task]:
    """Tasks matching ``flt`` with an id below ``before_id``, newest first."""
    return queries.task_rows(conn, flt.match(), before_id, min(limit, PAGE_MAX))


def board(
    conn: Conn, flt: TaskFilter, per_column: int, capped: Mapping[TaskStatus, int] | None = None
) -> list[tuple[TaskStatus, int, list[Task]]]:
    """Each status column: how many tasks match, and the first ``per_column`` of them (of
    a status in ``capped``, its number): open ones in queue order (priority, then oldest
    first: what the scheduler takes next), finished ones the latest finished first."""
    match = flt.match()
    counts = dict(queries.status_counts_where(conn, match))
    columns = []
    for status in BOARD_COLUMNS:
        if flt.status not in (None, status):
            continue
        shown: list[Task] = []
        if counts.get(status.value):
            limit = (capped or {}).get(status, per_column)
            shown = queries.column_rows(conn, match, status.value, status in FINISHED, limit)
        columns.append((status, int(counts.get(status.value, 0)), shown))
    return columns


def delivery_latency(conn: Conn, since: float, limit: int = 5000) -> dict[str, dict[str, float]]:
    """Per agent: p50/p90/p99 seconds from queued to delivered, over the newest ``limit``
    deliveries delivered since ``since`` (and ``n``, how many)."""
    samples: dict[str, list[float]] = {}
    for agent, seconds in delivery_queries.delivered_spans(conn, since, limit):
        samples.setdefault(agent, []).append(max(0.0, float(seconds)))
    return {agent: percentiles(values) for agent, values in sorted(samples.items())}


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """``n``, ``p50``, ``p90``, ``p99`` of ``values`` (at least one)."""
    if len(values) == 1:
        return {"n": 1, "p50": values[0], "p90": values[0], "p99": values[0]}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"n": len(values), "p50": cuts[49], "p90": cuts[89], "p99": cuts[98]}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class Snapshot:
    """The database's figures at one scrape."""

    tasks: dict[str, int]
    stalls: dict[str, int]
    nudges: dict[str, int]
    usage: list[tuple[str, int, int, float]]  # model, prompt, completion tokens, cost


def read_snapshot(conn: Conn) -> Snapshot:
    """Read every database figure in one trip."""
    tasks = {s.value: 0 for s in TaskStatus}
    tasks.update(queries.status_counts(conn))
    stalls = dict(queries.stalls_per_agent(conn))
    nudges = dict(event_queries.nudges_per_agent(conn))
    usage = [
        (r.model, r.prompt, r.completion, r.cost or 0.0) for r in queries.usage_per_model(conn)
    ]
    return Snapshot(tasks, stalls, nudges, usage)
