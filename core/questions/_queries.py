"""The statements of agents' questions (``core.questions._asking``): a question stored,
answered once (the update's rowcount says whether this writer was first), read; and the
answer's delivery held back or taken back for ``swarm ask --wait``. Each is one named
operation; rows come back with ``COLUMNS``.
"""

from __future__ import annotations

from core.questions._rows import Question, question_of
from core.store.conn import Conn, sql
from core.tasks import ACTIVE_TASK_IDS

COLUMNS = "id, task_id, agent_id, text, asked_by, asked_at, answer, answered_by, answered_at"
_Q_COLUMNS = ", ".join("q." + c for c in COLUMNS.split(", "))
INSERT = sql(
    "INSERT INTO questions (task_id, agent_id, text, asked_by, asked_at) "
    "VALUES (:task_id, :agent, :text, :by, :now) RETURNING id"
)
ANSWER = sql(
    "UPDATE questions SET answer = :text, answered_by = :by, answered_at = :now "
    "WHERE id = :id AND answered_at IS NULL"
)
QUESTION = sql(f"SELECT {COLUMNS} FROM questions WHERE id = :id")
OLDEST_OPEN = sql(
    f"SELECT {COLUMNS} FROM questions WHERE task_id = :task_id AND answered_at IS "
    "NULL ORDER BY id LIMIT 1"
)

OPEN_ON_ACTIVE = sql(
    f"SELECT {_Q_COLUMNS} FROM questions q WHERE q.answered_at IS NULL "
    f"AND q.task_id IN ({ACTIVE_TASK_IDS}) ORDER BY q.id"
)


def insert(conn: Conn, task_id: int, agent: str | None, text: str, by: str, now: float) -> int:
    """Store a question on the task (to its agent ``agent``); its id."""
    cur = conn.execute(
        INSERT, {"task_id": task_id, "agent": agent, "text": text, "by": by, "now": now}
    )
    return int(cur.fetchone()["id"])


def answer(conn: Conn, question_id: int, text: str, by: str, now: float) -> bool:
    """Store the answer while the question has none; False when another writer answered it
    in between."""
    updated = conn.execute(ANSWER, {"text": text, "by": by, "now": now, "id": question_id}).rowcount
    return bool(updated == 1)


def row(conn: Conn, question_id: int) -> Question | None:
    """The question, or None."""
    found = conn.execute(QUESTION, {"id": question_id}).fetchone()
    return None if found is None else question_of(found)


def oldest_open(conn: Conn, task_id: int) -> Question | None:
    """The task's oldest unanswered question, or None."""
    found = conn.execute(OLDEST_OPEN, {"task_id": task_id}).fetchone()
    return None if found is None else question_of(found)


def open_on_active(conn: Conn) -> list[Question]:
    """Every unanswered question of an assigned or in-progress task, oldest first."""
    return [question_of(r) for r in conn.execute(OPEN_ON_ACTIVE)]
