"""The scheduler's one timer loop: failing work backs off for real and never spins."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from core.waits import ErrorBackoff
from tests.helpers import RecordingDeliverer


class FailingTimer:
    """A timer that is always due and always fails (a broken watch tick, say)."""

    def __init__(self) -> None:
        self.fired = 0

    async def start(self) -> None:
        """Nothing to prepare."""

    async def next_due(self) -> float:
        """Always due."""
        return 0.0

    async def fire(self) -> int:
        """Fail."""
        self.fired += 1
        raise RuntimeError("the screen is gone")

    async def stop(self) -> None:
        """Nothing to release."""


pytestmark = pytest.mark.both_databases
# the scheduler's poll, which its error backoff starts from: 0.2 s here (0.5 s in use), so a
# failure is tried again after 0.2 s, 0.4 s, 0.8 s, 1.6 s, ...; a spin makes thousands
POLL_S = 0.2


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[SwarmService]:
    """A service on the real clock."""
    service = await SwarmService.open(settings)
    yield service
    await service.close()


async def _run(
    service: SwarmService,
    deliverer: RecordingDeliverer,
    timer: FailingTimer | None,
    during: Callable[[], Awaitable[None]],
) -> None:
    stop = asyncio.Event()
    timers = [timer] if timer else []
    scheduler = Scheduler(service, deliverer, timers=timers, poll_s=POLL_S)
    runner = asyncio.create_task(scheduler.run(stop))
    try:
        await during()
    finally:
        stop.set()
        await asyncio.wait_for(runner, 10)


async def _until(probe: Callable[[], bool], what: str, limit_s: float = 10.0) -> None:
    deadline = time.monotonic() + limit_s
    while not probe():
        assert time.monotonic() < deadline, f"waited {limit_s} s for {what}"
        await asyncio.sleep(0.02)


def test_the_backoff_doubles_up_to_its_cap_and_starts_over_after_a_success() -> None:
    backoff = ErrorBackoff(0.5, max_s=4)
    assert [backoff.failed() for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]
    backoff.succeeded()
    assert backoff.failed() == 0.5


async def test_a_failing_timer_backs_off_and_does_not_hold_up_assignments(
    live: SwarmService, caplog: pytest.LogCaptureFixture
) -> None:
    deliverer, timer = RecordingDeliverer(), FailingTimer()

    async def during() -> None:
        await asyncio.sleep(2 * POLL_S)  # failed twice: the second backoff runs
        await live.tasks.create(TaskSpec("still assigned"), "test")
        await _until(lambda: bool(deliverer.parcels), "the task's prompt")
        await asyncio.sleep(POLL_S)

    with caplog.at_level(logging.ERROR, logger="core.coordinator.scheduler"):
        await _run(live, deliverer, timer, during)
    failures = [r for r in caplog.records if "FailingTimer failed" in r.getMessage()]
    assert 1 <= timer.fired <= 4, timer.fired  # 0.2 s, 0.4 s, 0.8 s apart; a spin: thousands
    assert len(failures) == timer.fired
    assert f"next try in {POLL_S:.1f} s" in failures[0].getMessage()


async def test_a_failing_step_backs_off_then_the_loop_carries_on(
    live: SwarmService, caplog: pytest.LogCaptureFixture
) -> None:
    deliverer = RecordingDeliverer()
    await live.store.update(lambda conn: conn.execute("ALTER TABLE tasks RENAME TO tasks_away"))

    async def during() -> None:
        await asyncio.sleep(2.5 * POLL_S)  # failed twice, the third try not yet made
        await live.store.update(lambda conn: conn.execute("ALTER TABLE tasks_away RENAME TO tasks"))
        await live.tasks.create(TaskSpec("after the repair"), "test")
        await _until(lambda: bool(deliverer.parcels), "the task's prompt after the repair")

    with caplog.at_level(logging.ERROR, logger="core.coordinator.scheduler"):
        await _run(live, deliverer, None, during)
    failures = [r for r in caplog.records if r.name == "core.coordinator.scheduler"]
    assert 1 <= len(failures) <= 4, [r.getMessage() for r in failures]
    failure = failures[0].exc_text or str(failures[0].exc_info)
    assert "no such table: tasks" in failure or 'relation "tasks" does not exist' in failure


class CountedTimer(FailingTimer):
    """A timer due in an hour that counts how often its due is read."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def next_due(self) -> float:
        self.reads += 1
        return time.time() + 3600.0


async def test_each_step_reads_a_timers_due_once(live: SwarmService) -> None:
    """The step reads every timer's due to fire the due ones; the wait after it takes those
    reads for its deadline instead of reading them again (each read is a query at every
    scheduler step: issue 50, item 8)."""
    timer = CountedTimer()
    scheduler = Scheduler(live, RecordingDeliverer(), timers=[timer], poll_s=60.0)
    stop = asyncio.Event()
    runner = asyncio.create_task(scheduler.run(stop))
    try:
        await _until(lambda: timer.reads >= 1, "the first step")
        await asyncio.sleep(0.3)
        assert timer.reads == 1  # the first step's; the wait read none
        scheduler.wake()
        await _until(lambda: timer.reads >= 2, "the step after a wake")
        await asyncio.sleep(0.3)
        assert timer.reads == 2
    finally:
        stop.set()
        await asyncio.wait_for(runner, 10)
    assert timer.fired == 0
