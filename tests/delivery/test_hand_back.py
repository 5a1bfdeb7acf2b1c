"""An agent's held tasks back in the queue at once when its session ends (``swarm desktop
down``, or ``up`` starting it afresh: issue 53, item 7): no attempt used, a pinned task kept
for the agent, an event each (real store, both databases)."""

from __future__ import annotations

import pytest

from core.models import Receipt, TaskSpec, TaskStatus
from core.service.swarm import SwarmService
from tests.helpers import query

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


async def test_hand_back_sends_no_withdrawal_to_the_session_that_is_gone(
    service: SwarmService,
) -> None:
    """The prompt reached the agent's session, which ``desktop down`` ended (or ``up``
    replaced): a withdrawal could only fail (its host gone: an item in "Needs you" a person
    dismisses after every ``down``) or reach a new session that never had the prompt."""
    task = await service.tasks.create(TaskSpec("work", agent="Agent-1"), "test")
    await service.queue.assign_batch()
    claimed = await service.queue.claim_prompt()
    assert claimed is not None
    await service.queue.record_receipt(claimed[0], Receipt.delivered("protocol"))  # reached
    await service.tasks.start(task.id, "Agent-1", "on it")
    await service.queue.hand_back("Agent-1", "its session was ended by swarm desktop down", "cli")
    events = [e.kind for e in await service.history.events(limit=100) if e.task_id == task.id]
    assert "task.withdrawn" not in events and "task.requeued" in events
    pending = query(service.settings,
                    "SELECT m.text FROM messages m JOIN deliveries d ON d.message_id = m.id "
                    "WHERE d.state = 'queued'")  # fmt: skip
    assert not any("no longer yours" in row[0] for row in pending), pending


async def test_a_fresh_session_keeps_the_prompt_a_running_coordinator_gave_it(
    service: SwarmService,
) -> None:
    """Issue 64, item 2: ``desktop up`` started a fresh session at ``before`` while ``swarm
    run`` ran; the task's prompt was delivered into that new session meanwhile. Handing the
    task back (as before) sent it again: two copies reached the model, and an attempt was
    used. Only a task whose prompt reached the old session (before ``before``) goes back."""
    task = await service.tasks.create(TaskSpec("work", agent="Agent-1"), "test")
    await service.queue.assign_batch()
    claimed = await service.queue.claim_prompt()
    assert claimed is not None
    await service.queue.record_receipt(claimed[0], Receipt.delivered("protocol"))
    delivered_at = service.clock.now()
    why = "swarm desktop up started a new session of its agent"
    assert await service.queue.hand_back("Agent-1", why, "cli", before=delivered_at) == []
    assert (await service.tasks.get(task.id)).agent == "Agent-1"  # the new session has it
    assert await service.queue.hand_back("Agent-1", why, "cli", before=delivered_at + 1) == [
        task.id
    ]  # its prompt reached the old session only: back in the queue
