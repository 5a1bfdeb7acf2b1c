"""The statements of the workspaces' tables (``core.workspaces.work``): ``task_work``, each
agent's turn on a task (started, ended, reopened, read), and ``task_branches``, the branch a
task works on of its own. Each is one named operation. The task a merge or a diff names is
read here too (``core.tasks`` imports this feature, so it cannot be called back)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.store.conn import Conn, sql

_TURN = "task_id, agent_id, path, branch, base, start_sha, end_sha, started_at, finished_at"
# a turn's start, in the order ``insert_turns`` takes it
START_COLUMNS = ("task_id", "agent_id", "path", "branch", "base", "start_sha", "started_at")
INSERT_TURN = sql(
    f"INSERT INTO task_work ({', '.join(START_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in START_COLUMNS)}) ON CONFLICT DO NOTHING"
)
TURNS = sql(f"SELECT {_TURN} FROM task_work WHERE task_id = :task_id ORDER BY started_at, agent_id")
TASK = sql("SELECT id, title, assignee FROM tasks WHERE id = :task_id")
HOLDER_TURN = sql(
    "SELECT w.task_id, w.agent_id, w.path, w.branch, w.base, w.start_sha, w.end_sha, "
    "w.started_at, w.finished_at FROM tasks t JOIN task_work w ON w.task_id = t.id AND "
    "w.agent_id = t.assignee WHERE t.id = :task_id"
)
END_TURN = sql(
    "UPDATE task_work SET end_sha = :end_sha, finished_at = :now "
    "WHERE task_id = :task_id AND agent_id = :agent"
)
REOPEN_TURN = sql(
    "UPDATE task_work SET end_sha = NULL, finished_at = NULL WHERE task_id = :task_id AND "
    "agent_id = :agent"
)
INSERT_BRANCH = sql(
    "INSERT INTO task_branches (task_id, branch, created_at) VALUES (:task_id, :branch, :now) "
    "ON CONFLICT (task_id) DO NOTHING"
)
BRANCH = sql("SELECT branch FROM task_branches WHERE task_id = :task_id")


def insert_turns(conn: Conn, rows: Sequence[Sequence[Any]]) -> None:
    """Store turns' starts (their values in ``START_COLUMNS`` order), each unless it is
    known, in one statement's batch (one trip to the database on PostgreSQL: psycopg
    pipelines it)."""
    conn.executemany(INSERT_TURN, [dict(zip(START_COLUMNS, row, strict=True)) for row in rows])


def turn_rows(conn: Conn, task_id: int) -> Any:
    """Every turn's row on the task (``_TURN``), oldest first."""
    return conn.execute(TURNS, {"task_id": task_id})


def task_row(conn: Conn, task_id: int) -> Any:
    """The task's row (``id``, ``title``, ``assignee``), or None when there is none."""
    return conn.execute(TASK, {"task_id": task_id}).fetchone()


def holder_turn_row(conn: Conn, task_id: int) -> Any:
    """The row (``_TURN``) of the turn of the agent holding (or last holding) the task, or
    None."""
    return conn.execute(HOLDER_TURN, {"task_id": task_id}).fetchone()


def end_turn(conn: Conn, task_id: int, agent: str, end_sha: str, now: float) -> None:
    """The agent's turn on the task ended at ``now`` with the head ``end_sha``."""
    conn.execute(END_TURN, {"end_sha": end_sha, "now": now, "task_id": task_id, "agent": agent})


def reopen_turn(conn: Conn, task_id: int, agent: str) -> None:
    """The agent's turn on the task goes on (no end)."""
    conn.execute(REOPEN_TURN, {"task_id": task_id, "agent": agent})


def insert_branch(conn: Conn, task_id: int, branch: str, now: float) -> None:
    """``task_id`` works on ``branch`` of its own, unless it has one."""
    conn.execute(INSERT_BRANCH, {"task_id": task_id, "branch": branch, "now": now})


def branch_row(conn: Conn, task_id: int) -> Any:
    """The row (``branch``) of the branch ``task_id`` works on of its own, or None."""
    return conn.execute(BRANCH, {"task_id": task_id}).fetchone()
