"""The statements of campaigns and workflow runs (``core.workflows.campaigns``,
``core.workflows.runs``): a campaign stored, read, joined by tasks and cancelled; a gate
approved or rejected and the tasks downstream of it. Each is one named operation; a
campaign's row is held (``row_locks.hold``) by the caller before its end is decided.
"""

from __future__ import annotations

from typing import Any

from core.models import FINISHED_SQL
from core.store import tables
from core.store.conn import Conn, Row


def insert_campaign(
    conn: Conn, title: str, workflow: str | None, variables: str | None, by: str, now: float
) -> int:
    """Store a new open campaign (``variables``: its workflow's values as JSON); its id."""
    cur = conn.execute(
        "INSERT INTO campaigns (title, workflow, vars, created_by, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        (title, workflow, variables, by, now, now),
    )
    return int(cur.fetchone()["id"])


def campaign_row(conn: Conn, campaign_id: int) -> Row | None:
    """The campaign's row, every column, or None."""
    found: Row | None = conn.execute(
        "SELECT * FROM campaigns WHERE id = $1", (campaign_id,)
    ).fetchone()
    return found


def newest_ids(conn: Conn, limit: int) -> list[int]:
    """The ids of the newest ``limit`` campaigns, newest first."""
    return [
        r["id"]
        for r in conn.execute("SELECT id FROM campaigns ORDER BY id DESC LIMIT $1", (limit,))
    ]


def campaign_of(conn: Conn, task_id: int) -> Any:
    """The task's ``campaign_id`` (a row), or None when there is no such task."""
    return conn.execute("SELECT campaign_id FROM tasks WHERE id = $1", (task_id,)).fetchone()


def live_campaign_of(conn: Conn, task_id: int) -> Any:
    """The task's ``campaign_id`` (a row) when that campaign has a live post, or None."""
    return conn.execute(
        "SELECT t.campaign_id FROM tasks t JOIN posts p ON p.key = "
        "'campaign:' || t.campaign_id WHERE t.id = $1",
        (task_id,),
    ).fetchone()


def join(conn: Conn, campaign_id: int, task_ids: list[int]) -> None:
    """The tasks ``task_ids`` belong to the campaign."""
    conn.executemany(
        "UPDATE tasks SET campaign_id = $1 WHERE id = $2", [(campaign_id, i) for i in task_ids]
    )


def unfinished_tasks(conn: Conn, campaign_id: int) -> list[int]:
    """The campaign's tasks not finished, the newest (dependents) first."""
    return [
        r["id"]
        for r in conn.execute(
            f"SELECT id FROM tasks WHERE campaign_id = $1 AND status NOT IN {FINISHED_SQL} "
            "ORDER BY id DESC",
            (campaign_id,),
        )
    ]


def mark_cancelled(conn: Conn, campaign_id: int, now: float) -> None:
    """The campaign cancelled now (before its tasks are: it never "finishes")."""
    conn.execute(
        "UPDATE campaigns SET status = 'cancelled', cancelled_at = $1, updated_at = $2 "
        "WHERE id = $3",
        (now, now, campaign_id),
    )


def task_rows(conn: Conn, campaign_id: int) -> list[Any]:
    """The campaign's tasks (``tables.TASK_COLUMNS``), in creation order."""
    rows: list[Any] = conn.execute(
        f"SELECT {tables.TASK_COLUMNS} FROM tasks WHERE campaign_id = $1 ORDER BY id",
        (campaign_id,),
    ).fetchall()
    return rows


def task_kind(conn: Conn, task_id: int) -> str:
    """The task's kind (work, gate, on_failure, skip)."""
    return str(conn.execute("SELECT kind FROM tasks WHERE id = $1", (task_id,)).fetchone()["kind"])


def approve_gate(conn: Conn, task_id: int, note: str, now: float) -> None:
    """The gate is done now with ``note`` (who approved it, and why)."""
    conn.execute(
        "UPDATE tasks SET status = 'done', reason = NULL, blocked_on = NULL, result_note = $1, "
        "finished_at = $2, updated_at = $3 WHERE id = $4",
        (note, now, now, task_id),
    )


def note_rejection(conn: Conn, task_id: int, note: str) -> None:
    """The gate's note says who rejected it, and why (it is cancelled after)."""
    conn.execute("UPDATE tasks SET result_note = $1 WHERE id = $2", (note, task_id))


def downstream(conn: Conn, task_id: int) -> set[int]:
    """Every task that depends, directly or not, on ``task_id``."""
    rows = conn.execute(
        "WITH RECURSIVE down(id) AS (SELECT task_id FROM task_deps WHERE dep_id = $1 UNION "
        "SELECT d.task_id FROM task_deps d JOIN down ON d.dep_id = down.id) SELECT id FROM down",
        (task_id,),
    ).fetchall()
    return {r["id"] for r in rows}
