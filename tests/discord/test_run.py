"""``swarm run``: bot, scheduler, delivery and notifier in one process; Discord being down
does not stop the coordinator.

The runs that schedule, deliver and notify run on SQLite and PostgreSQL; the startup errors,
raised before the store is used, on SQLite."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from localdiscord import LocalDiscordServer, local_client_options, pointed_at

from bot.app import Builder, run_with_discord
from bot.config import Config
from core.errors import ConfigError
from core.models import TaskSpec
from tests.discord.conftest import discord_settings
from tests.helpers import RecordingDeliverer, run_cli


def builder(
    home: Path,
    server: LocalDiscordServer,
    deliverer: RecordingDeliverer,
    database_url: str | None = None,
    **discord: Any,
) -> Builder:
    """``swarm run`` as the composition root builds it, against the local Discord (on the
    database of ``database_url``, else SQLite in ``home``)."""
    settings = dataclasses.replace(discord_settings(server), **discord)
    env = {"SWARM_HOME": str(home), "SWARM_DATABASE_URL": database_url or ""}
    return Builder(
        Config(env, discord=settings),
        deliverer=lambda _: deliverer,
        client_options=local_client_options(),
    )


@pytest.mark.both_databases
async def test_run_end_to_end_then_clean_stop(
    server: LocalDiscordServer, home: Path, database_url: str | None
) -> None:
    deliverer = RecordingDeliverer()
    stop = asyncio.Event()
    dev = next(u for u in server.guild.users if u.name == "dev")
    with pointed_at(server):
        made = builder(home, server, deliverer, database_url, notify="verbose")  # receipts
        runner = asyncio.create_task(run_with_discord(made, stop=stop))
        await server.wait_for_bot_ready()
        await server.wait_for_commands("task")
        handle = await server.invoke_slash(dev, "task create", {"title": "ship", "role": "web"})
        await handle.wait_callback()
        await server.wait_for_message(lambda m: "T-1 prompt delivered to Agent-7" in m.content)
        assert deliverer.for_agent("Agent-7")[0].task_id == 1
        stop.set()
        await asyncio.wait_for(runner, 15)


@pytest.mark.both_databases
@pytest.mark.timeout(60)
async def test_discord_down_the_coordinator_keeps_delivering_and_the_bot_connects_later(
    server: LocalDiscordServer,
    home: Path,
    database_url: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    deliverer = RecordingDeliverer()
    stop = asyncio.Event()
    dev = next(u for u in server.guild.users if u.name == "dev")
    port = int(server.url.rsplit(":", 1)[1])
    made = builder(
        home,
        server,
        deliverer,
        database_url,
        reconnect_first_s=0.05,
        reconnect_max_s=0.2,
        notify="verbose",
    )
    caplog.set_level(logging.INFO)
    with pointed_at(server):
        await server.close()  # Discord is unreachable
        runner = asyncio.create_task(run_with_discord(made, stop=stop))
        service = await made.service()
        try:
            await service.tasks.create(TaskSpec("while Discord is down", role="web"), "cli")
            await _until(
                lambda: deliverer.for_agent("Agent-7") and len(_attempts(caplog)) >= 3,
                runner,
                "a delivery and three connection attempts",
            )
            await server.start(port)  # Discord is back
            await server.wait_for_bot_ready()
            await server.wait_for_commands("task")
            handle = await server.invoke_slash(dev, "task create", {"title": "after", "role": "qa"})
            await handle.wait_callback()
            await server.wait_for_message(lambda m: "T-2 prompt delivered to Agent-4" in m.content)
            stop.set()
            await asyncio.wait_for(runner, 15)
        finally:
            stop.set()
            await asyncio.gather(runner, return_exceptions=True)
            await service.close()
    attempts = _attempts(caplog)
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in attempts)
    assert "attempt 1 failed" in attempts[0].getMessage()
    assert "Cannot connect to host" in attempts[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]


def _attempts(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith("Discord unreachable")]


async def _until(probe: Callable[[], object], runner: asyncio.Task[None], what: str) -> None:
    deadline = time.monotonic() + 20
    while not probe():
        assert not runner.done(), f"the coordinator stopped: {runner}"
        assert time.monotonic() < deadline, f"waited 20 s for {what}"
        await asyncio.sleep(0.02)


async def test_missing_channel_is_a_clear_startup_error(
    server: LocalDiscordServer, home: Path
) -> None:
    made = builder(home, server, RecordingDeliverer(), channel_id=123456789)
    with pointed_at(server), pytest.raises(ConfigError, match="SWARM_CHANNEL_ID 123456789"):
        await asyncio.wait_for(run_with_discord(made), 15)


def test_run_without_token_says_how_to_get_one(home: Path) -> None:
    result = run_cli(home, "run")
    assert result.code == 2
    assert "DISCORD_TOKEN" in result.err and "swarm demo" in result.err


async def test_run_starts_a_list_of_front_ends_each_with_its_posts(
    server: LocalDiscordServer, home: Path
) -> None:
    """``run_with_front_ends``: Discord and a second front end (the tests' recording one, its
    notifier on the coordinator's service) in one run, each shown the task, each stopped."""
    from bot.app import Coordinator, FrontEndRun, run_with_front_ends
    from core.coordinator.notifier import Notifier
    from core.posts.notify import NotifyLevel
    from tests.posts.recording import RecordingFrontEnd

    recording = RecordingFrontEnd()

    async def run_recording(parts: Coordinator, stop: asyncio.Event) -> None:
        notifier = Notifier(parts.service, recording, NotifyLevel.normal, poll_s=0.05)
        runs = asyncio.create_task(notifier.run())
        await stop.wait()
        notifier.stop()
        await runs

    stop = asyncio.Event()
    made = builder(home, server, RecordingDeliverer())
    fronts = [made.discord(), FrontEndRun("recording", lambda: None, run_recording)]
    with pointed_at(server):
        runner = asyncio.create_task(run_with_front_ends(made, fronts, stop=stop))
        await server.wait_for_bot_ready()
        service = await made.service()
        try:
            await service.tasks.create(TaskSpec("shown twice"), "cli")
            await server.wait_for_message(lambda m: "**T-1** · shown twice" in m.content)
            async with asyncio.timeout(10):
                while not recording.cards(1):  # noqa: ASYNC110 - posted by another task
                    await asyncio.sleep(0.05)
        finally:
            await service.close()
        stop.set()
        await asyncio.wait_for(runner, 15)
    assert runner.exception() is None
