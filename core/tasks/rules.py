"""When a task not yet started may run: the rule for each kind of task.

- ``work``: ready when every dependency is done or skipped; blocked (with the reason) while
  one is failed or cancelled; waiting otherwise.
- ``gate``: like work, but when its dependencies are through it waits for a person
  (``waiting for approval``) instead of going to an agent.
- ``on_failure``: a failure branch. Its triggers are the tasks it watches: when one of them
  fails it follows the work rule on its other dependencies; when all of them finished
  without failing it is ``skipped``.
- ``skip``: a workflow step whose ``if`` was false at the start of the run: ``skipped``.

A skipped task counts as done for the tasks that wait for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.models import task_ref

SATISFIED = ("done", "skipped")
BROKEN = ("failed", "cancelled")
FINAL = ("done", "skipped", "failed", "cancelled")
AWAITING_APPROVAL = "waiting for approval"
SKIPPED_BY_CONDITION = "skipped: its condition was false when the run started"


def decide(kind: str, deps: Sequence[tuple[int, str, bool]]) -> tuple[str, str | None]:
    """The status (``blocked``, ``ready`` or ``skipped``) and reason of a task not yet
    started, from its kind and its dependencies ``(id, status, is_trigger)``."""
    if kind == "skip":
        return "skipped", SKIPPED_BY_CONDITION
    triggers = [(i, s) for i, s, trigger in deps if trigger]
    if kind == "on_failure" and triggers:
        if not any(s == "failed" for _, s in triggers):
            pending = [task_ref(i) for i, s in triggers if s not in FINAL]
            if pending:
                return "blocked", f"waiting for {', '.join(pending)} (runs only if one fails)"
            shown = ", ".join(task_ref(i) for i, _ in triggers)
            return "skipped", f"skipped: {shown} did not fail"
        deps = [d for d in deps if not d[2]]
    why = blocking_reason(deps)
    if why:
        return "blocked", why
    return ("blocked", AWAITING_APPROVAL) if kind == "gate" else ("ready", None)


def blocking_reason(deps: Sequence[tuple[int, str, bool]]) -> str | None:
    """Why the work rule holds a task back, or None when every dependency is through."""
    broken = [f"{task_ref(i)} {s}" for i, s, _ in deps if s in BROKEN]
    if broken:
        return f"dependency {', '.join(broken)}"
    waiting = [task_ref(i) for i, s, _ in deps if s not in SATISFIED]
    return f"waiting for {', '.join(waiting)}" if waiting else None


def event_kind(status: str, why: str | None) -> str:
    """The event a settled task records."""
    if status == "ready":
        return "task.ready"
    if status == "skipped":
        return "task.skipped"
    if why == AWAITING_APPROVAL:
        return "gate.waiting"
    # "waiting" is the normal state of a dependent task; "blocked" needs a person's attention
    return "task.waiting" if why and why.startswith("waiting") else "task.blocked"
