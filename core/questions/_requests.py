"""An agent's own questions (Claude Code's ``AskUserQuestion`` under its protocol host): a
question item on the task the agent holds, with the agent's choices; the person's answer
(an option's number, or their own words, ``core.questions._choices``) is kept as the
request's reply, which the coordinator's prompt keys send to the agent's host once
(``unsent``, ``mark_sent``). A request the agent withdrew (its turn cancelled or ended, its
host gone) closes its question unanswered.
"""

from __future__ import annotations

from core.context import Ctx
from core.event_kinds import EventKind
from core.formats.text import flat, shorten
from core.hosts.answers import answers_option
from core.models import task_ref
from core.questions import _choices as choices
from core.questions import _queries as queries
from core.questions._rows import Question
from core.store.conn import Conn
from core.store.tables import insert_event

WITHDRAWN = "swarm"  # who "answers" a withdrawn request's question (with why, no reply)


def ask_request(
    conn: Conn, ctx: Ctx, agent: str, request: str, given: object, task_id: int
) -> Question | None:
    """Open ``agent``'s own question (its request ``request``, the questions in ``given``)
    on its task, once per request; None when it asks nothing readable."""
    found = queries.by_request(conn, agent, request)
    if found is not None:
        return found
    asked = choices.read_questions(given)
    if not asked:
        return None
    text = choices.item_text(asked)
    ident = queries.insert_request(
        conn, task_id, agent, text, request, choices.stored(asked), ctx.now
    )
    ref = task_ref(task_id)
    insert_event(
        conn, ctx.now, EventKind.TASK_ASKED,
        f"{ref} question from {agent}: {shorten(asked[0].question, 300)}"
        + (f" (and {len(asked) - 1} more)" if len(asked) > 1 else ""),
        task_id=task_id, agent=agent, actor=agent,
        data={"question": ident, "request": request},
    )  # fmt: skip
    return queries.row(conn, ident)


def reply_of(question: Question, text: str) -> tuple[str, str]:
    """The request's reply to ``text`` (InvalidInput when it answers the choices wrongly)
    and the answer in words (each label chosen, or the person's words)."""
    asked = question.asked()
    answers = choices.read_answer(asked, text)
    return answers_option(answers), choices.answer_words(asked, answers)


def withdraw(conn: Conn, ctx: Ctx, agent: str, request: str, why: str) -> None:
    """Close the open question of ``agent``'s request ``request``, unanswered (``why``)."""
    found = queries.by_request(conn, agent, request)
    if found is not None and found.open:
        _withdrawn(conn, ctx, found, why)


def withdraw_open(conn: Conn, ctx: Ctx, agent: str, why: str) -> None:
    """Close every open question of ``agent``'s requests (its turn or its host ended)."""
    for question in queries.open_requests(conn, agent):
        _withdrawn(conn, ctx, question, why)


def _withdrawn(conn: Conn, ctx: Ctx, question: Question, why: str) -> None:
    if not queries.answer(conn, question.id, f"(not answered: {why})", WITHDRAWN, ctx.now):
        return  # a person answered it in between
    insert_event(
        conn, ctx.now, EventKind.TASK_ANSWERED,
        f"{task_ref(question.task_id)} Q-{question.id} of {question.agent} closed "
        f"unanswered: {shorten(flat(why), 200)}",
        task_id=question.task_id, agent=question.agent, actor=ctx.actor,
        data={"question": question.id, "request": question.request, "withdrawn": True},
    )  # fmt: skip


def unsent(conn: Conn) -> list[Question]:
    """Answered questions of agents' requests whose answer is still to be sent."""
    return queries.unsent(conn)


def mark_sent(conn: Conn, ctx: Ctx, question_id: int) -> bool:
    """The sending begins (recorded first: never sent twice); False: another sender began."""
    return queries.mark_sent(conn, question_id, "sending", ctx.now)


def sent(conn: Conn, ctx: Ctx, question: Question, ok: bool, how: str) -> None:
    """How the sending went: said in the task's history when it failed."""
    queries.sent(conn, question.id, how)
    if not ok:
        insert_event(
            conn, ctx.now, EventKind.TASK_ANSWERED,
            f"{task_ref(question.task_id)} answer to Q-{question.id} not sent to "
            f"{question.agent}: {shorten(flat(how), 200)}",
            task_id=question.task_id, agent=question.agent, actor=ctx.actor,
            data={"question": question.id, "request": question.request},
        )  # fmt: skip


class RequestQuestions:
    """The agents' own questions as question items (``core.dialogs.protocol_requests.
    AgentAsks``), handed to the protocol events by the loops' tier."""

    def ask(
        self, conn: Conn, ctx: Ctx, agent: str, request: str, given: object, task_id: int
    ) -> bool:
        """Open the request's question on the task; False: it asks nothing readable."""
        return ask_request(conn, ctx, agent, request, given, task_id) is not None

    def withdraw(self, conn: Conn, ctx: Ctx, agent: str, request: str, why: str) -> None:
        """Close the request's question unanswered."""
        withdraw(conn, ctx, agent, request, why)

    def withdraw_open(self, conn: Conn, ctx: Ctx, agent: str, why: str) -> None:
        """Close every open question of the agent's requests unanswered."""
        withdraw_open(conn, ctx, agent, why)


REQUEST_QUESTIONS = RequestQuestions()
