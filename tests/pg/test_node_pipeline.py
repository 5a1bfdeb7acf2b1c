"""A running node does not wait for its slowest agent: while one agent is still taking its
prompt (a protocol agent's first update, a pane's echo), another agent's delivery queued
meanwhile is claimed, sent and its receipt stored. An agent's own deliveries stay one at a
time, in order: one queued for it meanwhile goes once its lane ends, once."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from core.coordinator.node import DeliveryNode
from core.models import Agent, DeliveryState, Receipt
from core.protocols import Parcel
from core.service.swarm import SwarmService
from core.settings import Settings

pytestmark = [
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
    pytest.mark.timeout(60),
]


@dataclass
class HeldDeliverer:
    """Parallel: each agent beside the others; ``A-1``'s parcels wait for ``release``."""

    time_limit_s: float | None = None
    sent: list[tuple[str, str]] = field(default_factory=list)  # (agent, text), as taken
    started: list[str] = field(default_factory=list)  # texts whose delivery began
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def parallel(self, agent: Agent) -> bool:
        return True

    async def deliver(self, parcel: Parcel) -> Receipt:
        self.started.append(parcel.text)
        if parcel.agent.id == "A-1":
            await self.release.wait()
        self.sent.append((parcel.agent.id, parcel.text))
        return Receipt.delivered("test")

    def close(self) -> None:
        """Nothing held."""

    def texts(self, agent: str, word: str) -> list[str]:
        return [text for who, text in self.sent if who == agent and word in text]


async def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.01)


@pytest.fixture
async def coordinator(node_settings: Settings) -> AsyncIterator[SwarmService]:
    service = await SwarmService.open(node_settings)
    yield service
    await service.close()


async def _states(service: SwarmService, agent: str) -> list[DeliveryState]:
    return [d.state for d in await service.messages.deliveries() if d.agent == agent]


async def test_a_slow_agent_does_not_hold_up_the_others(
    node_settings: Settings, coordinator: SwarmService
) -> None:
    service = await SwarmService.open(node_settings, readers=0)
    desk = HeldDeliverer()
    node = DeliveryNode(service, desk, "desk-1", lease_s=30)
    stop = asyncio.Event()
    running = asyncio.create_task(node.run(stop))
    try:
        await coordinator.messages.send("A-1", "slow-first", "test")
        await _until(lambda: any("slow-first" in t for t in desk.started), "A-1 never started")
        await coordinator.messages.send("A-2", "quick-one", "test")
        await coordinator.messages.send("A-1", "slow-second", "test")  # behind A-1's lane
        await _until(lambda: bool(desk.texts("A-2", "quick-one")), "A-2 waited for A-1")
        await _until(lambda: node.delivered == 1, "A-2's receipt not stored while A-1's lane ran")
        assert not desk.texts("A-1", "slow")  # A-1 is still taking its first prompt
        assert not any("slow-second" in t for t in desk.started)  # its second waits its turn
        desk.release.set()
        await _until(lambda: node.delivered == 3, "A-1's prompts not delivered")
        slow = desk.texts("A-1", "slow")
        assert len(slow) == 2 and "slow-first" in slow[0] and "slow-second" in slow[1]
        assert await _states(coordinator, "A-1") == [DeliveryState.delivered] * 2
        assert await _states(coordinator, "A-2") == [DeliveryState.delivered]
    finally:
        desk.release.set()
        stop.set()
        await running
        await service.close()


async def test_a_prompts_store_calls_go_ahead_of_the_nodes_others(
    node_settings: Settings, coordinator: SwarmService
) -> None:
    """The node's one write connection: its claims, prompts and receipts go ahead of the
    other store calls queued for it (its watch, journals, heartbeat), not behind them. A
    call in flight holds the connection while 20 others queue (each 50 ms); a message sent
    meanwhile is delivered once the few calls of its own path have run, not after the 20
    (before: after all of them)."""
    service = await SwarmService.open(node_settings, readers=0)
    order: list[str] = []

    class Recording(HeldDeliverer):
        async def deliver(self, parcel: Parcel) -> Receipt:
            order.append(f"delivered {parcel.text!r}")
            return await super().deliver(parcel)

    desk = Recording()
    desk.release.set()
    node = DeliveryNode(service, desk, "desk-1", lease_s=30)
    stop = asyncio.Event()
    running = asyncio.create_task(node.run(stop))
    held = threading.Event()

    def hold(conn: Any) -> None:
        held.wait(20)

    def other(conn: Any, n: int) -> None:
        conn.execute("SELECT pg_sleep(0.05)")
        order.append(f"other-{n}")

    try:
        await coordinator.messages.send("A-2", "warm-up", "test")  # the node listens
        await _until(lambda: node.delivered == 1, "the first message not delivered")
        blocker = asyncio.create_task(service.store.write_concurrent(hold))
        others = [asyncio.create_task(service.store.write_concurrent(other, n)) for n in range(20)]
        await coordinator.messages.send("A-2", "ahead-of-them", "test")
        await asyncio.sleep(0.5)  # the node heard it and asked for its claim, behind `hold`
        held.set()
        await asyncio.gather(blocker, *others)
        await _until(lambda: node.delivered == 2, "its receipt not stored")
        (second,) = [n for n, what in enumerate(order) if "ahead-of-them" in what]
        assert second < 10, order
        assert [o for o in order if o.startswith("other")] == [f"other-{n}" for n in range(20)]
    finally:
        held.set()
        stop.set()
        await running
        await service.close()


async def test_a_wake_for_entries_already_written_does_not_spin_the_protocol_loop(
    node_settings: Settings,
) -> None:
    """The node's protocol loop woken when the entries that woke it were written already
    (they came while the last write ran, in its batch): it looks once and sleeps, instead of
    looking again and again until its next sync (before: thousands of looks in 0.5 s)."""
    from automation.protocol.watch import ProtocolWatch
    from core.agents._judge import Freshness

    service = await SwarmService.open(node_settings, readers=0)
    watch = ProtocolWatch(service, Freshness(), node="desk-1")
    node = DeliveryNode(service, HeldDeliverer(), "desk-1", lease_s=30, protocol=watch)
    looks = 0
    next_due = watch.next_due

    async def counted() -> float | None:
        nonlocal looks
        looks += 1
        return await next_due()

    watch.next_due = counted  # type: ignore[method-assign]
    stop = asyncio.Event()
    running = asyncio.create_task(node.run(stop))
    try:
        await asyncio.sleep(0.3)  # started; nothing pending (no protocol agent)
        watch.wake()
        before = looks
        await asyncio.sleep(0.5)
        assert looks - before <= 5, looks - before
    finally:
        stop.set()
        await running
        await service.close()


async def test_timings_name_a_slow_write_call_with_its_wait_and_run(
    node_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """``swarm node --timings``: a write call that took 100 ms or more is a ``timing:`` line
    naming what it ran, its wait in the queue and its run; a quick one is none."""
    service = await SwarmService.open(node_settings, readers=0)

    def slow_step(conn: Any) -> None:
        conn.execute("SELECT pg_sleep(0.15)")

    def quick_step(conn: Any) -> None:
        conn.execute("SELECT 1")

    try:
        with caplog.at_level(logging.DEBUG, logger="core.store.postgres.store"):
            await service.store.write_concurrent(slow_step)
            await service.store.write_concurrent(quick_step)
        lines = [r.getMessage() for r in caplog.records if "timing: store call" in r.message]
        assert len(lines) == 1 and "run_unlocked slow_step waited" in lines[0], lines
        ran = int(lines[0].split("ran ")[1].split(" ms")[0])
        assert ran >= 150, lines
    finally:
        await service.close()
