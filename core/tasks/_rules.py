"""When a task not yet started may run: the rule for each kind of task.

- ``work``: ready when every dependency is done or skipped; blocked (with the reason) while
  one is failed or cancelled; waiting otherwise.
- ``gate``: like work, but when its dependencies are through it waits for a person
  (``waiting for approval``) instead of going to an agent.
- ``on_failure``: a failure branch. Its triggers are the tasks it watches: when one of them
  fails it follows the work rule on its other dependencies; when all of them finished
  without failing it is ``skipped``.
- ``skip``: a workflow step whose ``if`` was false at the start of the run: ``skipped``.

A skipped task counts as done for the tasks that wait for it. A blocked task's rule also
says what it waits for (``BlockedOn``, stored in ``tasks.blocked_on``): its dependencies
(nobody has to act), a person's approval, or a person (a dependency failed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from core.event_kinds import EventKind
from core.models import BlockedOn, TaskStatus, task_ref

SATISFIED = ("done", "skipped")
BROKEN = ("failed", "cancelled")
FINAL = ("done", "skipped", "failed", "cancelled")
AWAITING_APPROVAL = "waiting for approval"
SKIPPED_BY_CONDITION = "skipped: its condition was false when the run started"


class Rule(NamedTuple):
    """A not-yet-started task's status, its reason, and what it waits for when blocked (as
    stored: ``tasks.status``, ``reason``, ``blocked_on``)."""

    status: TaskStatus
    reason: str | None = None
    on: BlockedOn | None = None


READY = Rule(TaskStatus.ready)


def decide(kind: str, deps: Sequence[tuple[int, str, bool]]) -> Rule:
    """The status (``blocked``, ``ready`` or ``skipped``), reason and wait of a task not yet
    started, from its kind and its dependencies ``(id, status, is_trigger)``."""
    if kind == "skip":
        return Rule(TaskStatus.skipped, SKIPPED_BY_CONDITION)
    triggers = [(i, s) for i, s, trigger in deps if trigger]
    if kind == "on_failure" and triggers:
        if not any(s == "failed" for _, s in triggers):
            pending = [task_ref(i) for i, s in triggers if s not in FINAL]
            if pending:
                why = f"waiting for {', '.join(pending)} (runs only if one fails)"
                return Rule(TaskStatus.blocked, why, BlockedOn.dependencies)
            shown = ", ".join(task_ref(i) for i, _ in triggers)
            return Rule(TaskStatus.skipped, f"skipped: {shown} did not fail")
        deps = [d for d in deps if not d[2]]
    held = blocking_rule(deps)
    if held is not None:
        return held
    return Rule(TaskStatus.blocked, AWAITING_APPROVAL, BlockedOn.gate) if kind == "gate" else READY


def blocking_rule(deps: Sequence[tuple[int, str, bool]]) -> Rule | None:
    """How the work rule holds a task back, or None when every dependency is through."""
    broken = [f"{task_ref(i)} {s}" for i, s, _ in deps if s in BROKEN]
    if broken:
        why = f"dependency {', '.join(broken)}"
        return Rule(TaskStatus.blocked, why, BlockedOn.dependency_failed)
    waiting = [task_ref(i) for i, s, _ in deps if s not in SATISFIED]
    if not waiting:
        return None
    return Rule(TaskStatus.blocked, f"waiting for {', '.join(waiting)}", BlockedOn.dependencies)


def event_kind(rule: Rule) -> EventKind:
    """The event a settled task records."""
    if rule.status is TaskStatus.ready:
        return EventKind.TASK_READY
    if rule.status is TaskStatus.skipped:
        return EventKind.TASK_SKIPPED
    if rule.on is BlockedOn.gate:
        return EventKind.GATE_WAITING
    # waiting is the normal state of a dependent task; "blocked" needs a person's attention
    return EventKind.TASK_WAITING if rule.on is BlockedOn.dependencies else EventKind.TASK_BLOCKED
