"""The composition root starts and stops the jobs; no display means no screen activity."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from automation.watch import ScreenFrames
from bot.app import run_headless
from core.models import Agent
from core.schedules import list_schedules
from core.service import SwarmService
from core.settings import Settings
from tests.helpers import RecordingDeliverer


async def test_swarm_run_without_discord_runs_the_watch_jobs(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARM_WATCH_INTERVAL", "0.1")
    monkeypatch.delenv("SWARM_DAILY_SUMMARY", raising=False)
    stop = asyncio.Event()
    runner = asyncio.create_task(run_headless(settings, deliverer=RecordingDeliverer(),
                                              stop=stop))
    service = await SwarmService.open(settings)
    try:
        deadline = time.monotonic() + 10
        while not await list_schedules(service):
            assert time.monotonic() < deadline and not runner.done()
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # a few ticks
        stop.set()
        assert await asyncio.wait_for(runner, 10) is None
        [daily] = await list_schedules(service)
        assert (daily.builtin, daily.kind, daily.cron) == ("daily-summary", "summary",
                                                           "0 18 * * *")
    finally:
        stop.set()
        await asyncio.gather(runner, return_exceptions=True)
        await service.close()


async def test_bad_watch_settings_stop_the_coordinator_with_the_variable(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.errors import ConfigError

    monkeypatch.setenv("SWARM_STALL_AFTER", "ten minutes")
    with pytest.raises(ConfigError, match="SWARM_STALL_AFTER"):
        await run_headless(settings, deliverer=RecordingDeliverer(), stop=asyncio.Event())


def test_no_display_is_said_once_and_gives_no_frames(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    frames = ScreenFrames()
    agent = Agent("Agent-1", "qa", watch=(0, 0, 100, 100))
    with caplog.at_level(logging.WARNING, logger="automation.watch"):
        assert frames.grab(agent) is None
        assert frames.grab(agent) is None
    frames.close()
    assert [r.getMessage() for r in caplog.records] == [
        "no display (DISPLAY is not set): screen activity is not watched; agents' CLI reports "
        "still count as activity"]
    assert frames.grab(Agent("Agent-2", "qa")) is None  # no watch region at all
