"""A task moved to another agent is withdrawn from its old holder (issue 28, item 1).

The old holder gets a short message, delivered through the scheduler like any other, that
names the task as WITHDRAWN and carries no report commands, workspace or onboarding, so it
cannot be taken for a new task. A person's reassignment (``task assign``, ``requeue``) uses
no attempt; a stall or an expired lease does, as before.
"""

from __future__ import annotations

import re

import pytest

from bot.demo import TASK_IN_TEXT
from core.coordinator.jobs import Watcher
from core.coordinator.scheduler import Scheduler
from core.delivery import _messages as messages
from core.models import Receipt, TaskSpec, TaskStatus
from core.protocols import ManualClock, Parcel
from core.service.swarm import SwarmService
from tests.helpers import RecordingDeliverer
from tests.watch.conftest import FakeFrames, kinds, watch_settings

pytestmark = pytest.mark.both_databases


def withdrawals(deliverer: RecordingDeliverer, agent: str) -> list[Parcel]:
    """The parcels ``agent`` got that withdraw a task."""
    return [p for p in deliverer.for_agent(agent) if "WITHDRAWN" in p.text]


def assert_not_a_task(parcel: Parcel, ref: str) -> None:
    """A withdrawal: marked, names the task, no report commands, nothing to start."""
    head = parcel.text.splitlines()[0]
    assert head.startswith("[swarm] WITHDRAWN from ")  # a task's head: [swarm] from
    assert head.endswith(f"| {ref} is no longer yours (not a new task)")
    assert "priority" not in head
    assert re.search(rf"\btask {ref}\b", parcel.text) is None  # as the head of a task prompt
    assert TASK_IN_TEXT.search(parcel.text) is None  # the demo's agents would start it
    assert "task done" not in parcel.text and "task start" not in parcel.text
    assert "Work in" not in parcel.text and "HANDOFF" not in parcel.text
    assert "Stop working on it now" in parcel.text


