"""Schedules: validation, runs, restarts with overdue runs, the default daily summary, and
the scheduler's one timer loop firing the watch tick and a due schedule."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime

import pytest

from bot.app import Builder
from bot.config import Config
from core.coordinator.jobs import Jobs, Watcher, summarizer
from core.coordinator.scheduler import Scheduler
from core.errors import InvalidInput, NotFound
from core.models import Agent
from core.protocols import ManualClock
from core.schedules.recurring import ScheduleSpec, add_schedule, list_schedules, remove_schedule
from core.schedules.timing import InvalidSchedule, next_run
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import RecordingDeliverer
from tests.watch.conftest import FakeFrames, kinds, watch_settings

pytestmark = pytest.mark.both_databases


class FakeSummary:
    """An injected summarizer that records the periods asked for."""

    def __init__(self) -> None:
        self.periods: list[str] = []

    async def __call__(self, period: str) -> str:
        self.periods.append(period)
        return f"numbers of {period}"


def jobs_for(service: SwarmService, summary: FakeSummary | None = None, **settings) -> Jobs:
    return Jobs(service, watch_settings(**settings), summarize=summary or FakeSummary(), zone=UTC)


def weekday(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%a %H:%M")


async def test_invalid_schedules_are_refused_with_the_reason_and_nothing_is_written(
    service: SwarmService,
) -> None:
    cases = {
        ScheduleSpec("prompt", "all", "hi", cron="61 * * * *"): "invalid cron expression "
        "'61 * * * *': Error validating expression '61'",
        ScheduleSpec("prompt", "all", "hi", cron="0 18 * *"): "wrong number of fields: got 4",
        ScheduleSpec("prompt", "all", "hi", cron="0 18 * * 8"): "weekday '8' must be within",
        ScheduleSpec("prompt", "all", "hi", every_s=10): "at least 60 seconds",
        ScheduleSpec("prompt", "all", "hi", cron="0 1 * * *", every_s=60): "not both",
        ScheduleSpec("prompt", "team:x", "hi", every_s=60): "invalid target",
        ScheduleSpec("summary", cron="0 18 * * *", period="2y"): "invalid period",
    }
    for spec, reason in cases.items():
        with pytest.raises(InvalidInput, match=re.escape(reason)) as refused:
            await add_schedule(service, spec, "test", UTC)
        assert isinstance(refused.value, InvalidSchedule) or "period" in reason
    with pytest.raises(NotFound, match="Agent-9"):
        await add_schedule(
            service, ScheduleSpec("prompt", "agent:Agent-9", "hi", every_s=60), "test", UTC
        )
    assert await list_schedules(service) == []
    assert await service.history.events() == []


def test_cron_weekdays_count_from_sunday_like_crontab() -> None:
    saturday = datetime(2026, 11, 21, 12, tzinfo=UTC).timestamp()
    assert weekday(next_run("0 18 * * 0", None, saturday, UTC)) == "Sun 18:00"
    assert weekday(next_run("0 18 * * 7", None, saturday, UTC)) == "Sun 18:00"
    assert weekday(next_run("0 9 * * 1-5", None, saturday, UTC)) == "Mon 09:00"
    assert weekday(next_run("0 9 * * mon-fri", None, saturday, UTC)) == "Mon 09:00"
    assert weekday(next_run("30 8 * * 5-7", None, saturday, UTC)) == "Sun 08:30"
    assert weekday(next_run("0 18 * * *", None, saturday, UTC)) == "Sat 18:00"
    assert next_run(None, 3600, saturday, UTC) == saturday + 3600


async def test_prompt_and_summary_run_when_due_and_plan_the_next_run(
    service: SwarmService, clock: ManualClock
) -> None:
    summary = FakeSummary()
    jobs = jobs_for(service, summary)
    start = clock.now()
    prompt = await add_schedule(
        service, ScheduleSpec("prompt", "role:qa", "Run the tests", every_s=3600), "test", UTC
    )
    post = await add_schedule(
        service, ScheduleSpec("summary", every_s=7200, period="12h"), "test", UTC
    )
    assert await jobs.run_due() == []
    clock.advance(3600)
    ran = await jobs.run_due()
    assert [(c.schedule.ref, c.late) for c in ran] == [(prompt.ref, False)]
    [delivery] = await service.messages.deliveries()
    assert delivery.agent == "Agent-4" and delivery.text == "Run the tests"
    clock.advance(3600)
    assert [c.schedule.ref for c in await jobs.run_due()] == [prompt.ref, post.ref]
    await jobs.drain()
    assert summary.periods == ["12h"]
    [posted] = await kinds(service, "summary.posted")
    assert posted.text == (
        f"Summary ({post.ref}):\nnumbers of 12h\nwatcher: 0 stall(s), "
        "0 nudge(s), 0 task(s) taken back, 0 unreachable alert(s)"
    )
    assert posted.data == {
        "schedule": post.ref,
        "late": False,
        "due_at": start + 7200,
        "period": "12h",
    }
    stored = {s.ref: s for s in await list_schedules(service)}
    assert stored[prompt.ref].runs == 2 and stored[prompt.ref].next_run_at == start + 3 * 3600
    assert stored[post.ref].next_run_at == start + 4 * 3600


async def test_schedules_survive_a_restart_and_overdue_ones_run_once_late(
    settings: Settings, clock: ManualClock
) -> None:
    service = await SwarmService.open(settings, clock)
    start = clock.now()
    hourly = await add_schedule(
        service, ScheduleSpec("prompt", "agent:Agent-1", "hourly", every_s=3600), "test", UTC
    )
    evening = await add_schedule(service, ScheduleSpec("summary", cron="0 18 * * *"), "test", UTC)
    daily = await add_schedule(
        service, ScheduleSpec("prompt", "all", "daily", every_s=86_400), "test", UTC
    )
    jobs = jobs_for(service)
    await jobs.start()
    stored = {s.ref: s.next_run_at for s in await list_schedules(service)}
    assert stored == {
        hourly.ref: start + 3600,
        evening.ref: evening.next_run_at,
        daily.ref: start + 86_400,
    }
    assert await jobs.next_due() == min(  # the deadline the loop sleeps to
        at for at in stored.values() if at is not None
    )
    await jobs.stop()
    await service.close()

    clock.advance(12 * 3600)  # the coordinator was down for 12 hours
    for restart in range(2):
        service = await SwarmService.open(settings, clock)
        summary = FakeSummary()
        jobs = jobs_for(service, summary)
        await jobs.start()
        await jobs.drain()
        kept = {s.ref: s for s in await list_schedules(service)}
        assert all(s.next_run_at and s.next_run_at > clock.now() for s in kept.values())
        assert await jobs.next_due() == min(s.next_run_at or 0 for s in kept.values())
        assert summary.periods == ([] if restart else ["1d"])
        await jobs.stop()
        await service.close()
    assert [s.runs for s in kept.values()] == [1, 1, 0]
    assert kept[hourly.ref].next_run_at == clock.now() + 3600
    service = await SwarmService.open(settings, clock)
    try:
        [ran] = await kinds(service, "schedule.ran")
        assert ran.data and ran.data["late"] and "late: was due" in ran.text
        [posted] = await kinds(service, "summary.posted")
        assert posted.data and posted.data["late"] and "late: was due" in posted.text
        assert len(await service.messages.deliveries()) == 1
    finally:
        await service.close()


async def test_a_schedule_that_cannot_run_says_why_and_moves_on(
    service: SwarmService, clock: ManualClock
) -> None:
    made = await add_schedule(
        service, ScheduleSpec("prompt", "role:qa", "hi", every_s=600), "test", UTC
    )
    await service.store.update(
        lambda conn: conn.execute("UPDATE schedules SET target_name = 'gone'")
    )
    clock.advance(600)
    await jobs_for(service).run_due()
    [failed] = await kinds(service, "schedule.failed")
    assert failed.text.startswith(f"{made.ref} could not run: unknown role 'gone'")
    [stored] = await list_schedules(service)
    assert stored.runs == 1 and stored.next_run_at == clock.now() + 600
    await remove_schedule(service, made.ref, "test")
    assert await list_schedules(service) == []
    with pytest.raises(NotFound, match="S-1"):
        await remove_schedule(service, "s-1", "test")


async def test_the_daily_summary_is_created_once_and_follows_the_setting(
    service: SwarmService,
) -> None:
    await jobs_for(service, daily_summary="0 18 * * *").ensure_defaults()
    await jobs_for(service, daily_summary="0 18 * * *").ensure_defaults()
    [daily] = await list_schedules(service)
    assert (daily.builtin, daily.kind, daily.cron, daily.period) == (
        "daily-summary",
        "summary",
        "0 18 * * *",
        "1d",
    )
    await jobs_for(service, daily_summary="30 17 * * *").ensure_defaults()
    [moved] = await list_schedules(service)
    assert moved.cron == "30 17 * * *" and moved.enabled
    await jobs_for(service, daily_summary=None).ensure_defaults()
    [off] = await list_schedules(service)
    assert not off.enabled
    await remove_schedule(service, off.ref, "test")
    await jobs_for(service, daily_summary="0 18 * * *").ensure_defaults()
    assert await list_schedules(service) == []


async def test_the_timer_loop_fires_the_tick_and_a_schedule_changed_by_another_process(
    settings: Settings,
) -> None:
    service = await SwarmService.open(settings)  # the real clock
    other = await SwarmService.open(settings)  # another process's connection (the CLI)
    frames = FakeFrames()
    grabs: list[str] = []
    grab = frames.grab

    def recording_grab(agent: Agent) -> bytes | None:
        grabs.append(agent.id)
        return grab(agent)

    frames.grab = recording_grab  # type: ignore[method-assign]
    watch = watch_settings(interval_s=0.05)
    jobs = Jobs(service, watch, FakeSummary(), Watcher(service, watch, frames), UTC)
    deliverer = RecordingDeliverer()
    stop = asyncio.Event()
    runner = asyncio.create_task(Scheduler(service, deliverer, timers=[jobs]).run(stop))
    try:
        made = await add_schedule(
            other, ScheduleSpec("prompt", "all", "hi", every_s=60), "test", UTC
        )
        await other.store.update(
            lambda conn: conn.execute(  # no wake-up: seen via data_version
                "UPDATE schedules SET next_run_at = $1", (time.time() + 0.2,)
            )
        )
        deadline = time.monotonic() + 10
        while len(deliverer.parcels) < 8 or len(grabs) < 24:
            assert time.monotonic() < deadline, (grabs, await list_schedules(service))
            await asyncio.sleep(0.02)
        assert {p.agent.id for p in deliverer.parcels} == {f"Agent-{i}" for i in range(1, 9)}
        [stored] = await list_schedules(service)
        assert stored.ref == made.ref and stored.runs == 1
        assert await jobs.next_due() is not None
    finally:
        stop.set()
        await runner
        await other.close()
        await service.close()
    assert frames.closed  # the loop stopped its timers


async def test_the_default_summarizer_posts_the_plain_numbers_without_a_model(
    service: SwarmService, clock: ManualClock
) -> None:
    made = await add_schedule(service, ScheduleSpec("summary", every_s=3600), "test", UTC)
    ai = Builder(Config({}, core=service.settings)).ai(service)  # no model configured
    jobs = Jobs(service, watch_settings(), summarizer(ai), zone=UTC)
    clock.advance(3600)
    await jobs.run_due()
    await jobs.drain()
    await ai.close()
    [posted] = await kinds(service, "summary.posted")
    lines = posted.text.splitlines()
    assert lines[0] == f"Summary ({made.ref}):" and lines[1].startswith("No AI model")
    assert any(line.startswith("tasks: 0 created, 0 done, 0 failed") for line in lines)
    assert lines[-1].startswith("watcher: 0 stall(s)")
