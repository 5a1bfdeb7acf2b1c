"""Agents ask about their task and people answer.

The package's face: what other packages use is named here; its modules (``_asking``: the
questions' functions of a connection, ``_queries``: their statements, ``_rows``: the stored
question, ``_service``: ``QuestionBook``, what the front ends call) are its own.
"""

from __future__ import annotations

from core.questions._asking import PRINTED, answer, answer_one, open_questions
from core.questions._rows import Question
from core.questions._service import QuestionBook

__all__ = ["PRINTED", "Question", "QuestionBook", "answer", "answer_one", "open_questions"]
