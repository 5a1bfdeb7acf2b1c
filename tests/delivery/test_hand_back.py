"""An agent's held tasks back in the queue at once when its session ends (``swarm desktop
down``, or ``up`` starting it afresh: issue 53, item 7): no attempt used, a pinned task kept
for the agent, an event each (real store, both databases)."""

from __future__ import annotations

import pytest

from core.models import TaskSpec, TaskStatus
from core.service.swarm import SwarmService

pytestmark = pytest.mark.both_databases


async def test_hand_back_requeues_every_held_task_without_using_an_attempt(
    service: SwarmService,
) -> None:
    pinned = await service.tasks.create(TaskSpec("pinned work", agent="Agent-1"), "test")
    await service.queue.assign_batch()
    await service.tasks.start(pinned.id, "Agent-1", "on it")
    other = await service.tasks.create(TaskSpec("other work", agent="Agent-2"), "test")
    await service.queue.assign_batch()
    before = (await service.tasks.get(pinned.id)).attempts
    why = "its session was ended by swarm desktop down"
    assert await service.queue.hand_back("Agent-1", why, "cli") == [pinned.id]
    task = await service.tasks.get(pinned.id)
    assert (task.status, task.agent, task.pinned) == (TaskStatus.ready, None, "Agent-1")
    assert before == 1 and task.attempts == 0  # its turn refunded: no attempt used
    assert (await service.tasks.get(other.id)).agent == "Agent-2"  # another's: untouched
    events = [e for e in await service.history.events(limit=100) if e.task_id == pinned.id]
    assert any(e.kind == "task.requeued" and why in e.text for e in events)
    assert await service.queue.hand_back("Agent-1", why, "cli") == []  # nothing held now
    await service.queue.assign_batch()
    assert (await service.tasks.get(pinned.id)).agent == "Agent-1"  # to its new session
