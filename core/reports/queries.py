"""The read models' statements (``core.reports``: the dashboard, the stats, the summary,
the export): reads of every feature's tables, written by none (read models read across
owners; ``tests/project/test_named_queries.py``). Each is one named read."""

from __future__ import annotations

from typing import Any

from core.store.conn import Args, Conn
from core.tasks.read_queries import TASK_COLUMNS


def task_rows(conn: Conn, where: list[str], args: Args, limit: int) -> list[Any]:
    """The tasks meeting ``where`` (its parameters in ``args``), newest first, at most
    ``limit``."""
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
    sql = (
        f"SELECT {TASK_COLUMNS} FROM tasks WHERE "
        f"{' AND '.join([*where, f'status = {more(status)}'])}"
        f" ORDER BY {order} LIMIT {more(limit)}"
    )
    rows: list[Any] = conn.execute(sql, more).fetchall()
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
    return conn.execute(
        "SELECT assignee, finished_at - COALESCE(assigned_at, created_at) AS span FROM tasks "
        "WHERE status = 'done' AND assignee IS NOT NULL AND finished_at >= $1 AND "
        "finished_at <= $2",
        (since, until),
    )


def stalls_between(conn: Conn, since: float, until: float) -> Any:
    """How many stall alerts each agent had opened in [since, until] (``agent_id``, ``n``)."""
    return conn.execute(
        "SELECT agent_id, count(*) AS n FROM alerts WHERE kind = 'stalled' AND "
        "opened_at >= $1 AND opened_at <= $2 GROUP BY agent_id",
        (since, until),
    )


def done_averages(conn: Conn, window: tuple[float, float]) -> Any:
    """The tasks done in the window: average seconds from creation (``total``) and from
    start (``work``)."""
    return conn.execute(
        "SELECT AVG(finished_at - created_at) AS total, AVG(finished_at - COALESCE(started_at, "
        "assigned_at, created_at)) AS work FROM tasks WHERE status = 'done' AND finished_at >= $1 "
        "AND finished_at <= $2",
        window,
    ).fetchone()


def blocked_count(conn: Conn) -> int:
    """How many tasks are blocked."""
    n: int = conn.execute("SELECT count(*) AS n FROM tasks WHERE status = 'blocked'").fetchone()[
        "n"
    ]
    return n


def blocked_rows(conn: Conn, limit: int) -> Any:
    """The blocked tasks (``id``, ``title``, ``reason``), by priority then age."""
    return conn.execute(
        "SELECT id, title, reason FROM tasks WHERE status = 'blocked' "
        "ORDER BY priority DESC, id LIMIT $1",
        (limit,),
    )


def quiet_rows(conn: Conn, before: float, limit: int) -> Any:
    """The tasks in progress not updated since ``before`` (``id``, ``title``,
    ``assignee``, ``updated_at``), oldest first."""
    return conn.execute(
        "SELECT id, title, assignee, updated_at FROM tasks WHERE status = 'in_progress' AND "
        "updated_at < $1 ORDER BY updated_at LIMIT $2",
        (before, limit),
    )


def ai_cost(conn: Conn, window: tuple[float, float]) -> float:
    """US dollars the AI calls cost in the window."""
    row = conn.execute(
        "SELECT COALESCE(SUM(cost), 0) AS cost FROM usage WHERE ts >= $1 AND ts <= $2", window
    ).fetchone()
    return float(row["cost"])


def tasks_after(conn: Conn, after_id: int, limit: int) -> list[Any]:
    """The tasks with an id above ``after_id``, in id order, at most ``limit``."""
    rows: list[Any] = conn.execute(
        f"SELECT {TASK_COLUMNS} FROM tasks WHERE id > $1 ORDER BY id LIMIT $2", (after_id, limit)
    ).fetchall()
    return rows
