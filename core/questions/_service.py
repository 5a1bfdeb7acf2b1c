"""Agents' questions on their tasks and the answers, as the front ends ask for them."""

from __future__ import annotations

from core.models import parse_task_ref
from core.questions import _asking as questions
from core.questions._rows import Question
from core.store.access import StoreAccess


class QuestionBook:
    """Ask, answer and look up questions (``service.questions``)."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    async def ask(
        self, ref: str | int | None, text: str, actor: str, waited: bool = False
    ) -> Question:
        """The task's agent asks a question: the task waits for an answer (``ref`` None: the
        one task the acting agent holds; ``waited``: the asker waits to print the answer)."""
        if ref is None:
            return await self.access.write(actor, questions.ask_mine, text, waited)
        return await self.access.write(actor, questions.ask, parse_task_ref(ref), text, waited)

    async def reply(self, ref: str | int, text: str, actor: str) -> Question:
        """Answer the task's oldest open question; the answer goes to its agent."""
        return await self.access.write(actor, questions.answer, parse_task_ref(ref), text)

    async def open_question(self, ref: str | int) -> Question | None:
        """The task's oldest unanswered question, if any."""
        return await self.access.read(questions.oldest_open, parse_task_ref(ref))

    async def open_questions(self) -> dict[int, Question]:
        """The oldest unanswered question of each active task, by task id."""
        return await self.access.read(questions.open_on_active)

    async def question(self, question_id: int) -> Question:
        """One question by id."""
        return await self.access.read(questions.get_question, question_id)

    async def take_answer(self, question_id: int, actor: str) -> bool:
        """The asker printed the answer (``ask --wait``): do not paste it too, if not sent."""
        return await self.access.write(actor, questions.take_answer, question_id)
