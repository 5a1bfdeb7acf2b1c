"""The composition root runs the watch tick and the stored schedules in the coordinator's
timer loop; no display means no screen activity."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC

import pytest

from automation.desktop.watch import ScreenFrames
from bot.app import Builder, run_headless
from bot.config import Config
from core.models import Agent, TaskSpec
from core.schedules.recurring import ScheduleSpec, add_schedule, list_schedules
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import RecordingDeliverer
from tests.watch.conftest import FakeFrames, kinds, watch_settings


async def test_swarm_run_without_discord_runs_the_watch_jobs(settings: Settings) -> None:
    frames = FakeFrames()
    grabbed: list[str] = []
    grab = frames.grab

    def recording_grab(agent: Agent) -> bytes | None:
        grabbed.append(agent.id)
        return grab(agent)

    frames.grab = recording_grab  # type: ignore[method-assign]
    deliverer = RecordingDeliverer()
    watch = watch_settings(
        interval_s=0.05,
        stall_after_s=0.3,
        reassign_after_s=600,
        grace_s=0,
        nudge_cooldown_s=0,
        daily_summary="0 18 * * *",
    )
    builder = Builder(
        Config({}, core=settings, watch=watch), deliverer=lambda _: deliverer, frames=frames
    )
    stop = asyncio.Event()
    runner = asyncio.create_task(run_headless(builder, stop=stop))
    service = await SwarmService.open(settings)  # as the CLI would, from another connection
    try:
        await service.tasks.create(TaskSpec("quiet work", agent="Agent-2"), "test")
        await add_schedule(
            service,
            ScheduleSpec("prompt", "agent:Agent-5", "hourly check", every_s=3600),
            "test",
            UTC,
        )
        await service.store.update(
            lambda conn: conn.execute(
                "UPDATE schedules SET next_run_at = $1 WHERE builtin IS NULL", (time.time() + 0.3,)
            )
        )
        deadline = time.monotonic() + 15
        while not (await kinds(service, "alert.opened") and deliverer.for_agent("Agent-5")):
            assert time.monotonic() < deadline and not runner.done(), deliverer.parcels
            await asyncio.sleep(0.05)
        stop.set()
        assert await asyncio.wait_for(runner, 10) is None
    finally:
        stop.set()
        await asyncio.gather(runner, return_exceptions=True)
    try:
        [alert] = await kinds(service, "alert.opened")  # the watch tick judged Agent-2 stalled
        assert alert.agent == "Agent-2"
        assert "hourly check" in deliverer.for_agent("Agent-5")[0].text  # the schedule ran
        assert "Agent-2" in grabbed  # the tick looked at the screen
        assert frames.closed  # the loop stopped the watcher
        schedules = {s.builtin: s for s in await list_schedules(service)}
        daily = schedules["daily-summary"]
        assert (daily.kind, daily.cron) == ("summary", "0 18 * * *")
        assert schedules[None].runs == 1
    finally:
        await service.close()


async def test_bad_watch_settings_stop_the_coordinator_with_the_variable(home: object) -> None:
    from core.errors import ConfigError

    config = Config({"SWARM_HOME": str(home), "SWARM_STALL_AFTER": "ten minutes"})
    with pytest.raises(ConfigError, match="SWARM_STALL_AFTER"):
        await run_headless(
            Builder(config, deliverer=lambda _: RecordingDeliverer()), stop=asyncio.Event()
        )


def test_no_display_is_said_once_and_gives_no_frames(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    frames = ScreenFrames()
    agent = Agent("Agent-1", "qa", watch=(0, 0, 100, 100))
    with caplog.at_level(logging.WARNING, logger="automation.desktop.watch"):
        assert frames.grab(agent) is None
        assert frames.grab(agent) is None
    frames.close()
    assert [r.getMessage() for r in caplog.records] == [
        "no display (DISPLAY is not set): screen activity is not watched; agents' CLI reports "
        "still count as activity"
    ]
    assert frames.grab(Agent("Agent-2", "qa")) is None  # no watch region at all
