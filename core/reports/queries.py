"""The read models' statements (``core.reports``: the dashboard, the stats, the summary,
the export): reads of every feature's tables, written by none (read models read across
owners; ``tests/project/test_named_queries.py``). Each is one named read."""

from __future__ import annotations

from typing import Any, NamedTuple

from core.models import Task
from core.store.conn import Conn, Cursor, sql, values
from core.tasks import TASK_COLUMNS, deps_of, row_to_task

DONE_SPANS = sql(
    "SELECT assignee, finished_at - COALESCE(assigned_at, created_at) AS span FROM tasks "
    "WHERE status = 'done' AND assignee IS NOT NULL AND finished_at >= :since AND "
    "finished_at <= :until"
)
STALLS_BETWEEN = sql(
    "SELECT agent_id, count(*) AS n FROM alerts WHERE kind = 'stalled' AND "
    "opened_at >= :since AND opened_at <= :until GROUP BY agent_id"
)
DONE_AVERAGES = sql(
    "SELECT AVG(finished_at - created_at) AS total, AVG(finished_at - COALESCE(started_at, "
    "assigned_at, created_at)) AS work FROM tasks WHERE status = 'done' AND "
    "finished_at >= :since AND finished_at <= :until"
)
BLOCKED_ROWS = sql(
    "SELECT id, title, reason FROM tasks WHERE status = 'blocked' "
    "ORDER BY priority DESC, id LIMIT :limit"
)
QUIET_ROWS = sql(
    "SELECT id, title, assignee, updated_at FROM tasks WHERE status = 'in_progress' AND "
    "updated_at < :before ORDER BY updated_at LIMIT :limit"
)
STATUS_COUNTS = sql("SELECT status, count(*) AS n FROM tasks GROUP BY status")
STALLS_PER_AGENT = sql(
    "SELECT agent_id, count(*) AS n FROM alerts WHERE kind = 'stalled' GROUP BY agent_id"
)
USAGE_PER_MODEL = sql(
    "SELECT model, sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion, "
    "sum(cost) AS cost FROM usage GROUP BY model"
)
AI_COST = sql(
    "SELECT COALESCE(SUM(cost), 0) AS cost FROM usage WHERE ts >= :since AND ts <= :until"
)
TASKS_AFTER = sql(f"SELECT {TASK_COLUMNS} FROM tasks WHERE id > :after_id ORDER BY id LIMIT :limit")

# A dashboard filter's conditions (``core.reports.dashboard.TaskFilter.match``): each
# parameter None matches any task. The CASTs tell PostgreSQL a parameter's type where it is
# first read. The filter's status is left out of a board column's statements, whose
# ``status`` is the column's: so they stay on ``tasks_by_status``.
_MATCH_BUT_STATUS = (
    "(CAST(:role AS TEXT) IS NULL OR role = :role) "
    "AND (CAST(:campaign AS BIGINT) IS NULL OR campaign_id = :campaign) "
    "AND (CAST(:priority AS INTEGER) IS NULL OR priority = :priority) "
    "AND (CAST(:agent AS TEXT) IS NULL OR assignee = :agent OR pinned_agent = :agent) "
    "AND (CAST(:pattern AS TEXT) IS NULL OR lower(title) LIKE lower(:pattern) ESCAPE '\\' "
    "OR lower(details) LIKE lower(:pattern) ESCAPE '\\' OR id = CAST(:number AS BIGINT))"
)
_MATCH = f"(CAST(:status_of AS TEXT) IS NULL OR status = :status_of) AND {_MATCH_BUT_STATUS}"
TASK_PAGE = sql(
    f"SELECT {TASK_COLUMNS} FROM tasks WHERE {_MATCH} "
    "AND (CAST(:before_id AS BIGINT) IS NULL OR id < :before_id) ORDER BY id DESC LIMIT :limit"
)
STATUS_COUNTS_MATCHING = sql(
    f"SELECT status, count(*) AS n FROM tasks WHERE {_MATCH} GROUP BY status"
)
_COLUMN = f"SELECT {TASK_COLUMNS} FROM tasks WHERE status = :status AND {_MATCH_BUT_STATUS} "
OPEN_COLUMN = sql(_COLUMN + "ORDER BY priority DESC, id LIMIT :limit")
FINISHED_COLUMN = sql(_COLUMN + "ORDER BY finished_at DESC, id DESC LIMIT :limit")

# a dashboard filter's parameters (``TaskFilter.match``)
TaskMatch = dict[str, Any]


class StatusCount(NamedTuple):
    """How many tasks are in one status."""

    status: str
    n: int


class AgentCount(NamedTuple):
    """How many of something (stall alerts) one agent had."""

    agent_id: str
    n: int


class ModelUsage(NamedTuple):
    """The AI calls' tokens and cost of one model (cost None: none of them had one)."""

    model: str
    prompt: int
    completion: int
    cost: float | None


