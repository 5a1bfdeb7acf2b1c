"""The scheduler loop: assign ready tasks, deliver prompts, expire leases.

It sleeps until something changes: a write through this process's service wakes it at
once; a write by another process (the CLI) is seen through ``PRAGMA data_version``,
checked twice a second; a lease or backoff deadline wakes it when due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.envelope import render
from core.models import Delivery, Receipt
from core.protocols import Deliverer, Parcel
from core.service import SwarmService

log = logging.getLogger(__name__)

DELIVERY_MARGIN_S = 10.0  # the scheduler outwaits a deliverer's own deadline by this much


@dataclass
class BurstResult:
    """What one burst did."""

    rounds: int = 0
    assigned: int = 0
    delivered: int = 0
    expired: int = 0


class Scheduler:
    """Hands ready tasks to agents and their prompts to a deliverer."""

    def __init__(
        self,
        service: SwarmService,
        deliverer: Deliverer,
        *,
        poll_s: float = 0.5,
        delivery_timeout_s: float = 60.0,
    ) -> None:
        self.service = service
        self.deliverer = deliverer
        self.poll_s = poll_s
        self.delivery_timeout_s = delivery_timeout_s
        self._assign_wake = asyncio.Event()
        self._deliver_wake = asyncio.Event()
        service.on_change(self.wake)

    def wake(self) -> None:
        """Something changed: look again now."""
        self._assign_wake.set()
        self._deliver_wake.set()

    async def schedule_once(self) -> tuple[int, int]:
        """Expire due leases, then assign until nothing more fits; return both counts."""
        expired = await self.service.expire_leases()
        assigned = 0
        while made := await self.service.assign_batch():
            assigned += len(made)
        return expired, assigned

    async def deliver_once(self) -> int:
        """Deliver every due delivery; return how many were attempted."""
        count = 0
        while (delivery := await self.service.claim_delivery()) is not None:
            receipt = await self._deliver(delivery)
            await self.service.record_receipt(delivery, receipt)
            count += 1
        return count

    async def run_burst(self, max_rounds: int = 1_000_000) -> BurstResult:
        """Run until nothing more can happen at the current time (tests, benchmarks)."""
        result = BurstResult()
        await self.service.recover()
        while result.rounds < max_rounds:
            result.rounds += 1
            expired, assigned = await self.schedule_once()
            delivered = await self.deliver_once()
            result.expired += expired
            result.assigned += assigned
            result.delivered += delivered
            if not (expired or assigned or delivered):
                break
        return result

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set."""
        recovered = await self.service.recover()
        if recovered:
            log.warning("%d interrupted deliveries will be retried", recovered)
        loops = [
            asyncio.create_task(self._loop(stop, self._assign_wake, self.schedule_once)),
            asyncio.create_task(self._loop(stop, self._deliver_wake, self.deliver_once)),
        ]
        try:
            await stop.wait()
        finally:
            for task in loops:
                task.cancel()
            for task in loops:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _loop(self, stop: asyncio.Event, wake: asyncio.Event,
                    work: Callable[[], Awaitable[object]]) -> None:
        seen = await self.service.data_version()
        while not stop.is_set():
            wake.clear()
            try:
                await work()
            except Exception:
                log.exception("scheduler step failed; retrying in %.1f s", self.poll_s)
            seen = await self._sleep(wake, seen)

    async def _sleep(self, wake: asyncio.Event, seen: int) -> int:
        """Wait for a wake-up, a due deadline, or a change by another process."""
        while True:
            deadline = await self.service.next_deadline()
            timeout = self.poll_s
            if deadline is not None:
                timeout = max(0.0, min(timeout, deadline - self.service.clock.now()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout)
                return seen
            version = await self.service.data_version()
            due = deadline is not None and deadline <= self.service.clock.now()
            if version != seen or due:
                return version

    def delivery_timeout(self) -> float:
        """How long to wait for one delivery: longer than the deliverer's own deadline.

        ``wait_for`` cannot stop a deliverer's worker thread, so a deliverer that owns a
        deadline (``time_limit_s``) must always answer first; otherwise a late paste could
        land after its delivery was given up and sent again.
        """
        limit = getattr(self.deliverer, "time_limit_s", None)
        if limit is None:
            return self.delivery_timeout_s
        return float(limit) + DELIVERY_MARGIN_S

    async def _deliver(self, delivery: Delivery) -> Receipt:
        agent = self.service.agents.get(delivery.agent)
        if agent is None:
            return Receipt.failed(f"{delivery.agent} is no longer configured", retryable=False)
        text = render(delivery.text, sender=delivery.sender, agent=agent.id,
                      task_id=delivery.task_id, priority=delivery.priority,
                      is_retry=delivery.is_retry)
        parcel = Parcel(delivery.id, agent, text, delivery.sender, delivery.task_id,
                        delivery.priority, delivery.is_retry)
        timeout = self.delivery_timeout()
        try:
            return await asyncio.wait_for(self.deliverer.deliver(parcel), timeout)
        except TimeoutError:
            return Receipt(False, f"no answer within {timeout:g} s")
        except Exception as exc:
            log.exception("deliverer failed on delivery %d", delivery.id)
            return Receipt(False, f"deliverer error: {exc}")
