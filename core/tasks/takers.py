"""Who can take a task: the one rule "Needs you" (a ready task nobody can take) and a
campaign's estimate ("no agent can take the rest") both read."""

from __future__ import annotations

from collections.abc import Mapping

from core.models import Agent, Task


def nobody_takes(task: Task, agents: Mapping[str, Agent]) -> str | None:
    """Why no configured agent (``agents``, by id) can take ``task``, or None when one can:
    its pin names an agent not configured, or no agent has its role and capabilities. A
    task pinned to a configured agent is that agent's whatever it needs (the scheduler gives
    it; a person's reassign pins it)."""
    if task.pinned is not None:
        if task.pinned not in agents:
            return f"{task.pinned}, which is not configured"
        return None
    if any(a.can_take(task.role, task.capabilities) for a in agents.values()):
        return None
    return f"{wanted(task)}: none is configured"


def wanted(task: Task) -> str:
    """``a 'data' agent with gpu``: what an agent needs to take ``task``."""
    parts = [f"a {task.role!r} agent" if task.role else "an agent"]
    if task.capabilities:
        parts.append(f"with {', '.join(task.capabilities)}")
    return " ".join(parts)
