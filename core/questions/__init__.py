"""Agents ask about their task and people answer.

The package's face: what other packages use is named here; its modules (``_asking``: the
questions' functions of a connection, ``_queries``: their statements, ``_rows``: the stored
question, ``_choices``: an agent's own questions with its choices, ``_requests``: those
asked by an agent's own request (Claude Code's ``AskUserQuestion``) and their answers sent
back, ``_hook``: those its hook process waits on, ``_service``: ``QuestionBook``, what the
front ends call) are its own.
"""

from __future__ import annotations

from core.questions._asking import ANSWER_HOLD_S, PRINTED, answer, answer_one, open_questions
from core.questions._hook import close_gone_hooks, hooks_gone_at, wait_through_hook
from core.questions._requests import (
    REQUEST_QUESTIONS,
    ask_request,
    mark_sent,
    sent,
    unsent,
    withdraw,
    withdraw_open,
)
from core.questions._rows import Question
from core.questions._service import QuestionBook

__all__ = [
    "ANSWER_HOLD_S",
    "PRINTED",
    "REQUEST_QUESTIONS",
    "Question",
    "QuestionBook",
    "answer",
    "answer_one",
    "ask_request",
    "close_gone_hooks",
    "hooks_gone_at",
    "mark_sent",
    "open_questions",
    "sent",
    "unsent",
    "wait_through_hook",
    "withdraw",
    "withdraw_open",
]