class DoneSpan(NamedTuple):
    """A task done: who did it and the seconds from its (last) assignment, or creation, to
    done."""

    assignee: str
    span: float


class DoneAverages(NamedTuple):
    """The average seconds to done of the tasks done in a window, from creation and from
    start (None: no task was done)."""

    total: float | None
    work: float | None


class BlockedTask(NamedTuple):
    """A blocked task and why."""

    id: int
    title: str
    reason: str | None


class QuietTask(NamedTuple):
    """A task in progress, its agent and when it was last updated."""

    id: int
    title: str
    assignee: str | None
    updated_at: float


def _tasks(conn: Conn, found: Cursor) -> list[Task]:
    """The tasks of ``found``'s ``TASK_COLUMNS`` rows, with their dependencies."""
    rows = found.fetchall()
    deps = deps_of(conn, [r["id"] for r in rows])
    return [row_to_task(r, deps[r["id"]]) for r in rows]


def task_rows(conn: Conn, flt: TaskMatch, before_id: int | None, limit: int) -> list[Task]:
    """The tasks matching ``flt`` with an id below ``before_id`` (None: any), newest first,
    at most ``limit``."""
    args = {**flt, "before_id": before_id, "limit": limit}
    return _tasks(conn, conn.execute(TASK_PAGE, args))


def status_counts_where(conn: Conn, flt: TaskMatch) -> list[StatusCount]:
    """How many tasks matching ``flt`` are in each status."""
    return [StatusCount(*values(row)) for row in conn.execute(STATUS_COUNTS_MATCHING, flt)]


def column_rows(conn: Conn, flt: TaskMatch, status: str, finished: bool, limit: int) -> list[Task]:
    """The tasks matching ``flt`` in ``status``, at most ``limit``: open ones in queue order
    (priority, then oldest first), ``finished`` ones the latest finished first."""
    statement = FINISHED_COLUMN if finished else OPEN_COLUMN
    # the column's status stands for the filter's
    args = {k: v for k, v in flt.items() if k != "status_of"} | {"status": status, "limit": limit}
    return _tasks(conn, conn.execute(statement, args))


def status_counts(conn: Conn) -> list[StatusCount]:
    """How many tasks are in each status."""
    return [StatusCount(*values(row)) for row in conn.execute(STATUS_COUNTS)]


def stalls_per_agent(conn: Conn) -> list[AgentCount]:
    """How many stall alerts each agent had."""
    return [AgentCount(*values(row)) for row in conn.execute(STALLS_PER_AGENT)]


def usage_per_model(conn: Conn) -> list[ModelUsage]:
    """The AI calls' tokens and cost per model."""
    return [ModelUsage(*values(row)) for row in conn.execute(USAGE_PER_MODEL)]


def done_spans(conn: Conn, since: float, until: float) -> list[DoneSpan]:
    """The tasks done in [since, until]."""
    found = conn.execute(DONE_SPANS, {"since": since, "until": until})
    return [DoneSpan(*values(row)) for row in found]


def stalls_between(conn: Conn, since: float, until: float) -> list[AgentCount]:
    """How many stall alerts each agent had opened in [since, until]."""
    found = conn.execute(STALLS_BETWEEN, {"since": since, "until": until})
    return [AgentCount(*values(row)) for row in found]


def done_averages(conn: Conn, window: tuple[float, float]) -> DoneAverages:
    """The tasks done in the window: average seconds from creation and from start."""
    since, until = window
    found = conn.execute(DONE_AVERAGES, {"since": since, "until": until}).fetchone()
    return DoneAverages(*values(found))


def blocked_count(conn: Conn) -> int:
    """How many tasks are blocked."""
    n: int = conn.execute("SELECT count(*) AS n FROM tasks WHERE status = 'blocked'").fetchone()[
        "n"
    ]
    return n


def blocked_rows(conn: Conn, limit: int) -> list[BlockedTask]:
    """The blocked tasks, by priority then age."""
    return [BlockedTask(*values(row)) for row in conn.execute(BLOCKED_ROWS, {"limit": limit})]


def quiet_rows(conn: Conn, before: float, limit: int) -> list[QuietTask]:
    """The tasks in progress not updated since ``before``, oldest first."""
    found = conn.execute(QUIET_ROWS, {"before": before, "limit": limit})
    return [QuietTask(*values(row)) for row in found]


def ai_cost(conn: Conn, window: tuple[float, float]) -> float:
    """US dollars the AI calls cost in the window."""
    since, until = window
    row = conn.execute(AI_COST, {"since": since, "until": until}).fetchone()
    return float(row["cost"])


def tasks_after(conn: Conn, after_id: int, limit: int) -> list[Task]:
    """The tasks with an id above ``after_id``, in id order, at most ``limit``."""
    return _tasks(conn, conn.execute(TASKS_AFTER, {"after_id": after_id, "limit": limit}))
