"""Stall rules on a manual clock with a scripted frame source (no screen needed)."""

from __future__ import annotations

import pytest

from core.agents._alerts import digest, list_alerts
from core.agents._frames import frames_differ
from core.coordinator.jobs import Watcher
from core.errors import ConfigError
from core.models import Delivery, Receipt, TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.watch.settings import WatchSettings
from tests.watch.conftest import FakeFrames, assign, kinds, watch_settings

pytestmark = pytest.mark.both_databases


async def run_ticks(
    watcher: Watcher, clock: ManualClock, seconds: float, step: float = 60.0, before_tick=None
) -> list:
    """Advance ``seconds`` in ``step`` s, one tick per step; the reports."""
    reports = []
    for _ in range(round(seconds / step)):
        clock.advance(step)
        if before_tick:
            before_tick()
        reports.append(await watcher.tick())
    return reports


async def state_of(service: SwarmService, agent: str) -> str:
    return next(r["state"] for r in await service.roster.rows() if r["id"] == agent)


async def test_frozen_agent_is_nudged_once_per_cooldown_then_its_task_is_reassigned(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    start = clock.now()
    task_id = await assign(service, "Agent-2")
    frames.frames["Agent-2"] = bytes(64)
    watcher = Watcher(service, watch_settings(), frames)
    await watcher.tick()
    await run_ticks(watcher, clock, 1800)
    nudges = await kinds(service, "agent.nudged")
    assert [e.ts - start for e in nudges] == [600, 900]
    assert all(e.agent == "Agent-2" and e.task_id == task_id for e in nudges)
    task = await service.tasks.get(task_id)
    assert task.status is TaskStatus.ready and task.agent is None
    assert task.reason == "Agent-2 stalled: no activity for 30 min"
    opened, cleared = await kinds(service, "alert.opened"), await kinds(service, "alert.cleared")
    assert [e.ts - start for e in opened] == [600] and [e.ts - start for e in cleared] == [1800]
    assert await state_of(service, "Agent-2") == "idle"
    assert await service.store.read(digest, start, clock.now()) == (
        "watcher: 1 stall(s) (Agent-2 1), 2 nudge(s), 1 task(s) taken back, 0 unreachable alert(s)"
    )
    await watcher.close()
    assert frames.closed


async def test_an_idle_agent_is_never_nudged(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    watcher = Watcher(service, watch_settings(), frames)
    reports = await run_ticks(watcher, clock, 4 * 3600, step=300)
    assert not any(r.stalled or r.nudged or r.opened for r in reports)
    assert await kinds(service, "agent.nudged") == []
    # no signal has seen them (no frames, no hooks, no reports): unknown, never "idle"
    assert {r["state"] for r in await service.roster.rows()} == {"unknown"}


async def test_no_nudge_within_the_grace_period_after_an_assignment(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    start = clock.now()
    await assign(service, "Agent-3")
    watcher = Watcher(
        service, watch_settings(stall_after_s=60, grace_s=300, reassign_after_s=3600), frames
    )
    await run_ticks(watcher, clock, 600, step=30)
    nudges = await kinds(service, "agent.nudged")
    assert nudges and nudges[0].ts - start == 300


async def test_screen_changes_and_cli_reports_count_as_activity(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    screen_task = await assign(service, "Agent-1")
    cli_task = await assign(service, "Agent-5")
    frames.frames["Agent-1"] = bytes(64)
    watcher = Watcher(service, watch_settings(), frames)
    await watcher.tick()
    for _ in range(40):  # 40 min: far past stall_after and reassign_after
        clock.advance(60)
        frames.change("Agent-1")
        if clock.now() % 300 == 0:
            await service.tasks.start(cli_task, "Agent-5", "still on it")
        report = await watcher.tick()
        assert not report.stalled, report
    assert await kinds(service, "agent.nudged") == []
    for task_id, agent in ((screen_task, "Agent-1"), (cli_task, "Agent-5")):
        assert (await service.tasks.get(task_id)).agent == agent
        assert await state_of(service, agent) == "working"


async def test_activity_ends_the_stall_and_clears_the_alert_once(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    task_id = await assign(service, "Agent-4")
    frames.frames["Agent-4"] = bytes(64)
    watcher = Watcher(service, watch_settings(), frames)
    await watcher.tick()
    await run_ticks(watcher, clock, 660)
    assert await state_of(service, "Agent-4") == "stalled"
    frames.change("Agent-4")
    await run_ticks(watcher, clock, 60)
    assert await state_of(service, "Agent-4") == "working"
    await run_ticks(watcher, clock, 60)
    assert await state_of(service, "Agent-4") == "idle"  # quiet again, not stalled yet
    assert len(await kinds(service, "alert.opened")) == 1
    cleared = await kinds(service, "alert.cleared")
    assert [e.text for e in cleared] == ["Agent-4 is no longer stalled: activity seen"]
    assert (await service.tasks.get(task_id)).agent == "Agent-4"
    assert await service.store.read(list_alerts) == []


async def test_max_nudges_count_per_task_not_per_stall(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    await assign(service, "Agent-6")
    frames.frames["Agent-6"] = bytes(64)
    watcher = Watcher(service, watch_settings(max_nudges=1, nudge_cooldown_s=0), frames)
    await watcher.tick()
    await run_ticks(watcher, clock, 660)
    frames.change("Agent-6")  # it answers the nudge, then freezes again
    await run_ticks(watcher, clock, 1200)
    assert len(await kinds(service, "agent.nudged")) == 1
    assert len(await kinds(service, "alert.opened")) == 2


async def test_our_own_delivery_is_not_activity(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    await assign(service, "Agent-7")
    frames.frames["Agent-7"] = bytes(64)
    watcher = Watcher(service, watch_settings(), frames)
    await watcher.tick()
    clock.advance(700)
    delivery = await service.queue.claim_delivery()
    assert delivery is not None and delivery.agent == "Agent-7"
    await service.queue.record_receipt(delivery, Receipt.delivered("test"))
    frames.change("Agent-7")  # the pasted prompt shows up in the window
    report = await watcher.tick()
    # Not activity, and the stall clock starts again at the delivery plus the grace period.
    assert report.echoes == ["Agent-7"] and report.active == [] and report.stalled == []
    clock.advance(120 + 600 - 1)
    assert (await watcher.tick()).stalled == []
    clock.advance(1)
    assert (await watcher.tick()).stalled == ["Agent-7"]


async def test_a_busy_window_is_not_stalled_at_its_first_ticks(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    """Short intervals, a window changing every 300 ms once its prompt is in: never stalled."""
    settings = watch_settings(interval_s=1, stall_after_s=4, grace_s=2, nudge_cooldown_s=1)
    frames.frames["Agent-3"] = bytes(64)
    watcher = Watcher(service, settings, frames)
    await watcher.tick()  # watching for a while already: the first frame is old
    clock.advance(30)
    await watcher.tick()
    await assign(service, "Agent-3")
    clock.advance(3)  # the prompt arrives 3 s after the assignment (others went first)
    delivery = await service.queue.claim_delivery()
    assert delivery is not None and delivery.agent == "Agent-3"
    await service.queue.record_receipt(delivery, Receipt.delivered("test"))
    stalled = []
    for _ in range(12):  # 12 s of 300 ms changes, a tick a second
        for _ in range(3):
            clock.advance(0.3)
            frames.change("Agent-3")
        clock.advance(0.1)
        stalled += (await watcher.tick()).stalled
    assert stalled == []
    assert await kinds(service, "agent.nudged") == []
    assert await kinds(service, "alert.opened") == []


async def test_a_stalled_task_out_of_attempts_fails(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    task_id = await assign(service, "Agent-8")
    await service.store.update(lambda conn: conn.execute("UPDATE tasks SET max_attempts = 1"))
    watcher = Watcher(service, watch_settings(), frames)
    await run_ticks(watcher, clock, 1800)
    task = await service.tasks.get(task_id)
    assert task.status is TaskStatus.failed and "stalled" in (task.reason or "")


async def test_an_agent_whose_deliveries_keep_failing_is_unreachable(
    service: SwarmService, clock: ManualClock
) -> None:
    watcher = Watcher(service, watch_settings(), None)

    async def deliver(ok: bool) -> None:
        await service.messages.send("Agent-3", "hello", "test")
        delivery: Delivery | None = await service.queue.claim_delivery()
        assert delivery is not None
        receipt = (
            Receipt.delivered("test")
            if ok
            else Receipt.failed("window gone", "test", retryable=False)
        )
        await service.queue.record_receipt(delivery, receipt)
        clock.advance(10)
        await watcher.tick()

    async def alerts_of(agent: str) -> list[str]:
        return next(r["alerts"] for r in await service.roster.rows() if r["id"] == agent)

    for _ in range(2):
        await deliver(False)
    assert await alerts_of("Agent-3") == []
    for _ in range(3):
        await deliver(False)
    assert await alerts_of("Agent-3") == ["unreachable"]
    opened = await kinds(service, "alert.opened")
    assert [e.text for e in opened] == [
        "Agent-3 unreachable: its last 3 deliveries failed (window gone)"
    ]
    await deliver(True)
    assert await alerts_of("Agent-3") == []
    assert [e.agent for e in await kinds(service, "alert.cleared")] == ["Agent-3"]


def test_frames_differ_ignores_noise_and_sees_change() -> None:
    base = bytes(100)
    one_pixel = bytes([200]) + bytes(99)
    small = bytes([5] * 100)
    two_pixels = bytes([200, 200]) + bytes(98)
    assert not frames_differ(base, base)
    assert not frames_differ(base, one_pixel)
    assert not frames_differ(base, small)
    assert frames_differ(base, two_pixels)
    assert not frames_differ(base, bytes(50))  # another size: a new baseline


def test_settings_defaults_and_errors() -> None:
    assert WatchSettings.from_env({}) == WatchSettings()
    assert WatchSettings() == WatchSettings(5, 600, 300, 2, 1800, 120, 3, "0 18 * * *")
    custom = WatchSettings.from_env(
        {
            "SWARM_WATCH_INTERVAL": "2",
            "SWARM_MAX_NUDGES": "0",
            "SWARM_GRACE": "0",
            "SWARM_DAILY_SUMMARY": "off",
        }
    )
    assert (custom.interval_s, custom.max_nudges, custom.grace_s) == (2, 0, 0)
    assert custom.daily_summary is None
    bad = {
        "SWARM_STALL_AFTER": "soon",
        "SWARM_MAX_NUDGES": "1.5",
        "SWARM_NUDGE_COOLDOWN": "-1",
        "SWARM_DAILY_SUMMARY": "0 25 * * *",
    }
    for name, value in bad.items():
        with pytest.raises(ConfigError, match=name):
            WatchSettings.from_env({name: value})
    with pytest.raises(ConfigError, match="SWARM_REASSIGN_AFTER"):
        WatchSettings.from_env({"SWARM_STALL_AFTER": "900", "SWARM_REASSIGN_AFTER": "600"})


async def test_a_nudge_names_the_home_in_its_commands_and_has_no_task_footer(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    """Its inline commands carry ``SWARM_HOME=`` like the prompts (issue 28, item 13)."""
    import shlex

    from automation.inbox.files import InboxDeliverer
    from core.coordinator.scheduler import Scheduler

    home = service.settings.home
    scheduler = Scheduler(service, InboxDeliverer(home / "inbox"))
    await assign(service, "Agent-2")
    await scheduler.run_burst()
    await service.tasks.start("T-1", "Agent-2")
    frames.frames["Agent-2"] = bytes(64)
    watcher = Watcher(service, watch_settings(), frames)
    await watcher.tick()
    await run_ticks(watcher, clock, 720)
    assert len(await kinds(service, "agent.nudged")) == 1
    await scheduler.run_burst()
    folder = home / "inbox" / "Agent-2"
    nudge = [p.read_text() for p in sorted(folder.iterdir()) if not p.name.startswith(".")][-1]
    swarm = f"SWARM_HOME={shlex.quote(str(home))} swarm"
    assert nudge.startswith("[swarm] from watch to Agent-2 | about T-1 | ")
    assert f'{swarm} task start T-1 --note "..."' in nudge
    assert f'{swarm} task fail T-1 --reason "..."' in nudge
    assert "Report back" not in nudge and "Work in" not in nudge
    await watcher.close()


def test_limit_handoff_reads_seconds_zero_or_off() -> None:
    assert WatchSettings.from_env({}).limit_handoff_s == 300.0
    assert WatchSettings.from_env({"SWARM_LIMIT_HANDOFF": "0"}).limit_handoff_s == 0.0
    assert WatchSettings.from_env({"SWARM_LIMIT_HANDOFF": "off"}).limit_handoff_s is None
    with pytest.raises(ConfigError, match="SWARM_LIMIT_HANDOFF"):
        WatchSettings.from_env({"SWARM_LIMIT_HANDOFF": "soon"})
