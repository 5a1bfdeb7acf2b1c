"""The scheduler: one timer loop over every deadline, and a delivery worker.

The loop sleeps until the earliest deadline (a lease, a backoff, a queued delivery, a watch
tick, a stored schedule) or until something changes: a write through this process's service
wakes it at once; a write by another process (the CLI) is heard at once on PostgreSQL
(``core.coordinator.changes``) and seen on SQLite through ``PRAGMA data_version``, read every
``CHANGE_POLL_S`` while the loop waits (the deadlines are read again each ``poll_s``). Timed
work other than tasks (``core.protocols.Timer``: the watcher and the stored schedules) is
fired by the same loop; there is no second timer. The delivery worker sends prompts, woken
by the loop, so a slow desktop never holds up assignments. A failing step backs off
(doubling up to ``MAX_ERROR_BACKOFF_S``): it never spins.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from core.assignment import BATCH
from core.delivery import prompt
from core.models import Delivery, Receipt
from core.protocols import Deliverer, Parallel, Timer
from core.service.swarm import SwarmService
from core.store.calls import urgent
from core.waits import Background, ErrorBackoff, wait_set

log = logging.getLogger(__name__)
MAX_ERROR_BACKOFF_S = 60.0
CHANGE_POLL_S = 0.1  # SQLite: another process's commit (a person's `swarm task cancel`) seen
# within this (it was the loop's poll_s, 0.5 s: up to 0.46 s of a CLI cancel's turn-end)
R = TypeVar("R")

DELIVERY_MARGIN_S = 10.0  # the scheduler outwaits a deliverer's own deadline by this much
MAX_PARALLEL = 64  # deliveries at once to different agents (a Parallel deliverer; with
# 16, a broadcast to 32 tmux agents went in two waves)


@dataclass
class BurstResult:
    """What one burst did."""

    rounds: int = 0
    assigned: int = 0
    delivered: int = 0
    expired: int = 0


@dataclass(frozen=True)
class InFlight:
    """A delivery being made: which, and when the scheduler gives up on it (monotonic)."""

    delivery: Delivery
    ends_by: float

    def describe(self) -> str:
        """``the T-3 prompt to Agent-2`` / ``a message to Agent-2``."""
        d = self.delivery
        what = f"the T-{d.task_id} prompt" if d.task_id is not None else "a message"
        return f"{what} to {d.agent} (delivery {d.id})"


class Scheduler:
    """Hands ready tasks to agents, their prompts to a deliverer, and fires the timers."""

    def __init__(
        self,
        service: SwarmService,
        deliverer: Deliverer,
        *,
        timers: Sequence[Timer] = (),
        poll_s: float = 0.5,
        delivery_timeout_s: float = 60.0,
        before_delivery: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.service = service
        self.deliverer = deliverer
        self.timers = list(timers)
        self.before_delivery = before_delivery  # the agents file looked at (its routes)
        self.poll_s = poll_s
        self._onboarding: set[int] = set()  # deliveries whose parcels onboarded their agent
        self.delivery_timeout_s = delivery_timeout_s
        self._assign_wake = asyncio.Event()
        self._deliver_wake = asyncio.Event()
        self._loops = Background("scheduler")  # the timer loop, the delivery worker (``run``)
        self._deliveries = Background("scheduler deliveries")  # in flight, by the worker
        self._failing: dict[int, tuple[ErrorBackoff, float]] = {}  # timer -> backoff, retry at
        self._dues: dict[int, float | None] = {}  # timer -> its due, read by the last step
        self.flights: dict[int, InFlight] = {}  # the deliveries being made (a stop waits)
        service.on_change(self.wake)

    def wake(self) -> None:
        """Something changed: look again now."""
        self._assign_wake.set()
        self._deliver_wake.set()

    async def schedule_once(self) -> tuple[int, int]:
        """Expire due leases, then assign until nothing more fits; return both counts. The
        first pass goes with the expiry (one transaction); another follows only a full pass
        (one that stopped short found no more free agents or ready tasks)."""
        started = time.perf_counter()
        expired, made = await self.service.queue.expire_then_assign()
        self.service.observe("assignment", time.perf_counter() - started)
        assigned = len(made)
        while len(made) >= BATCH:
            started = time.perf_counter()
            made = await self.service.queue.assign_batch()
            self.service.observe("assignment", time.perf_counter() - started)
            assigned += len(made)
        return expired, assigned

    @property
    def in_flight(self) -> InFlight | None:
        """The delivery being made that ends last (what a stop waits for), if any."""
        return max(self.flights.values(), key=lambda f: f.ends_by, default=None)

    async def deliver_once(self, stop: asyncio.Event | None = None) -> int:
        """Deliver every due delivery (until ``stop``); return how many were attempted.
        A deliverer that can (``Parallel``) gets different agents' deliveries at once; with
        the desktop driver's agents only, one at a time as ever."""
        deliverer = self.deliverer
        agents = self.service.agents.values()
        if isinstance(deliverer, Parallel) and any(deliverer.parallel(a) for a in agents):
            return await self._deliver_parallel(deliverer, stop)
        count = 0
        queue = self.service.queue
        if stop and stop.is_set():
            return 0
        await self._agents_looked_at()
        claimed = await queue.claim_prompt()
        while claimed is not None:
            delivery, facts = claimed
            receipt, onboarded = await self._deliver_timed(delivery, facts)
            count += 1
            if stop and stop.is_set():
                await queue.record_receipt(delivery, receipt, onboarded=onboarded)
                break
            await self._agents_looked_at()
            # the receipt and the next claim: one transaction
            claimed = await queue.receipt_then_claim(delivery, receipt, onboarded=onboarded)
        return count

    async def _agents_looked_at(self) -> None:
        """Before a claim: the agents' routes as the agents file says now."""
        if self.before_delivery is not None:
            await self.before_delivery()

    async def _deliver_timed(
        self, delivery: Delivery, facts: prompt.PromptFacts | None
    ) -> tuple[Receipt, bool]:
        """Deliver one claimed delivery, as in flight; its receipt, and whether it onboarded
        its agent."""
        started = time.perf_counter()
        self.flights[delivery.id] = InFlight(delivery, time.monotonic() + self.delivery_timeout())
        try:
            receipt = await self._deliver(delivery, facts)
        finally:
            self.flights.pop(delivery.id, None)
        self.service.observe(
            "delivery",
            time.perf_counter() - started,
            agent=delivery.agent,
            method=receipt.method,
            result=_result(receipt),
        )
        onboarded = delivery.id in self._onboarding
        self._onboarding.discard(delivery.id)
        return receipt, onboarded

    async def _deliver_parallel(self, deliverer: Parallel, stop: asyncio.Event | None) -> int:
        """Deliver every due delivery, up to ``MAX_PARALLEL`` at once: one at a time per
        agent (in order: an agent with one in flight is not claimed from), and one at a time
        over the agents the deliverer serves one by one (the desktop driver). Each receipt is
        stored as its delivery ends; a change (a new message) is claimed at once. At ``stop``
        nothing more is claimed and those in flight end with their receipts; so do they
        after an error (a claim or a receipt the database refused), which is raised then."""
        running: dict[asyncio.Task[None], Delivery] = {}
        count = 0
        error: BaseException | None = None
        try:
            while True:
                claiming = error is None and not (stop and stop.is_set())
                if claiming:
                    self._deliver_wake.clear()  # what changed before this is claimed now
                    try:
                        await self._agents_looked_at()
                        await self._claim_into(deliverer, running)
                    except Exception as exc:
                        error = exc
                if not running:
                    break
                # stopping: the wake is the worker's (left set), not waited for
                async with asyncio.TaskGroup() as waiting:
                    wake = waiting.create_task(self._deliver_wake.wait()) if claiming else None
                    waits: list[asyncio.Future[Any]] = [*running, *([wake] if wake else [])]
                    try:
                        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        if wake is not None:
                            wake.cancel()
                for task in [t for t in running if t.done()]:
                    running.pop(task)
                    count += 1
                    if error is None:
                        error = task.exception()
        finally:
            for task in running:  # cancelled (a forced stop): left delivering, recovered
                task.cancel()
        if error is not None:
            raise error
        return count

    async def _claim_into(
        self, deliverer: Parallel, running: dict[asyncio.Task[None], Delivery]
    ) -> None:
        """Claim and start due deliveries until none is due for a free agent (or the
        ``MAX_PARALLEL``-th runs)."""
        while len(running) < MAX_PARALLEL:
            busy = self._busy(deliverer, running.values())
            claimed = await self.service.queue.claim_prompt(busy=busy)
            if claimed is None:
                return
            delivery, facts = claimed
            work = self._deliver_and_record(delivery, facts)
            task = self._deliveries.start(work, name=f"delivery {delivery.id}", awaited=True)
            running[task] = delivery

    def _busy(self, deliverer: Parallel, flying: Iterable[Delivery]) -> set[str]:
        """The agents not to claim for now: those with a delivery in flight, and every agent
        of the one-at-a-time lane while one of them has one."""
        busy = {delivery.agent for delivery in flying}
        agents = self.service.agents
        serial = {a for a, agent in agents.items() if not deliverer.parallel(agent)}
        return busy | serial if busy & serial else busy

    async def _deliver_and_record(
        self, delivery: Delivery, facts: prompt.PromptFacts | None
    ) -> None:
        receipt, onboarded = await self._deliver_timed(delivery, facts)
        await self.service.queue.record_receipt(delivery, receipt, onboarded=onboarded)

    async def fire_timers(self) -> int:
        """Fire every timer that is due now; how many things ran.

        A timer that fails is logged and left alone for its backoff (doubling per failure in
        a row): it neither spins nor holds up assignments and deliveries.
        """
        ran = 0
        self._dues = {}
        for timer in self.timers:
            due = await self._timer_due(timer)
            if due is None or due > self.service.clock.now():
                self._dues[id(timer)] = due
                continue
            try:
                ran += await timer.fire()
            except Exception:
                fresh = (ErrorBackoff(self.poll_s, MAX_ERROR_BACKOFF_S), 0.0)
                backoff, _ = self._failing.get(id(timer), fresh)
                delay = backoff.failed()
                self._failing[id(timer)] = (backoff, self.service.clock.now() + delay)
                log.exception(
                    "%s failed (%d in a row); next try in %.1f s",
                    type(timer).__name__,
                    backoff.failures,
                    delay,
                )
            else:
                self._failing.pop(id(timer), None)
        return ran

    async def _timer_due(self, timer: Timer) -> float | None:
        due = await timer.next_due()
        failing = self._failing.get(id(timer))
        if due is None or failing is None:
            return due
        return max(due, failing[1])

    async def next_deadline(self, known: Mapping[int, float | None] | None = None) -> float | None:
        """The earliest deadline of tasks, deliveries and timers (``known``: id of a timer ->
        its due just read, not read again)."""
        known = known or {}
        found = [await self.service.queue.next_deadline()]
        for timer in self.timers:
            found.append(known[id(timer)] if id(timer) in known else await self._timer_due(timer))
        due = [d for d in found if d is not None]
        return min(due) if due else None

    async def run_burst(self, max_rounds: int = 1_000_000) -> BurstResult:
        """Run tasks and deliveries until nothing more can happen now (tests, benchmarks).

        Timers are not fired: a burst is about tasks and prompts.
        """
        result = BurstResult()
        await self.service.queue.recover()
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
        """Run until ``stop`` is set: recover, start the timers, loop; stop the timers."""
        recovered = await self.service.queue.recover()
        if recovered:
            log.warning("%d interrupted deliveries will be retried", recovered)
        started: list[Timer] = []
        try:
            for timer in self.timers:
                await timer.start()
                started.append(timer)
            loop = self._loops.start(self._timer_loop(stop), name="timer loop", awaited=True)
            worker = self._loops.start(self._delivery_worker(stop), name="delivery", awaited=True)
            try:
                await stop.wait()
            finally:
                stop.set()  # also when cancelled (lost lock): the worker ends its delivery, stops
                loop.cancel()
                await self._finish_worker(worker)
                with contextlib.suppress(asyncio.CancelledError):
                    await loop
        finally:
            for timer in reversed(started):
                await timer.stop()

    async def _finish_worker(self, worker: asyncio.Task[None]) -> None:
        """Let the delivery in flight end with its receipt (bounded), then stop the worker."""
        self._deliver_wake.set()
        try:
            async with asyncio.timeout(self.delivery_timeout() + DELIVERY_MARGIN_S):
                await worker  # cancelled with this wait when the time is up
        except TimeoutError:
            log.warning("a delivery was still running at shutdown; it is retried at the next start")
        except asyncio.CancelledError:
            worker.cancel()
            raise

    async def _step(self) -> bool:
        """Leases, assignments and timers; True when something happened. The assignments'
        store calls go ahead of the others queued (``urgent``); the timers' do not."""
        with urgent():
            expired, assigned = await self.schedule_once()
        fired = await self.fire_timers()
        return bool(expired or assigned or fired)

    async def _timer_loop(self, stop: asyncio.Event) -> None:
        seen = await self.service.queue.data_version()
        backoff = ErrorBackoff(self.poll_s, MAX_ERROR_BACKOFF_S)
        while not stop.is_set():
            self._assign_wake.clear()
            worked = await self._guarded(stop, backoff, self._step, "scheduler step")
            if worked is None:
                continue
            self._deliver_wake.set()
            wait = functools.partial(self._sleep, seen, stale=not worked)
            version = await self._guarded(stop, backoff, wait, "scheduler wait")
            if version is not None:
                seen = version
                backoff.succeeded()

    async def _delivery_worker(self, stop: asyncio.Event) -> None:
        backoff = ErrorBackoff(self.poll_s, MAX_ERROR_BACKOFF_S)
        while not stop.is_set():
            self._deliver_wake.clear()
            deliver = functools.partial(self.deliver_once, stop)
            with urgent():  # a prompt's store calls go ahead of the others queued
                if await self._guarded(stop, backoff, deliver, "delivery step") is None:
                    continue
            backoff.succeeded()
            await self._deliver_wake.wait()

    async def _guarded(
        self,
        stop: asyncio.Event,
        backoff: ErrorBackoff,
        step: Callable[[], Awaitable[R]],
        what: str,
    ) -> R | None:
        """``step()``; on an error log it, wait out the backoff (only ``stop`` cuts it short)
        and return None."""
        try:
            return await step()
        except Exception:
            delay = backoff.failed()
            log.exception(
                "%s failed (%d in a row); next try in %.1f s", what, backoff.failures, delay
            )
            await wait_set(stop, delay)
            return None

    async def _sleep(self, seen: int, stale: bool) -> int:
        """Wait for a wake-up, a due deadline, or a change by another process.

        ``stale``: the last step did nothing, so a deadline already past is not a reason to
        run again at once (it waits for the delivery worker, or a poll): no busy loop.
        """
        known, self._dues = self._dues, {}  # the step's reads: its writes woke the loop
        while True:
            deadline = await self.next_deadline(known)
            known = {}
            now = self.service.clock.now()
            timeout = self.poll_s
            if deadline is not None and not (stale and deadline <= now):
                timeout = max(0.0, min(timeout, deadline - now))
            woken, version = await self._wait_change(seen, wait_s=timeout)
            if woken:
                return seen
            due = deadline is not None and deadline <= self.service.clock.now()
            if version != seen or due:
                return version

    async def _wait_change(self, seen: int, wait_s: float) -> tuple[bool, int]:
        """Wait ``wait_s`` for a wake-up or (SQLite: every ``CHANGE_POLL_S``) another
        process's commit: (woken, the data version read last)."""
        step = wait_s if self.service.listens else min(wait_s, CHANGE_POLL_S)
        until = time.monotonic() + wait_s
        while True:
            if await wait_set(self._assign_wake, step):
                return True, seen
            version = await self.service.queue.data_version()
            left = until - time.monotonic()
            if version != seen or left <= 0:
                return False, version
            step = min(step, left)

    def delivery_timeout(self) -> float:
        """How long to wait for one delivery: longer than the deliverer's own deadline.

        A time limit cannot stop a deliverer's worker thread, so a deliverer that owns a
        deadline (``time_limit_s``) must always answer first; otherwise a late paste could
        land after its delivery was given up and sent again.
        """
        limit = self.deliverer.time_limit_s
        if limit is None:
            return self.delivery_timeout_s
        return limit + DELIVERY_MARGIN_S

    async def deliver_one(
        self, delivery: Delivery, facts: prompt.PromptFacts | None = None
    ) -> tuple[Receipt, bool]:
        """Deliver one claimed delivery's parcels (a delivery node's step): the receipt, and
        whether the parcels onboarded the agent."""
        receipt = await self._deliver(delivery, facts)
        onboarded = delivery.id in self._onboarding
        self._onboarding.discard(delivery.id)
        return receipt, onboarded

    async def _deliver(
        self, delivery: Delivery, facts: prompt.PromptFacts | None = None
    ) -> Receipt:
        agent = self.service.agents.get(delivery.agent)
        if agent is None:
            return Receipt.failed(f"{delivery.agent} is no longer configured", retryable=False)
        started = time.perf_counter()
        try:
            steps = await prompt.plan(
                self.service.store, self.service.workspaces, delivery, agent, facts
            )
        except Exception as exc:  # a role template, a workspace, no file descriptor left...
            log.exception("prompt of delivery %d not built", delivery.id)
            return Receipt.failed(f"prompt not built: {prompt.why(exc)}", retryable=False)
        built = time.perf_counter()
        receipt = await self._send(delivery, steps)
        if receipt.carried and receipt.idle_seen:  # a withdrawal's stop: idle now, not later
            await self._idle_after_withdrawal(agent.id)
        log.debug(
            "timing: delivery %d to %s: prompt built in %.0f ms, sent in %.0f ms (%s)",
            delivery.id,
            delivery.agent,
            (built - started) * 1000,
            (time.perf_counter() - built) * 1000,
            _result(receipt),
        )
        return receipt

    async def _idle_after_withdrawal(self, agent: str) -> None:
        """The agent's pane read idle after a withdrawal stopped its turn: judged so now (best
        effort: the watch's next look reads the pane anyway)."""
        try:
            await self.service.roster.idle_after_withdrawal(agent)
        except Exception as exc:
            log.warning("%s: its idle pane after a withdrawal not recorded (%s)", agent, exc)

    async def _send(self, delivery: Delivery, steps: prompt.Plan) -> Receipt:
        """The parcels of ``steps`` one after another, each within the delivery timeout."""
        timeout = self.delivery_timeout()
        try:
            for parcel in steps.parcels:
                async with asyncio.timeout(timeout):  # not wait_for: see core/waits.py
                    receipt = await self.deliverer.deliver(parcel)
                if not receipt.ok:
                    return receipt
        except TimeoutError:
            return Receipt.failed(f"no answer within {timeout:g} s")
        except Exception as exc:
            log.exception("deliverer failed on delivery %d", delivery.id)
            return Receipt.failed(f"deliverer error: {exc}")
        if steps.onboards and receipt.ok:
            self._onboarding.add(delivery.id)  # recorded with the receipt
        return receipt


def _result(receipt: Receipt) -> str:
    """``delivered``, ``deferred`` or ``failed`` (the metrics' label)."""
    return "delivered" if receipt.ok else "deferred" if receipt.deferred else "failed"
