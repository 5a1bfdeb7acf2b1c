"""Plain-text views of plans (CLI and Discord): the dependency tree, progress, splitting."""

from __future__ import annotations

from collections.abc import Sequence

from core.formats.text import shorten
from core.models import Task
from core.planning._model import Plan, PlanItem, PlanProgress


def tree(items: Sequence[PlanItem]) -> list[tuple[int, int, str]]:
    """``(level, index, "  (also after x)")`` per item: each under its deepest dependency."""
    index = {item.ref: i for i, item in enumerate(items)}
    depth: dict[int, int] = {}

    def depth_of(i: int, seen: frozenset[int] = frozenset()) -> int:
        if i not in depth:
            deps = [index[a] for a in items[i].after if a in index and index[a] not in seen]
            depth[i] = 1 + max((depth_of(d, seen | {i}) for d in deps), default=-1)
        return depth[i]

    parent: dict[int, int | None] = {}
    for i, item in enumerate(items):
        deps = [index[a] for a in item.after if a in index]
        parent[i] = max(deps, key=depth_of) if deps else None
    rows: list[tuple[int, int, str]] = []
    placed: set[int] = set()

    def place(i: int, level: int) -> None:
        placed.add(i)
        rows.append((level, i, _also_after(items, i, parent[i])))
        for child in (c for c in range(len(items)) if parent[c] == i and c not in placed):
            place(child, level + 1)

    for i in range(len(items)):
        if i not in placed and (parent[i] is None or parent[i] in placed):
            place(i, 0)
    for i in range(len(items)):  # anything left (cannot happen once validated)
        if i not in placed:
            place(i, 0)
    return rows


def _also_after(items: Sequence[PlanItem], i: int, parent: int | None) -> str:
    if parent is None:
        return ""
    others = [a for a in items[i].after if a != items[parent].ref]
    return f"  (also after {', '.join(others)})" if others else ""


def render_preview(plan: Plan, details: bool = True) -> str:
    """The plan for review: summary, goal, the graph with roles and priorities, notes."""
    count = len(plan.items)
    lines = [
        f"{plan.ref} ({plan.status}, {count} task{'s' if count != 1 else ''}): {plan.summary}",
        f"goal: {_squeezed(plan.goal, 300)}",
    ]
    for level, i, also in tree(plan.items):
        item, pad = plan.items[i], "  " * level
        lines.append(
            f"{pad}- {item.ref}  [{item.role or 'any role'}, {item.priority}] {item.title}{also}"
        )
        first = item.details.strip().splitlines()[0] if item.details.strip() else ""
        if details and first:
            lines.append(f"{pad}    {_squeezed(first, 110)}")
    lines += [f"note: {note}" for note in plan.notes]
    return "\n".join(lines)


def render_progress(progress: PlanProgress) -> str:
    """An approved plan's tasks with their status; what is blocked and why."""
    plan = progress.plan
    if plan.status != "approved":
        who = f" by {plan.decided_by}" if plan.decided_by else ""
        state = "waiting for approval" if plan.status == "draft" else f"{plan.status}{who}"
        return f"{render_preview(plan, details=False)}\n{state}"
    by_id = {t.id: t for t in progress.tasks}
    total, done = progress.total, progress.done
    lines = [
        f"{plan.ref} approved: {done}/{total} done ({100 * done // max(total, 1)}%): {plan.summary}"
    ]

    for level, i, _also in tree(plan.items):  # the reasons name every dependency
        task = by_id.get(plan.task_ids[i]) if i < len(plan.task_ids) else None
        text = _task_label(plan.items[i].ref, task) if task else plan.items[i].title
        lines.append(f"{'  ' * level}- {text}")
    blocked = progress.blocked
    if blocked:
        lines.append("blocked:")
        lines += [
            f"  {t.ref} {_squeezed(t.title, 60)}: {t.reason or t.status.value}" for t in blocked
        ]
    return "\n".join(lines)


def _task_label(ref: str, task: Task) -> str:
    who = f" ({task.agent})" if task.agent else ""
    why = f": {task.reason}" if task.reason and task.status.value in ("blocked", "failed") else ""
    return f"{task.ref} [{task.status.value}] {ref}: {_squeezed(task.title, 80)}{who}{why}"


def _squeezed(text: str, width: int) -> str:
    return shorten(" ".join(text.split()), width)
