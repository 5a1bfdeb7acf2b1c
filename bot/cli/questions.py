"""``swarm ask`` and ``swarm reply``: an agent asks about its task, a person answers."""

from __future__ import annotations

import argparse
import asyncio
import re
from typing import TYPE_CHECKING, Any

from bot.cli.output import emit_json
from bot.cli.style import spinner
from core.errors import InvalidInput

if TYPE_CHECKING:
    from core.questions import Question
    from core.service.swarm import SwarmService

POLL_S = 0.5
TASK_REF = re.compile(r"[Tt]-?[0-9]+")  # a lone task id is no question


def register(sub: Any) -> None:
    """Add ``ask`` and ``reply``."""
    p = sub.add_parser(
        "ask",
        help="ask a question about your task (posted in its thread)",
        usage='swarm ask [T-3] "question" [--wait] [--json]',
    )
    p.add_argument(
        "task", metavar="[TASK]", help="task id, e.g. T-3 (left out: the one task you hold)"
    )
    p.add_argument("question", nargs="?", help="the question (quote it)")
    p.add_argument(
        "--wait",
        action="store_true",
        help="wait until it is answered and print the answer here; the answer is then not "
        "also pasted into your window (without --wait it comes to you like any message)",
    )
    p.add_argument("--json", action="store_true", help="print the question as JSON")
    p.set_defaults(handler=cmd_ask)
    p = sub.add_parser("reply", help="answer an agent's question (sent to its agent)")
    p.add_argument(
        "task", metavar="REF", help="a question (Q-3, see swarm inbox) or a task (T-3: its oldest)"
    )
    p.add_argument("answer", help="the answer (quote it)")
    p.add_argument("--json", action="store_true", help="print the question as JSON")
    p.set_defaults(handler=cmd_reply, person_only="answering an agent's question")


async def cmd_ask(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm ask [T-3] "question" [--wait] [--json]``."""
    task, text = (args.task, args.question) if args.question is not None else (None, args.task)
    if task is None and TASK_REF.fullmatch(text.strip()):
        raise InvalidInput(f'the question is missing: swarm ask {text.strip()} "question"')
    question = await service.questions.ask(task, text, args.actor, waited=args.wait)
    ref = f"T-{question.task_id}"
    if args.json:  # with --wait: the question once answered
        if args.wait:
            question = await _answered(service, question, args.actor)
        emit_json(question_json(question))
        return
    if not args.wait:
        print(
            f"{ref}: question {question.id} asked; {ref} waits for an answer "
            f"(the answer comes to {question.agent or 'you'} like any message)"
        )
        return
    print(f"{ref}: question {question.id} asked; waiting for the answer (Ctrl+C stops)", flush=True)
    question = await _answered(service, question, args.actor)
    print(f"answer from {question.answered_by}: {question.answer}")


async def _answered(service: SwarmService, question: Question, actor: str) -> Question:
    """The question once answered; its answer is then not pasted too (printed here)."""
    async with spinner(f"waiting for an answer to question {question.id}"):
        while question.open:
            await asyncio.sleep(POLL_S)  # another process answers: the database is shared
            question = await service.questions.question(question.id)
    await service.questions.take_answer(question.id, actor)
    return question


async def cmd_reply(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm reply T-3 "answer"``."""
    question = await service.inbox.reply(args.task, args.answer, args.actor)
    if args.json:
        emit_json(question_json(question))
        return
    to = f" to {question.agent}" if question.agent else ""
    print(f"T-{question.task_id}: answer queued{to} (question {question.id}: {question.text[:60]})")


def question_json(question: Question) -> dict[str, Any]:
    """A question in the ``--json`` vocabulary (``task``: ``T-3``)."""
    return {
        "id": question.id,
        "task": f"T-{question.task_id}",
        "agent": question.agent,
        "text": question.text,
        "asked_by": question.asked_by,
        "asked_at": question.asked_at,
        "answer": question.answer,
        "answered_by": question.answered_by,
        "answered_at": question.answered_at,
        "open": question.open,
    }
