"""No stuck deliveries, and an event for every state change (claim, deferral, superseded)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.coordinator.scheduler import Scheduler
from core.models import Receipt, TaskSpec
from core.protocols import ManualClock, Parcel
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import RecordingDeliverer

pytestmark = pytest.mark.timeout(60)


class LockingDeliverer:
    """Delivers, then another connection (another process, as far as SQLite can tell) takes
    the write lock and keeps it until the test lets go."""

    time_limit_s: float | None = None  # no deadline of its own

    def close(self) -> None:
        """Nothing to release."""

    def __init__(self, db: str) -> None:
        self.other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        self.parcels: list[Parcel] = []

    async def deliver(self, parcel: Parcel) -> Receipt:
        self.parcels.append(parcel)
        self.other.execute("BEGIN IMMEDIATE")
        return Receipt(True, None, "test")

    def release(self) -> None:
        self.other.execute("COMMIT")
        self.other.close()


@pytest.fixture
async def impatient(settings: Settings, clock: ManualClock) -> AsyncIterator[SwarmService]:
    """A service that waits only 0.1 s for the database lock."""
    svc = await SwarmService.open(dataclasses.replace(settings, busy_timeout_s=0.1), clock)
    yield svc
    await svc.close()


async def _until(condition: Any, what: str, timeout_s: float = 20.0) -> None:
    for _ in range(int(timeout_s / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


async def test_receipt_is_retried_until_the_lock_is_released(
    impatient: SwarmService, caplog: pytest.LogCaptureFixture
) -> None:
    task = await impatient.tasks.create(TaskSpec("locked out"), "cli")
    deliverer = LockingDeliverer(str(impatient.settings.db_path))
    scheduler = Scheduler(impatient, deliverer)
    await impatient.queue.assign_batch()
    with caplog.at_level(logging.WARNING, logger="core.service.swarm"):
        running = asyncio.create_task(scheduler.deliver_once())
        await _until(
            lambda: (
                sum("not written (database is locked)" in r.getMessage() for r in caplog.records)
                >= 3
            ),
            "three failed receipt writes",
        )
        assert not running.done()
        (stuck,) = await impatient.messages.deliveries()
        assert stuck.state.value == "delivering"  # held by the other connection...
        deliverer.release()
        assert await asyncio.wait_for(running, 20) == 1
    (landed,) = await impatient.messages.deliveries()  # ...and recorded once it let go
    assert landed.state.value == "delivered" and len(deliverer.parcels) == 1
    kinds = [e.kind for e in await impatient.history.events(task=task.ref)]
    assert kinds[-3:] == ["task.assigned", "delivery.claimed", "delivery.delivered"]


@pytest.mark.both_databases
async def test_claim_and_deferral_have_events_a_streak_once(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    await service.messages.send("Agent-2", "hello", "cli")
    deliverer.deferring["Agent-2"] = "paused"
    scheduler = Scheduler(service, deliverer)
    for _ in range(3):
        await scheduler.deliver_once()
        clock.advance(2)
    del deliverer.deferring["Agent-2"]
    await scheduler.deliver_once()
    kinds = [e.kind for e in await service.history.events() if e.kind.startswith("delivery.")]
    assert kinds == ["delivery.claimed", "delivery.deferred", "delivery.delivered"]


@pytest.mark.both_databases
async def test_cancel_before_delivery_supersedes_the_prompt_and_sends_no_stop(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    task = await service.tasks.create(TaskSpec("never seen"), "cli")
    (assignment,) = await service.queue.assign_batch()
    await service.tasks.cancel(task.ref, "cli")
    await Scheduler(service, deliverer).deliver_once()
    assert deliverer.parcels == []  # neither the prompt nor "stop working on it"
    (prompt,) = await service.messages.deliveries()
    assert (prompt.state.value, prompt.reason) == ("failed", "superseded")
    events = await service.history.events(task=task.ref)
    assert [e.kind for e in events][-2:] == ["task.cancelled", "delivery.superseded"]
    assert events[-1].text == (
        f"{task.ref} prompt to {assignment.agent} superseded (queued): "
        "the agent no longer holds the task"
    )


@pytest.mark.both_databases
async def test_cancel_after_delivery_tells_the_agent(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    task = await service.tasks.create(TaskSpec("seen"), "cli")
    (assignment,) = await service.queue.assign_batch()
    scheduler = Scheduler(service, deliverer)
    await scheduler.deliver_once()
    await service.tasks.cancel(task.ref, "cli")
    await scheduler.deliver_once()
    texts = [p.text for p in deliverer.for_agent(assignment.agent)]
    assert len(texts) == 2
    assert f"{task.ref} (seen) is no longer yours: cancelled by cli." in texts[1]
    assert texts[1].startswith("[swarm] WITHDRAWN from")  # not to be taken for a new task
