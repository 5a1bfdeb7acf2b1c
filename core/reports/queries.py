"""The read models' statements (``core.reports``: the dashboard, the stats, the summary,
the export): reads of every feature's tables, written by none (read models read across
owners; ``tests/project/test_named_queries.py``). Each is one named read."""

from __future__ import annotations

from typing import Any

from core.store.conn import Args, Conn, sql
from core.tasks.read_queries import TASK_COLUMNS

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
AI_COST = sql(
    "SELECT COALESCE(SUM(cost), 0) AS cost FROM usage WHERE ts >= :since AND ts <= :until"
)
TASKS_AFTER = sql(f"SELECT {TASK_COLUMNS} FROM tasks WHERE id > :after_id ORDER BY id LIMIT :limit")


def task_rows(conn: Conn, where: list[str], args: Args, limit: int) -> list[Any]:
    """The tasks meeting ``where`` (its parameters in ``args``), newest first, at most
    ``limit``. The clauses are the caller's: numbered as they are built (``Args``)."""
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows: list[Any] = conn.execute(
        f"SELECT {TASK_COLUMNS} FROM tasks {clause} ORDER BY id DESC LIMIT {args(limit)}",
        args,
    ).fetchall()
    return rows


def status_counts_where(conn: Conn, where: list[str], args: Args) -> Any:
    """How many tasks meeting ``where`` are in each status (``status``, ``n``)."""
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return conn.execute(f"SELECT status, count(*) AS n FROM tasks {clause} GROUP BY status", args)


def column_rows(
    conn: Conn, where: list[str], args: Args, status: str, order: str, limit: int
) -> list[Any]:
    """The tasks meeting ``where`` in ``status``, in ``order``, at most ``limit``."""
    more = Args(args)
    text = (
        f"SELECT {TASK_COLUMNS} FROM tasks WHERE "
        f"{' AND '.join([*where, f'status = {more(status)}'])}"
        f" ORDER BY {order} LIMIT {more(limit)}"
    )
    rows: list[Any] = conn.execute(text, more).fetchall()
    return rows


def status_counts(conn: Conn) -> Any:
    """How many tasks are in each status (``status``, ``n``)."""
    return conn.execute("SELECT status, count(*) AS n FROM tasks GROUP BY status")


def stalls_per_agent(conn: Conn) -> Any:
    """How many stall alerts each agent had (``agent_id``, ``n``)."""
    return conn.execute(
        "SELECT agent_id, count(*) AS n FROM alerts WHERE kind = 'stalled' GROUP BY agent_id"
    )


def usage_per_model(conn: Conn) -> Any:
    """The AI calls' tokens and cost per model (``model``, ``prompt``, ``completion``,
    ``cost``)."""
    return conn.execute(
        "SELECT model, sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion, "
        "sum(cost) AS cost FROM usage GROUP BY model"
    )


def done_spans(conn: Conn, since: float, until: float) -> Any:
    """The tasks done in [since, until] (``assignee``, ``span``: (last) assignment, or
    creation, to done)."""
    return conn.execute(DONE_SPANS, {"since": since, "until": until})


def stalls_between(conn: Conn, since: float, until: float) -> Any:
    """How many stall alerts each agent had opened in [since, until] (``agent_id``, ``n``)."""
    return conn.execute(STALLS_BETWEEN, {"since": since, "until": until})


def done_averages(conn: Conn, window: tuple[float, float]) -> Any:
    """The tasks done in the window: average seconds from creation (``total``) and from
    start (``work``)."""
    since, until = window
    return conn.execute(DONE_AVERAGES, {"since": since, "until": until}).fetchone()


def blocked_count(conn: Conn) -> int:
    """How many tasks are blocked."""
    n: int = conn.execute("SELECT count(*) AS n FROM tasks WHERE status = 'blocked'").fetchone()[
        "n"
    ]
    return n


def blocked_rows(conn: Conn, limit: int) -> Any:
    """The blocked tasks (``id``, ``title``, ``reason``), by priority then age."""
    return conn.execute(BLOCKED_ROWS, {"limit": limit})


def quiet_rows(conn: Conn, before: float, limit: int) -> Any:
    """The tasks in progress not updated since ``before`` (``id``, ``title``,
    ``assignee``, ``updated_at``), oldest first."""
    return conn.execute(QUIET_ROWS, {"before": before, "limit": limit})


def ai_cost(conn: Conn, window: tuple[float, float]) -> float:
    """US dollars the AI calls cost in the window."""
    since, until = window
    row = conn.execute(AI_COST, {"since": since, "until": until}).fetchone()
    return float(row["cost"])


def tasks_after(conn: Conn, after_id: int, limit: int) -> list[Any]:
    """The tasks with an id above ``after_id``, in id order, at most ``limit``."""
    rows: list[Any] = conn.execute(TASKS_AFTER, {"after_id": after_id, "limit": limit}).fetchall()
    return rows
