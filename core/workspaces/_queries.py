"""The statements of the workspaces' tables (``core.workspaces._work``): ``task_work``, each
agent's turn on a task (started, ended, reopened, read), and ``task_branches``, the branch a
task works on of its own. Each is one named operation. The task a merge or a diff names is
core.tasks' (its ``head``; its holder, ``HOLDER_OF_TASK``, composed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from core.store.conn import Conn, sql, values
from core.tasks import HOLDER_OF_TASK, head

_TURN = (
    "task_id, agent_id, path, branch, base, start_sha, end_sha, started_at, finished_at, "
    "start_files"
)
# a turn's start, in the order ``insert_turns`` takes it
START_COLUMNS = (
    "task_id", "agent_id", "path", "branch", "base", "start_sha", "started_at", "start_files",
)  # fmt: skip
INSERT_TURN = sql(
    f"INSERT INTO task_work ({', '.join(START_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in START_COLUMNS)}) ON CONFLICT DO NOTHING"
)
TURNS = sql(f"SELECT {_TURN} FROM task_work WHERE task_id = :task_id ORDER BY started_at, agent_id")
# the turn of the task's holder (core.tasks' ``HOLDER_OF_TASK``)
HOLDER_TURN = sql(
    "SELECT w.task_id, w.agent_id, w.path, w.branch, w.base, w.start_sha, w.end_sha, "
    "w.started_at, w.finished_at FROM task_work w WHERE w.task_id = :task_id AND "
    f"w.agent_id = ({HOLDER_OF_TASK})"
)
END_TURN = sql(
    "UPDATE task_work SET end_sha = :end_sha, finished_at = :now "
    "WHERE task_id = :task_id AND agent_id = :agent"
)
REOPEN_TURN = sql(
    "UPDATE task_work SET end_sha = NULL, finished_at = NULL WHERE task_id = :task_id AND "
    "agent_id = :agent"
)
TURN_KNOWN = sql("SELECT 1 FROM task_work WHERE task_id = :task_id AND agent_id = :agent")
BRANCH_WORKED = sql("SELECT 1 FROM task_work WHERE branch = :branch LIMIT 1")
NEXT_TURN = sql(
    "SELECT branch, start_sha, start_files FROM task_work WHERE path = :path AND "
    "started_at > :started_at ORDER BY started_at LIMIT 1"
)
INSERT_BRANCH = sql(
    "INSERT INTO task_branches (task_id, branch, created_at) VALUES (:task_id, :branch, :now) "
    "ON CONFLICT (task_id) DO NOTHING"
)
BRANCH = sql("SELECT branch FROM task_branches WHERE task_id = :task_id")


@dataclass(frozen=True)
class TaskWork:
    """One agent's turn on a task: its workspace and the branch heads before and after."""

    task_id: int
    agent: str
    path: str
    branch: str | None
    base: str | None
    start_sha: str | None
    end_sha: str | None
    started_at: float
    finished_at: float | None
    start_files: str | None = None  # the worktree's files at the start (``_start_files``)


class TaskHead(NamedTuple):
    """What a merge or a diff names of a task."""

    id: int
    title: str
    assignee: str | None


def insert_turns(conn: Conn, rows: Sequence[Sequence[Any]]) -> None:
    """Store turns' starts (their values in ``START_COLUMNS`` order), each unless it is
    known, in one statement's batch (one trip to the database on PostgreSQL: psycopg
    pipelines it)."""
    conn.executemany(INSERT_TURN, [dict(zip(START_COLUMNS, row, strict=True)) for row in rows])


def turn_rows(conn: Conn, task_id: int) -> list[TaskWork]:
    """Every turn on the task, oldest first."""
    return [TaskWork(*values(row)) for row in conn.execute(TURNS, {"task_id": task_id})]


def task_row(conn: Conn, task_id: int) -> TaskHead | None:
    """The task's id, title and assignee, or None when there is none."""
    found = head(conn, task_id)
    return None if found is None else TaskHead(*found)


def holder_turn_row(conn: Conn, task_id: int) -> TaskWork | None:
    """The turn of the agent holding (or last holding) the task, or None."""
    found = conn.execute(HOLDER_TURN, {"task_id": task_id}).fetchone()
    return None if found is None else TaskWork(*values(found))


def end_turn(conn: Conn, task_id: int, agent: str, end_sha: str, now: float) -> None:
    """The agent's turn on the task ended at ``now`` with the head ``end_sha``."""
    conn.execute(END_TURN, {"end_sha": end_sha, "now": now, "task_id": task_id, "agent": agent})


def reopen_turn(conn: Conn, task_id: int, agent: str) -> None:
    """The agent's turn on the task goes on (no end)."""
    conn.execute(REOPEN_TURN, {"task_id": task_id, "agent": agent})


def turn_known(conn: Conn, task_id: int, agent: str) -> bool:
    """Whether the agent's turn on the task is stored (its start recorded)."""
    return conn.execute(TURN_KNOWN, {"task_id": task_id, "agent": agent}).fetchone() is not None


def branch_worked(conn: Conn, branch: str) -> bool:
    """Whether a turn on ``branch`` is stored (of any task: a follow-up of a pull request
    works on the branch of the task it follows)."""
    return conn.execute(BRANCH_WORKED, {"branch": branch}).fetchone() is not None


def next_turn_row(conn: Conn, path: str, started_at: float) -> NextTurn | None:
    """The turn begun next after ``started_at`` in the worktree ``path``, or None."""
    found = conn.execute(NEXT_TURN, {"path": path, "started_at": started_at}).fetchone()
    return None if found is None else NextTurn(*values(found))


def insert_branch(conn: Conn, task_id: int, branch: str, now: float) -> None:
    """``task_id`` works on ``branch`` of its own, unless it has one."""
    conn.execute(INSERT_BRANCH, {"task_id": task_id, "branch": branch, "now": now})


def branch_row(conn: Conn, task_id: int) -> str | None:
    """The branch ``task_id`` works on of its own, or None."""
    found = conn.execute(BRANCH, {"task_id": task_id}).fetchone()
    return None if found is None else str(found["branch"])


class NextTurn(NamedTuple):
    """Of the turn begun next in a worktree: its branch, head and files at its start."""

    branch: str | None
    start_sha: str | None
    start_files: str | None
