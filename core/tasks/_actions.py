"""Which actions a task's state allows: one rule for the lifecycle (which refuses the rest
with the reason given here), the Discord card's buttons and the dashboard's task page.

- ``done`` and ``reassign`` (take it from its holder): while it is assigned or in progress;
- ``retry``: once it failed or was cancelled;
- ``cancel``: until it has finished;
- ``assign`` (give it to one agent): until it has finished, and never a gate (a person
  approves or rejects a gate; no agent takes it).
"""

from __future__ import annotations

import enum

from core.errors import InvalidState
from core.models import ACTIVE, FINISHED, Task, TaskStatus

RETRYABLE = (TaskStatus.failed, TaskStatus.cancelled)


class TaskAction(enum.StrEnum):
    """What a person may do to a task from a front end."""

    done = "done"
    retry = "retry"
    cancel = "cancel"
    assign = "assign"
    reassign = "reassign"


def refusal(task: Task, action: TaskAction) -> str | None:
    """Why ``action`` is not allowed on ``task`` in its state; None when it is."""
    status = task.status.value
    if action is TaskAction.retry and task.status not in RETRYABLE:
        return f"{task.ref} is {status}: only a failed or cancelled task can be retried"
    if action is TaskAction.cancel and task.status in FINISHED:
        return f"{task.ref} is already {status}"
    if action is TaskAction.assign and task.kind == "gate":
        return f"{task.ref} is a gate: a person approves or rejects it, no agent takes it"
    if action is TaskAction.assign and task.status in FINISHED:
        return f"{task.ref} is {status}: retry it first"
    if action in (TaskAction.done, TaskAction.reassign) and task.status not in ACTIVE:
        verb = "reported done" if action is TaskAction.done else "reassigned"
        return f"{task.ref} is {status}: only an assigned or in-progress task can be {verb}"
    return None


def allowed(task: Task) -> tuple[TaskAction, ...]:
    """The actions ``task``'s state allows, in the order of ``TaskAction``."""
    return tuple(action for action in TaskAction if refusal(task, action) is None)


def require(task: Task, action: TaskAction) -> None:
    """Raise InvalidState (with the reason) unless ``task``'s state allows ``action``."""
    why = refusal(task, action)
    if why is not None:
        raise InvalidState(why)
