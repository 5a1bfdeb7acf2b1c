"""Delivery nodes in-process: claims by node, leases, retries, fencing, status."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.coordinator.node import DeliveryNode
from core.coordinator.scheduler import Scheduler
from core.errors import ConfigError
from core.models import DeliveryState
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import RecordingDeliverer, headless_run, write_agents

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
LEASE_S = 30.0


@pytest.fixture
async def svc(node_settings: Settings, clock: ManualClock) -> AsyncIterator[SwarmService]:
    """The service on the manual clock."""
    service = await SwarmService.open(node_settings, clock)
    yield service
    await service.close()


async def test_each_node_delivers_only_its_agents_and_the_coordinator_the_rest(
    svc: SwarmService,
) -> None:
    await svc.messages.broadcast("hello all", "test")
    desk1, desk2 = RecordingDeliverer(), RecordingDeliverer()
    coordinator = RecordingDeliverer()
    assert await Scheduler(svc, coordinator).deliver_once() == 1
    assert [p.agent.id for p in coordinator.parcels] == ["C-1"]
    assert await DeliveryNode(svc, desk1, "desk-1", lease_s=LEASE_S).step() == 2
    assert await DeliveryNode(svc, desk2, "desk-2", lease_s=LEASE_S).step() == 1
    assert sorted(p.agent.id for p in desk1.parcels) == ["A-1", "A-2"]
    assert [p.agent.id for p in desk2.parcels] == ["B-1"]
    assert all(d.state is DeliveryState.delivered for d in await svc.messages.deliveries())
    claimed = [e.text for e in await svc.history.events() if e.kind == "delivery.claimed"]
    assert sum("delivering by desk-1" in t for t in claimed) == 2
    status = await svc.status()
    assert [(n["name"], n["in_flight"]) for n in status.get("nodes", [])] == []  # no heartbeat
    assert {a["id"]: a["node"] for a in status["agents"]} == {
        "A-1": "desk-1",
        "A-2": "desk-1",
        "B-1": "desk-2",
        "C-1": None,
    }


async def test_a_dead_nodes_claim_goes_out_again_as_a_retry_and_the_dead_node_never_sends_it(
    svc: SwarmService, clock: ManualClock
) -> None:
    await svc.messages.send("A-1", "only once please", "test")
    dead_deliverer, next_deliverer = RecordingDeliverer(), RecordingDeliverer()
    dead = DeliveryNode(svc, dead_deliverer, "desk-1", lease_s=LEASE_S)
    held = await dead.claim()  # ... and the node freezes before delivering
    assert len(held) == 1
    restarted = DeliveryNode(svc, next_deliverer, "desk-1", lease_s=LEASE_S)
    assert await restarted.step() == 0  # the claim's lease still runs: skipped
    clock.advance(LEASE_S + 1)
    assert await restarted.step() == 1
    (parcel,) = next_deliverer.parcels
    assert parcel.text.startswith("RETRY") or "RETRY" in parcel.text.splitlines()[0]
    assert await dead.deliver(held) == []  # it comes back: nothing sent, nothing stored
    assert dead_deliverer.parcels == [] and dead.lost == 1
    (delivery,) = await svc.messages.deliveries()
    assert delivery.state is DeliveryState.delivered and delivery.attempts == 2
    taken = [e for e in await svc.history.events() if e.kind == "delivery.claimed"]
    assert len(taken) == 1 and f"taken over from desk-1 (run {dead.claimer.run})" in taken[0].text


async def test_a_late_receipt_of_a_claim_taken_over_is_dropped(
    svc: SwarmService, clock: ManualClock
) -> None:
    await svc.messages.send("A-2", "late", "test")
    slow_deliverer = RecordingDeliverer()
    slow = DeliveryNode(svc, slow_deliverer, "desk-1", lease_s=LEASE_S)
    held = await slow.claim()
    clock.advance(LEASE_S + 1)
    other = DeliveryNode(svc, RecordingDeliverer(), "desk-1", lease_s=LEASE_S)
    assert await other.step() == 1
    clock.advance(-LEASE_S)  # the slow node still believes its lease runs
    assert await slow.deliver(held) == ["lost"]  # sent (at least once), but not recorded
    assert len(slow_deliverer.parcels) == 1
    delivered = [e for e in await svc.history.events() if e.kind == "delivery.delivered"]
    assert len(delivered) == 1


async def test_a_node_needs_agents_and_postgresql(svc: SwarmService, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no agent has node = 'desk-9'"):
        DeliveryNode(svc, RecordingDeliverer(), "desk-9")
    bad = write_agents(tmp_path / "bad.toml", [{"id": "X", "role": "w", "node": "no way"}])
    with pytest.raises(ConfigError, match="node must be 1-64 letters"):
        from core.agents_file import load_agents

        load_agents(bad)


@pytest.mark.timeout(60)
async def test_the_coordinator_hears_another_processes_write_without_polling(
    node_settings: Settings,
) -> None:
    """The loop polls every 30 s here: only LISTEN swarm_changes can wake it in time."""
    import asyncio

    from bot.app import Builder
    from bot.config import Config
    from core.models import TaskSpec
    from tests.watch.conftest import FakeFrames

    recorded = RecordingDeliverer()
    builder = Builder(
        Config({"SWARM_WATCH_INTERVAL": "3600"}, core=node_settings),
        deliverer=lambda _: recorded,
        frames=FakeFrames(),
        poll_s=30,
    )
    other = await SwarmService.open(node_settings)  # another process, as far as PG knows
    try:
        async with headless_run(builder) as runner:
            await asyncio.sleep(1.0)  # the loop is asleep for its 30 s poll by now
            await other.tasks.create(TaskSpec("wake up", agent="C-1"), "cli")
            for _ in range(200):
                if recorded.parcels or runner.done():
                    break
                await asyncio.sleep(0.05)
            assert not runner.done()
            assert [p.agent.id for p in recorded.parcels] == ["C-1"]
    finally:
        await other.close()


async def test_a_desktop_nodes_lease_must_outlast_one_delivery(
    node_settings: Settings, tmp_path: Path
) -> None:
    config = write_agents(
        tmp_path / "gui.toml",
        [{"id": "G-1", "role": "w", "delivery": "gui", "input": [10, 10], "node": "desk-9"}],
    )
    settings = Settings.from_env(
        {
            "SWARM_HOME": str(tmp_path / "gui"),
            "SWARM_CONFIG": str(config),
            "SWARM_DATABASE_URL": node_settings.database_url or "",
        }
    )
    service = await SwarmService.open(settings)
    try:
        slow = RecordingDeliverer(time_limit_s=30.0)  # the desktop driver's deadline
        with pytest.raises(ConfigError, match=r"lease \(10 s\) must be longer"):
            DeliveryNode(service, slow, "desk-9", lease_s=10)
        assert DeliveryNode(service, slow, "desk-9", lease_s=45).lease_s == 45
        assert DeliveryNode(service, slow, "desk-9").lease_s == 60  # the default outlasts it
        # the desktop driver's 65 s: the default lease (60 s) stopped `swarm node` at start
        # with windows (the mixed day passed --lease 90); the default now outlasts it
        driver = RecordingDeliverer(time_limit_s=65.0)
        assert DeliveryNode(service, driver, "desk-9").lease_s == 90
        with pytest.raises(ConfigError, match=r"lease \(60 s\) must be longer"):
            DeliveryNode(service, driver, "desk-9", lease_s=60)  # said so: too short
    finally:
        await service.close()


@pytest.mark.timeout(60)
async def test_other_processes_commits_in_a_burst_wake_the_loop_once(
    node_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty commits of another process within the gathering time (a fleet's nodes writing
    their agents' journals) wake the coordinator's loop once, after them, not twenty times;
    a commit after that wakes it again (none is lost). The gathering time is made 2 s here,
    so that the twenty fit in it on a loaded machine (it is 0.05 s); each wake is awaited,
    then the quiet after it."""
    import asyncio

    from core.coordinator import changes
    from core.models import TaskSpec

    monkeypatch.setattr(changes, "GATHER_S", 2.0)
    coordinator = await SwarmService.open(node_settings)
    other = await SwarmService.open(node_settings)  # another process, as far as PG knows
    listener = changes.ChangeListener(coordinator)
    loop = asyncio.get_running_loop()
    wakes: list[float] = []
    listener.on_change = lambda: wakes.append(loop.time())

    async def woken(count: int) -> None:
        deadline = loop.time() + changes.GATHER_S + 10
        while len(wakes) < count:
            assert loop.time() < deadline, f"{len(wakes)} wakes, {count} awaited"
            await asyncio.sleep(0.05)

    await listener.start()
    try:
        await asyncio.sleep(0.5)  # listening
        started = loop.time()
        for n in range(20):
            await other.tasks.create(TaskSpec(f"burst {n}", agent="C-1"), "cli")
        burst_s = loop.time() - started
        assert burst_s < changes.GATHER_S, f"the burst took {burst_s:.2f} s: not one gathering"
        await woken(1)
        await asyncio.sleep(max(0.5, burst_s + 0.3))  # a wake per commit would be here now
        assert len(wakes) == 1, len(wakes)
        await other.tasks.create(TaskSpec("after it", agent="C-1"), "cli")
        await woken(2)
        await asyncio.sleep(0.5)
        assert len(wakes) == 2, len(wakes)
    finally:
        await listener.stop()
        await other.close()
        await coordinator.close()
