"""A stored question, as the ``questions`` table's queries return it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.models import task_ref
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
        }


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
    )
