"""A stored question, as the ``questions`` table's queries return it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.models import task_ref
from core.questions._choices import AgentQuestion, loaded
from core.store.conn import Row


@dataclass(frozen=True)
class Question:
    """One question about a task, answered or not."""

    id: int
    task_id: int
    agent: str | None
    text: str
    asked_by: str
    asked_at: float
    answer: str | None = None
    answered_by: str | None = None
    answered_at: float | None = None
    request: str | None = None  # the agent's own request it answers (its host's ``session#n``)
    choices: str | None = None  # the agent's questions and options, as stored (JSON)
    reply: str | None = None  # the answer as the agent's request takes it
    sent_at: float | None = None  # when that went to the agent's host
    sent: str | None = None  # how that went
    waited: bool = False  # its asker waits for the answer to print it (``swarm ask --wait``)

    @property
    def open(self) -> bool:
        """Still waiting for an answer."""
        return self.answered_at is None

    def to_json(self) -> dict[str, Any]:
        """A plain dict (``task show --json``, ``task list --json``)."""
        return {
            "id": self.id,
            "task": task_ref(self.task_id),
            "agent": self.agent,
            "text": self.text,
            "asked_by": self.asked_by,
            "asked_at": self.asked_at,
            "answer": self.answer,
            "answered_by": self.answered_by,
            "answered_at": self.answered_at,
            **({"choices": [q.to_json() for q in self.asked()]} if self.choices else {}),
        }

    def asked(self) -> tuple[AgentQuestion, ...]:
        """The agent's own questions with its choices (none: a question in words)."""
        return loaded(self.choices)


def question_of(row: Row) -> Question:
    """The question a ``questions`` row holds."""
    return Question(
        id=int(row["id"]),
        task_id=int(row["task_id"]),
        agent=row["agent_id"],
        text=row["text"],
        asked_by=row["asked_by"],
        asked_at=float(row["asked_at"]),
        answer=row["answer"],
        answered_by=row["answered_by"],
        answered_at=row["answered_at"],
        request=row["request"],
        choices=row["choices"],
        reply=row["reply"],
        sent_at=row["sent_at"],
        sent=row["sent"],
        waited=bool(row["waited"]),
    )
