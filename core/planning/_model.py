"""Plans as data: the items a model proposed, the stored plan, and its progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.models import Task, TaskSpec, TaskStatus, parse_ref, task_ref


def plan_ref(plan_id: int) -> str:
    """The human-friendly id of a plan, e.g. ``P-3``."""
    return f"P-{plan_id}"


def parse_plan_ref(ref: str | int) -> int:
    """Read ``P-3``, ``p-3`` or ``3`` into 3; raise NotFound for anything else."""
    return parse_ref(ref, "P", "plan", 3)


@dataclass(frozen=True)
class PlanItem:
    """One task of a plan, as the model proposed it (validated)."""

    ref: str
    title: str
    details: str = ""
    role: str | None = None
    priority: str = "normal"
    after: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The portable shape: ref, title, details, role, priority, after."""
        return {
            "ref": self.ref,
            "title": self.title,
            "details": self.details,
            "role": self.role,
            "priority": self.priority,
            "after": list(self.after),
        }

    def spec(self) -> TaskSpec:
        """The task to create for this item."""
        return TaskSpec(
            self.title, self.details, self.priority, self.role, after=self.after, ref=self.ref
        )


@dataclass(frozen=True)
class Plan:
    """A stored plan: draft, approved or discarded."""

    id: int
    goal: str
    summary: str
    status: str
    items: tuple[PlanItem, ...]
    model: str | None = None
    notes: tuple[str, ...] = ()
    task_ids: tuple[int, ...] = ()
    created_by: str = ""
    created_at: float = 0.0
    decided_by: str | None = None
    decided_at: float | None = None

    @property
    def ref(self) -> str:
        """Human-friendly id, e.g. ``P-3``."""
        return plan_ref(self.id)

    def document(self) -> dict[str, Any]:
        """The plan in the portable shape ``{"summary", "tasks"}``."""
        return {"summary": self.summary, "tasks": [i.to_json() for i in self.items]}

    def to_json(self) -> dict[str, Any]:
        """Every field, for ``--json`` output."""
        return {
            "id": self.ref,
            "goal": self.goal,
            "status": self.status,
            **self.document(),
            "model": self.model,
            "notes": list(self.notes),
            "task_ids": [task_ref(t) for t in self.task_ids],
            "created_by": self.created_by,
            "created_at": self.created_at,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at,
        }


@dataclass
class PlanProgress:
    """Where an approved plan's tasks stand."""

    plan: Plan
    tasks: list[Task] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Tasks of the plan (created, or proposed for a draft)."""
        return len(self.tasks) or len(self.plan.items)

    @property
    def done(self) -> int:
        """Tasks done."""
        return sum(t.status is TaskStatus.done for t in self.tasks)

    @property
    def counts(self) -> dict[str, int]:
        """Tasks per status."""
        counts = {s.value: 0 for s in TaskStatus}
        for task in self.tasks:
            counts[task.status.value] += 1
        return counts

    @property
    def blocked(self) -> list[Task]:
        """Tasks that cannot run, each with its reason."""
        return [t for t in self.tasks if t.status in (TaskStatus.blocked, TaskStatus.failed)]

    def to_json(self) -> dict[str, Any]:
        """Totals, counts per status, the blocked tasks with reasons, every task."""
        return {
            **self.plan.to_json(),
            "done": self.done,
            "total": self.total,
            "counts": self.counts,
            "blocked": [
                {"id": t.ref, "title": t.title, "status": t.status.value, "reason": t.reason}
                for t in self.blocked
            ],
            "tasks": [t.to_json() for t in self.tasks],
        }


def item_from_json(raw: dict[str, Any]) -> PlanItem:
    """A validated ``{"ref", "title", ...}`` object of a plan document."""
    return PlanItem(
        raw["ref"],
        raw["title"],
        raw.get("details") or "",
        raw.get("role"),
        raw.get("priority") or "normal",
        tuple(raw.get("after") or ()),
    )
