"""Agents ask about their task and people answer: ``swarm ask``, ``swarm reply``, ``/reply``.

A question marks its task "waiting for an answer" until it is answered; the answer goes to
the agent like any message (its window or inbox), quoting the question. Both are events of
the task (``task.asked``, ``task.answered``), so they are in its history and its thread.
"""

from __future__ import annotations

from core.context import Ctx
from core.delivery import message_queries, messages
from core.errors import InvalidInput, InvalidState, NotFound
from core.event_kinds import EventKind
from core.formats.text import shorten
from core.models import ACTIVE, task_ref
from core.questions import _queries as queries
from core.questions import _requests as requests
from core.questions._rows import Question
from core.store.conn import Conn
from core.store.tables import insert_event
from core.tasks import get_task, list_tasks

ANSWER_HOLD_S = 5.0  # an answer waits this long for ``swarm ask --wait`` to print it instead
# (only the answer to a question asked so: any other goes at once)
PRINTED = "printed by swarm ask --wait"


def ask(conn: Conn, ctx: Ctx, task_id: int, text: str, waited: bool = False) -> Question:
    """Record a question on an active task (by its agent, or a person for it); ``waited``:
    its asker waits for the answer to print it (its answer is then held back a moment)."""
    task = get_task(conn, task_id)
    if task.status not in ACTIVE:
        raise InvalidState(
            f"{task.ref} is {task.status.value}: only an assigned or "
            "in-progress task can have questions"
        )
    text = ctx.check_text(text, "question")
    by, data = ctx.report_by(task.ref, task.agent, False)
    question_id = queries.insert(conn, task_id, task.agent, text, ctx.actor, ctx.now, waited)
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_ASKED,
        f"{task.ref} question from {task.agent}{by}: {_brief(text)}",
        task_id=task_id,
        agent=task.agent,
        actor=ctx.actor,
        data={**(data or {}), "question": question_id},
    )
    return get_question(conn, question_id)


def ask_mine(conn: Conn, ctx: Ctx, text: str, waited: bool = False) -> Question:
    """The acting agent asks about the one task it holds (``swarm ask "question"``); a
    person, an agent holding none or several is told to name the task, in one line."""
    me = ctx.as_agent()
    usage = 'name the task: swarm ask T-3 "question"'
    if me is None:
        raise InvalidInput(f"{usage} (only an agent holding one task may leave it out)")
    held = sorted(
        task.id
        for status in ACTIVE
        for task in list_tasks(conn, status, agent=me, limit=100)
        if task.agent == me
    )
    if not held:
        raise InvalidState(f"{me} holds no task: {usage}")
    if len(held) > 1:
        raise InvalidInput(f"{me} holds {', '.join(map(task_ref, held))}: {usage}")
    return ask(conn, ctx, held[0], text, waited)


def answer(conn: Conn, ctx: Ctx, task_id: int, text: str) -> Question:
    """Answer the task's oldest open question and send the answer to its agent."""
    question = oldest_open(conn, task_id)
    if question is None:
        raise InvalidState(f"{task_ref(task_id)} has no open question")
    return _answer(conn, ctx, question, text)


def answer_one(conn: Conn, ctx: Ctx, question_id: int, text: str) -> Question:
    """Answer question ``question_id`` (``Q-3``), once, and send the answer to its agent."""
    question = get_question(conn, question_id)
    if not question.open:
        raise InvalidState(f"Q-{question_id} was already answered by {question.answered_by}")
    return _answer(conn, ctx, question, text)


def _answer(conn: Conn, ctx: Ctx, question: Question, text: str) -> Question:
    task_id = question.task_id
    text = ctx.check_text(text, "answer")
    reply, words = requests.reply_of(question, text) if question.request else ("", text)
    if not queries.answer(conn, question.id, text, ctx.actor, ctx.now):  # another was first
        by = get_question(conn, question.id).answered_by
        raise InvalidState(f"Q-{question.id} was already answered by {by}")
    ref = task_ref(task_id)
    if question.request:  # the agent's own request: the answer goes back as its reply
        queries.set_reply(conn, question.id, reply)
    elif question.agent:
        message_id = messages.queue(
            conn,
            ctx,
            [question.agent],
            answer_text(ref, question.text, ctx.actor, text),
            target=messages.note_to(question.agent),
            task_id=task_id,
        )
        if question.waited:  # its asker may print it first and take it back
            message_queries.hold_deliveries(conn, message_id, ctx.now + ANSWER_HOLD_S)
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_ANSWERED,
        f"{ref} answered by {ctx.actor}: {_brief(words)}",
        task_id=task_id,
        agent=question.agent,
        actor=ctx.actor,
        data={"question": question.id, **({"request": question.request} if reply else {})},
    )
    return get_question(conn, question.id)


def answer_text(ref: str, question: str, by: str, answer: str) -> str:
    """What the agent receives: the question in brief, then the answer quoted as written."""
    quoted = "\n".join(f"> {line}" for line in answer.splitlines() or [""])
    return f"Answer from {by} to your question on {ref} ({_brief(question)}), quoted:\n{quoted}"


def take_answer(conn: Conn, ctx: Ctx, question_id: int) -> bool:
    """``swarm ask --wait`` printed the answer: its delivery, if still held, is not sent.
    True when it was taken back (False: already on its way, or no agent to send it to)."""
    question = get_question(conn, question_id)
    rows = message_queries.queued_answers(
        conn, question.task_id, question.agent, question.answered_at
    )
    for delivery_id in rows:
        message_queries.drop_delivery(conn, delivery_id, PRINTED, ctx.now)
        insert_event(
            conn,
            ctx.now,
            EventKind.DELIVERY_SUPERSEDED,
            f"{task_ref(question.task_id)} answer to {question.agent} not pasted: {PRINTED}",
            task_id=question.task_id,
            agent=question.agent,
            actor=ctx.actor,
            data={"delivery": delivery_id, "question": question_id},
        )
    return bool(rows)


def _brief(text: str) -> str:
    """Text for an event line: one line, at most 300 characters."""
    return shorten(" ".join(text.split()), 300)


def get_question(conn: Conn, question_id: int) -> Question:
    """A question by id; NotFound otherwise."""
    found = queries.row(conn, question_id)
    if found is None:
        raise NotFound(f"unknown question Q-{question_id}")
    return found


def oldest_open(conn: Conn, task_id: int) -> Question | None:
    """The task's oldest unanswered question, if any."""
    get_task(conn, task_id)  # NotFound for an unknown task
    return queries.oldest_open(conn, task_id)


def open_on_active(conn: Conn) -> dict[int, Question]:
    """The oldest unanswered question of every assigned or in-progress task, by task id
    (what the task lists, cards and boards show as "waiting for an answer")."""
    found: dict[int, Question] = {}
    for question in queries.open_on_active(conn):
        found.setdefault(question.task_id, question)
    return found


def open_questions(conn: Conn) -> list[Question]:
    """Every unanswered question of an assigned or in-progress task, oldest first."""
    return queries.open_on_active(conn)
