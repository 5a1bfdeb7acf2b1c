"""The statements of agents' questions (``core.questions._asking``): a question stored,
answered once (the update's rowcount says whether this writer was first), read; and the
answer's delivery held back or taken back for ``swarm ask --wait``. Each is one named
operation; rows come back with ``COLUMNS``.
"""

from __future__ import annotations

from core.questions._rows import Question, question_of
from core.store.conn import Conn, sql
from core.tasks import ACTIVE_TASK_IDS

COLUMNS = (
    "id, task_id, agent_id, text, asked_by, asked_at, answer, answered_by, answered_at, "
    "request, choices, reply, sent_at, sent, waited"
)
_Q_COLUMNS = ", ".join("q." + c for c in COLUMNS.split(", "))
INSERT = sql(
    "INSERT INTO questions (task_id, agent_id, text, asked_by, asked_at, waited) "
    "VALUES (:task_id, :agent, :text, :by, :now, :waited) RETURNING id"
)
INSERT_REQUEST = sql(
    "INSERT INTO questions (task_id, agent_id, text, asked_by, asked_at, request, choices) "
    "VALUES (:task_id, :agent, :text, :agent, :now, :request, :choices) RETURNING id"
)
BY_REQUEST = sql(
    f"SELECT {COLUMNS} FROM questions WHERE agent_id = :agent AND request = :request "
    "ORDER BY id DESC LIMIT 1"
)
OPEN_REQUESTS = sql(
    f"SELECT {COLUMNS} FROM questions WHERE agent_id = :agent AND request IS NOT NULL "
    "AND answered_at IS NULL ORDER BY id"
)
OPEN_HOOKS = sql(
    f"SELECT {COLUMNS} FROM questions WHERE request LIKE 'hook:%' AND answered_at IS NULL "
    "ORDER BY asked_at"
)
REPLY = sql("UPDATE questions SET reply = :reply WHERE id = :id")
# answered, its answer for the agent's host not yet sent (a hook's request, ``hook:...``, is
# answered by the hook process waiting for it)
UNSENT = sql(
    f"SELECT {COLUMNS} FROM questions WHERE request IS NOT NULL AND reply IS NOT NULL "
    "AND sent_at IS NULL AND request NOT LIKE 'hook:%' ORDER BY id"
)
MARK_SENT = sql(
    "UPDATE questions SET sent_at = :now, sent = :how WHERE id = :id AND sent_at IS NULL"
)
SENT = sql("UPDATE questions SET sent = :how WHERE id = :id")
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


def insert(
    conn: Conn, task_id: int, agent: str | None, text: str, by: str, now: float, waited: bool
) -> int:
    """Store a question on the task (to its agent ``agent``; ``waited``: its asker waits for
    the answer to print it); its id."""
    given = {"task_id": task_id, "agent": agent, "text": text, "by": by, "now": now}
    cur = conn.execute(INSERT, given | {"waited": int(waited)})
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


def insert_request(
    conn: Conn, task_id: int, agent: str, text: str, request: str, choices: str, now: float
) -> int:
    """Store ``agent``'s own question (its request ``request``, its ``choices``); its id."""
    given = {"task_id": task_id, "agent": agent, "text": text, "now": now,
             "request": request, "choices": choices}  # fmt: skip
    cur = conn.execute(INSERT_REQUEST, given)
    return int(cur.fetchone()["id"])


def by_request(conn: Conn, agent: str, request: str) -> Question | None:
    """The question ``agent``'s request ``request`` opened, or None."""
    found = conn.execute(BY_REQUEST, {"agent": agent, "request": request}).fetchone()
    return None if found is None else question_of(found)


def open_requests(conn: Conn, agent: str) -> list[Question]:
    """``agent``'s own questions still waiting for an answer."""
    return [question_of(r) for r in conn.execute(OPEN_REQUESTS, {"agent": agent})]


def set_reply(conn: Conn, question_id: int, reply: str) -> None:
    """The answer as the agent's request takes it, to be sent."""
    conn.execute(REPLY, {"reply": reply, "id": question_id})


def unsent(conn: Conn) -> list[Question]:
    """Answered questions of agents' requests whose answer is not sent yet."""
    return [question_of(r) for r in conn.execute(UNSENT)]


def mark_sent(conn: Conn, question_id: int, how: str, now: float) -> bool:
    """Record the sending begun (once: False when another sender was first)."""
    params = {"now": now, "how": how, "id": question_id}
    return bool(conn.execute(MARK_SENT, params).rowcount == 1)


def sent(conn: Conn, question_id: int, how: str) -> None:
    """Record how the sending went."""
    conn.execute(SENT, {"how": how, "id": question_id})


def open_hooks(conn: Conn) -> list[Question]:
    """Open questions that hook processes wait on, the oldest first."""
    return [question_of(r) for r in conn.execute(OPEN_HOOKS)]
