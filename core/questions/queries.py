"""The statements of agents' questions (``core.questions.asking``): a question stored,
answered once (the update's rowcount says whether this writer was first), read; and the
answer's delivery held back or taken back for ``swarm ask --wait``. Each is one named
operation; rows come back with ``COLUMNS``.
"""

from __future__ import annotations

from typing import Any

from core.models import TargetKind
from core.store.conn import Conn

COLUMNS = "id, task_id, agent_id, text, asked_by, asked_at, answer, answered_by, answered_at"
_Q_COLUMNS = ", ".join("q." + c for c in COLUMNS.split(", "))


def insert(conn: Conn, task_id: int, agent: str | None, text: str, by: str, now: float) -> int:
    """Store a question on the task (to its agent ``agent``); its id."""
    cur = conn.execute(
        "INSERT INTO questions (task_id, agent_id, text, asked_by, asked_at) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
        (task_id, agent, text, by, now),
    )
    return int(cur.fetchone()["id"])


def answer(conn: Conn, question_id: int, text: str, by: str, now: float) -> bool:
    """Store the answer while the question has none; False when another writer answered it
    in between."""
    updated = conn.execute(
        "UPDATE questions SET answer = $1, answered_by = $2, answered_at = $3 "
        "WHERE id = $4 AND answered_at IS NULL",
        (text, by, now, question_id),
    ).rowcount
    return bool(updated == 1)


def hold_deliveries(conn: Conn, message_id: int, until: float) -> None:
    """The message's deliveries wait until ``until`` (an asker waiting in its terminal
    prints the answer and takes it back before)."""
    conn.execute("UPDATE deliveries SET not_before = $1 WHERE message_id = $2", (until, message_id))


def queued_answers(
    conn: Conn, task_id: int, agent: str | None, answered_at: float | None
) -> list[Any]:
    """The deliveries (``id``) still queued of the answer note to ``agent`` on the task,
    made when the question was answered."""
    rows: list[Any] = conn.execute(
        "SELECT d.id FROM deliveries d JOIN messages m ON m.id = d.message_id "
        "WHERE m.task_id = $1 AND m.target_kind = $2 AND m.target_name = $3 "
        "AND m.created_at = $4 AND d.state = 'queued'",
        (task_id, TargetKind.note.value, agent, answered_at),
    ).fetchall()
    return rows


def drop_delivery(conn: Conn, delivery_id: int, reason: str, now: float) -> None:
    """Fail the delivery for ``reason`` (the answer was printed instead)."""
    conn.execute(
        "UPDATE deliveries SET state = 'failed', reason = $1, deferred = 0, updated_at = $2 "
        "WHERE id = $3",
        (reason, now, delivery_id),
    )


def row(conn: Conn, question_id: int) -> Any:
    """The question's row, or None."""
    return conn.execute(f"SELECT {COLUMNS} FROM questions WHERE id = $1", (question_id,)).fetchone()


def oldest_open(conn: Conn, task_id: int) -> Any:
    """The task's oldest unanswered question's row, or None."""
    return conn.execute(
        f"SELECT {COLUMNS} FROM questions WHERE task_id = $1 AND answered_at IS "
        "NULL ORDER BY id LIMIT 1",
        (task_id,),
    ).fetchone()


def open_on_active(conn: Conn) -> list[Any]:
    """Every unanswered question of an assigned or in-progress task, oldest first."""
    rows: list[Any] = conn.execute(
        f"SELECT {_Q_COLUMNS} FROM questions q "
        "JOIN tasks t ON t.id = q.task_id WHERE q.answered_at IS NULL "
        "AND t.status IN ('assigned', 'in_progress') ORDER BY q.id"
    ).fetchall()
    return rows
