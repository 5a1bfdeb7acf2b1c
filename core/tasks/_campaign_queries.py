"""The statements on tasks that campaigns and workflow runs make (``core.workflows``): a
task's campaign, tasks joining one, its unfinished and all its tasks; a gate's kind, its
approval or rejection and the tasks downstream of it. Each is one named operation; the
campaigns' own rows are ``core.workflows.queries``'."""

from __future__ import annotations

from typing import NamedTuple

from core.models import FINISHED_SQL, Task
from core.store.conn import Conn, sql
from core.tasks._read_queries import TASK_COLUMNS, deps_of, row_to_task

CAMPAIGN = sql("SELECT campaign_id FROM tasks WHERE id = :task_id")
LIVE_CAMPAIGN = sql(
    "SELECT t.campaign_id FROM tasks t JOIN posts p ON p.key = "
    "'campaign:' || t.campaign_id WHERE t.id = :task_id"
)
JOIN = sql("UPDATE tasks SET campaign_id = :campaign_id WHERE id = :task_id")
UNFINISHED = sql(
    f"SELECT id FROM tasks WHERE campaign_id = :campaign_id AND status NOT IN {FINISHED_SQL} "
    "ORDER BY id DESC"
)
TASKS = sql(f"SELECT {TASK_COLUMNS} FROM tasks WHERE campaign_id = :campaign_id ORDER BY id")
KIND = sql("SELECT kind FROM tasks WHERE id = :task_id")
APPROVE_GATE = sql(
    "UPDATE tasks SET status = 'done', reason = NULL, blocked_on = NULL, result_note = :note, "
    "finished_at = :now, updated_at = :now WHERE id = :task_id"
)
NOTE_REJECTION = sql("UPDATE tasks SET result_note = :note WHERE id = :task_id")
DOWNSTREAM = sql(
    "WITH RECURSIVE down(id) AS (SELECT task_id FROM task_deps WHERE dep_id = :task_id UNION "
    "SELECT d.task_id FROM task_deps d JOIN down ON d.dep_id = down.id) SELECT id FROM down"
)


class CampaignOf(NamedTuple):
    """The campaign a task belongs to (None: it belongs to none)."""

    campaign_id: int | None


def campaign_of(conn: Conn, task_id: int) -> CampaignOf | None:
    """The task's campaign, or None when there is no such task."""
    found = conn.execute(CAMPAIGN, {"task_id": task_id}).fetchone()
    return None if found is None else CampaignOf(found["campaign_id"])


def live_campaign_of(conn: Conn, task_id: int) -> CampaignOf | None:
    """The task's campaign when that campaign has a live post, or None."""
    found = conn.execute(LIVE_CAMPAIGN, {"task_id": task_id}).fetchone()
    return None if found is None else CampaignOf(found["campaign_id"])


def join(conn: Conn, campaign_id: int, task_ids: list[int]) -> None:
    """The tasks ``task_ids`` belong to the campaign."""
    conn.executemany(JOIN, [{"campaign_id": campaign_id, "task_id": i} for i in task_ids])


def unfinished_tasks(conn: Conn, campaign_id: int) -> list[int]:
    """The campaign's tasks not finished, the newest (dependents) first."""
    return [r["id"] for r in conn.execute(UNFINISHED, {"campaign_id": campaign_id})]


def task_rows(conn: Conn, campaign_id: int) -> list[Task]:
    """The campaign's tasks, in creation order."""
    rows = conn.execute(TASKS, {"campaign_id": campaign_id}).fetchall()
    deps = deps_of(conn, [r["id"] for r in rows])
    return [row_to_task(r, deps[r["id"]]) for r in rows]


def task_kind(conn: Conn, task_id: int) -> str:
    """The task's kind (work, gate, on_failure, skip)."""
    return str(conn.execute(KIND, {"task_id": task_id}).fetchone()["kind"])


def approve_gate(conn: Conn, task_id: int, note: str, now: float) -> None:
    """The gate is done now with ``note`` (who approved it, and why)."""
    conn.execute(APPROVE_GATE, {"note": note, "now": now, "task_id": task_id})


def note_rejection(conn: Conn, task_id: int, note: str) -> None:
    """The gate's note says who rejected it, and why (it is cancelled after)."""
    conn.execute(NOTE_REJECTION, {"note": note, "task_id": task_id})


def downstream(conn: Conn, task_id: int) -> set[int]:
    """Every task that depends, directly or not, on ``task_id``."""
    rows = conn.execute(DOWNSTREAM, {"task_id": task_id}).fetchall()
    return {r["id"] for r in rows}
