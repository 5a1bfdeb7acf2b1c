"""``swarm task edit``: change an unfinished task's title, details, priority or role, checked
as at creation and recorded in a ``task.edited`` event (what changed, from what, by whom)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.context import Ctx, check_chars
from core.errors import InvalidInput, InvalidState, Unassignable
from core.event_kinds import EventKind
from core.formats.text import invisible_removed, strip_invisible
from core.models import FINISHED, Priority, Task
from core.store.conn import Conn
from core.store.tables import insert_event
from core.tasks import _queries as task_queries
from core.tasks._read_queries import get_task


@dataclass(frozen=True)
class TaskEdit:
    """The fields to change; None leaves one as it is (``role=""``: no role)."""

    title: str | None = None
    details: str | None = None
    priority: str | None = None
    role: str | None = None

    @property
    def empty(self) -> bool:
        """True when nothing is asked for."""
        return all(v is None for v in (self.title, self.details, self.priority, self.role))


def edit(conn: Conn, ctx: Ctx, task_id: int, change: TaskEdit) -> list[str]:
    """Apply ``change`` to an unfinished task; the names of the fields that changed."""
    if change.empty:
        raise InvalidInput("nothing to change: give --title, --details, --priority or --role")
    task = get_task(conn, task_id)
    if task.status in FINISHED:
        raise InvalidState(f"{task.ref} is {task.status.value}: a finished task is not edited")
    new, invisible = _checked(ctx, task, change)
    old = {"title": task.title, "details": task.details, "priority": int(task.priority)}
    old["role"] = task.role
    changed = {k: (old[k], v) for k, v in new.items() if v != old[k]}
    if not changed:
        return []
    after = {**old, **{name: v for name, (_, v) in changed.items()}}
    task_queries.set_edited(conn, task_id, task_queries.Edited(**after), ctx.now)
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_EDITED,
        f"{task.ref} edited by {ctx.actor}: {'; '.join(_said(k, *v) for k, v in changed.items())}"
        + (f"; {invisible_removed(invisible)}" if invisible else ""),
        task_id=task_id,
        agent=task.agent,
        actor=ctx.actor,
        data={
            "changes": {k: {"from": a, "to": b} for k, (a, b) in changed.items()},
            **({"invisible_removed": invisible} if invisible else {}),
        },
    )
    return list(changed)


def _checked(ctx: Ctx, task: Task, change: TaskEdit) -> tuple[dict[str, Any], int]:
    """The new values, checked as ``create_tasks`` checks them (invisible characters taken
    out), and how many invisible characters were."""
    new: dict[str, Any] = {}
    invisible = 0
    if change.title is not None:
        if "\n" in change.title.strip():
            raise InvalidInput("title must be one line: put the rest in details")
        title, invisible = strip_invisible(change.title)
        new["title"] = ctx.check_text(title, "title", ctx.settings.max_title, one_line=True)
    if change.details is not None:
        details, hidden = strip_invisible(change.details)
        invisible += hidden
        details = check_chars(details.replace("\r\n", "\n").strip(), "details", one_line=False)
        if len(details) > ctx.settings.max_text:
            raise InvalidInput(
                f"details are {len(details)} characters long: the limit is {ctx.settings.max_text}"
            )
        new["details"] = details
    if change.priority is not None:
        new["priority"] = int(Priority.parse(change.priority))
    if change.role is not None:
        role = ctx.check_role(change.role.strip()) if change.role.strip() else None
        _check_takers(ctx, task, role)
        new["role"] = role
    return new, invisible


def _check_takers(ctx: Ctx, task: Task, role: str | None) -> None:
    """The agent holding or pinned to the task must be able to take it with ``role``."""
    caps = tuple(task.capabilities)
    for who, agent_id in (("holds", task.agent), ("is pinned to", task.pinned)):
        agent = ctx.agents.get(agent_id or "")
        if agent is not None and not agent.can_take(role, caps):
            raise Unassignable(
                f"{agent.id} ({agent.role}) {who} {task.ref} and cannot take the role {role}: "
                f"give the task to another agent first (swarm task assign {task.ref} AGENT)"
            )
    if not any(a.can_take(role, caps) for a in ctx.agents.values()):
        raise Unassignable(f"no configured agent can take {task.ref} with the role {role}")


def _said(name: str, old: Any, new: Any) -> str:
    if name == "details":
        return f"details changed ({len(old or '')} → {len(new or '')} characters)"
    if name == "priority":
        return f"priority {Priority(old).name} → {Priority(new).name}"
    if name == "role":
        return f"role {old or '(none)'} → {new or '(none)'}"
    return f"title {old!r} → {new!r}"
