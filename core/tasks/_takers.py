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


def only_limited(
    task: Task, agents: Mapping[str, Agent], limited: Mapping[str, float]
) -> tuple[str, float] | None:
    """When the only configured agents that can take ``task`` are held by a usage limit
    (``limited``: agent -> when its limit ends): the one whose limit ends first, and when;
    None when a free agent can take it, or none at all (``nobody_takes``)."""
    if nobody_takes(task, agents) is not None:
        return None
    unlimited = {a: agent for a, agent in agents.items() if a not in limited}
    if nobody_takes(task, unlimited) is None:
        return None
    takers = [
        (until, agent_id)
        for agent_id, until in limited.items()
        if agent_id in agents
        and (
            agent_id == task.pinned
            if task.pinned
            else agents[agent_id].can_take(task.role, task.capabilities)
        )
    ]
    until, agent_id = min(takers)
    return agent_id, until


def wanted(task: Task) -> str:
    """``a 'data' agent with gpu``: what an agent needs to take ``task``."""
    parts = [f"a {task.role!r} agent" if task.role else "an agent"]
    if task.capabilities:
        parts.append(f"with {', '.join(task.capabilities)}")
    return " ".join(parts)