async def test_a_manual_assign_withdraws_the_task_from_its_holder_and_uses_no_attempt(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    task = await service.tasks.create(TaskSpec("Ship the login page"), "me")
    scheduler = Scheduler(service, deliverer)
    await scheduler.run_burst()
    assert [p.task_id for p in deliverer.for_agent("Agent-1")] == [task.id]
    assert (await service.tasks.get(task.ref)).attempts == 1
    await service.tasks.assign(task.ref, "Agent-4", "boss")
    await scheduler.run_burst()
    (withdrawn,) = withdrawals(deliverer, "Agent-1")
    assert_not_a_task(withdrawn, task.ref)
    assert "reassigned to Agent-4 by boss" in withdrawn.text
    assert [p.task_id for p in deliverer.for_agent("Agent-4")] == [task.id]
    moved = await service.tasks.get(task.ref)
    assert moved.agent == "Agent-4" and moved.attempts == 1  # the move used no attempt
    (event,) = await kinds(service, "task.withdrawn")
    assert event.agent == "Agent-1" and event.task_id == task.id
    (delivered,) = [e for e in await kinds(service, "delivery.delivered") if e.agent == "Agent-1"][
        1:
    ]
    assert delivered.task_id == task.id  # the withdrawal's delivery, verified and recorded
    # named so (issue 53, item 8: it was logged as "T-1 prompt delivered")
    assert delivered.text == f"{task.ref} withdrawal notice delivered to Agent-1 (test)"


async def test_a_prompt_in_flight_is_withdrawn_one_never_delivered_is_only_dropped(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    first = await service.tasks.create(TaskSpec("in flight", agent="Agent-1"), "me")
    second = await service.tasks.create(TaskSpec("still queued", agent="Agent-2"), "me")
    await service.queue.assign_batch()
    claimed = await service.queue.claim_delivery()  # Agent-1's prompt is being pasted
    assert claimed is not None and claimed.task_id == first.id
    await service.tasks.assign(first.ref, "Agent-3", "boss")
    await service.tasks.assign(second.ref, "Agent-5", "boss")  # Agent-2 never got it
    await service.queue.record_receipt(claimed, Receipt.delivered("test"))  # it landed
    await Scheduler(service, deliverer).run_burst()
    (withdrawn,) = withdrawals(deliverer, "Agent-1")
    assert_not_a_task(withdrawn, first.ref)
    assert deliverer.for_agent("Agent-2") == []
    assert [e.agent for e in await kinds(service, "task.withdrawn")] == ["Agent-1"]


async def test_requeue_by_a_person_withdraws_and_uses_no_attempt(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    task = await service.tasks.create(TaskSpec("job", role="web"), "me")
    scheduler = Scheduler(service, deliverer)
    await scheduler.run_burst()
    holder = (await service.tasks.get(task.ref)).agent
    assert holder is not None
    await service.tasks.requeue(task.ref, "boss")
    await scheduler.run_burst()
    (withdrawn,) = withdrawals(deliverer, holder)
    assert_not_a_task(withdrawn, task.ref)
    assert (await service.tasks.get(task.ref)).attempts == 1


async def test_moving_a_task_back_before_its_withdrawal_went_out_keeps_the_order(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    """Withdrawn from Agent-1, then given back to it before the withdrawal went out, then
    moved again: Agent-1 hears withdrawn, then its new prompt, then withdrawn again."""
    task = await service.tasks.create(TaskSpec("ping-pong", agent="Agent-1"), "me")
    scheduler = Scheduler(service, deliverer)
    await scheduler.run_burst()
    await service.tasks.assign(task.ref, "Agent-2", "boss")
    await service.queue.assign_batch()
    await service.tasks.assign(task.ref, "Agent-1", "boss")  # Agent-2 got nothing yet
    await scheduler.run_burst()
    await service.tasks.assign(task.ref, "Agent-3", "boss")
    await scheduler.run_burst()
    got = ["WITHDRAWN" in p.text for p in deliverer.for_agent("Agent-1")]
    assert got == [False, True, False, True]
    assert withdrawals(deliverer, "Agent-2") == []
    assert (await service.tasks.get(task.ref)).attempts == 1


async def test_a_stall_reassignment_withdraws_and_uses_an_attempt(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    task = await service.tasks.create(TaskSpec("slow job", role="infrastructure"), "me")
    scheduler = Scheduler(service, deliverer)
    await scheduler.run_burst()
    holder = (await service.tasks.get(task.ref)).agent
    assert holder == "Agent-3"
    frames = FakeFrames()
    frames.frames[holder] = bytes(64)  # a screen that never changes
    watcher = Watcher(service, watch_settings(max_nudges=0), frames)
    reassigned = []
    for _ in range(32):  # a tick a minute, as the watcher runs
        clock.advance(60)
        reassigned += (await watcher.tick()).reassigned
    assert reassigned == [task.id]
    await scheduler.run_burst()
    (withdrawn,) = withdrawals(deliverer, holder)
    assert_not_a_task(withdrawn, task.ref)
    assert "Agent-3 stalled: no activity for 30 min" in withdrawn.text
    again = await service.tasks.get(task.ref)
    assert again.attempts == 2 and again.status is TaskStatus.assigned  # the stall used one
    await watcher.close()


async def test_a_task_failed_for_an_expired_lease_is_withdrawn_from_its_holder(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    task = await service.tasks.create(TaskSpec("never started", agent="Agent-6"), "me")
    scheduler = Scheduler(service, deliverer)
    for _ in range(service.settings.max_attempts):
        await scheduler.run_burst()  # assigned, prompt delivered
        clock.advance(service.settings.lease_s + 1)
        await scheduler.run_burst()  # no report: released (or failed), withdrawn
        clock.advance(service.settings.retry_backoff_max_s + 1)
    assert (await service.tasks.get(task.ref)).status is TaskStatus.failed
    texts = [p.text for p in deliverer.for_agent("Agent-6")]
    marks = ["WITHDRAWN" in t for t in texts]
    assert marks == [False, True] * service.settings.max_attempts
    assert "it failed (no report from Agent-6" in texts[-1]


async def test_a_prompt_reached_its_agent_from_any_time_or_from_a_moment_on(
    service: SwarmService, clock: ManualClock
) -> None:
    """``prompt_reached``: a prompt of the task delivered to the agent, or in flight, at any
    time (no ``since``) or queued from ``since`` on; one queued only, or another agent's,
    is not."""
    task = await service.tasks.create(TaskSpec("Ship the login page", agent="Agent-1"), "me")
    await service.queue.assign_batch()

    async def reached(agent: str, since: float | None = None) -> bool:
        return await service.store.read(messages.prompt_reached, task.id, agent, since)

    assert not await reached("Agent-1")  # queued, not yet on its screen
    queued_at = clock.now()
    clock.advance(5)
    assert await service.queue.claim_delivery() is not None  # being pasted
    assert await reached("Agent-1") and await reached("Agent-1", queued_at)
    assert not await reached("Agent-1", clock.now())  # queued before that
    assert not await reached("Agent-2")


async def test_a_withdrawal_to_an_agent_whose_session_is_gone_is_dropped_not_an_item(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    """Issue 79, item 6: the withdrawal notice of a task taken back from an agent whose
    session ended (its host killed, its pane closed) has nobody to tell: it is dropped, said
    in its event, and never an "undelivered" item swarm made for a person."""
    task = await service.tasks.create(TaskSpec("job", role="web"), "me")
    scheduler = Scheduler(service, deliverer)
    await scheduler.run_burst()
    holder = (await service.tasks.get(task.ref)).agent
    assert holder is not None
    await service.tasks.requeue(task.ref, "boss")
    notice = await service.queue.claim_delivery()
    assert notice is not None and notice.target.kind.value == "withdraw" and notice.agent == holder
    gone = Receipt.failed("no host runs for it", "protocol", gone=True)
    for _ in range(5):  # whatever the tries left, it is not retried into an item
        await service.queue.record_receipt(notice, gone)
        (row,) = [d for d in await service.messages.deliveries(None, limit=50) if d.id == notice.id]
        if row.state.value != "queued":
            break
        notice = await service.queue.claim_delivery()
        assert notice is not None
    assert (row.state.value, row.reason) == ("failed", "superseded"), row
    (dropped,) = await kinds(service, "delivery.superseded")
    assert f"{task.ref} withdrawal notice to {holder} dropped" in dropped.text, dropped.text
    assert "session is gone" in dropped.text
    assert [n for n in await service.inbox.needs() if n.kind == "undelivered"] == []
