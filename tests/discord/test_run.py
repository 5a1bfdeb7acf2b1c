"""``swarm run``: bot, scheduler, delivery and notifier in one process."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from localdiscord import LocalDiscordServer, local_client_options, pointed_at

from bot.app import run_with_discord
from core.errors import ConfigError
from core.settings import Settings
from tests.discord.conftest import discord_settings
from tests.helpers import RecordingDeliverer, run_cli


async def test_run_end_to_end_then_clean_stop(server: LocalDiscordServer, home: Path) -> None:
    deliverer = RecordingDeliverer()
    stop = asyncio.Event()
    dev = next(u for u in server.guild.users if u.name == "dev")
    with pointed_at(server):
        runner = asyncio.create_task(run_with_discord(
            Settings.from_env({"SWARM_HOME": str(home)}), discord_settings(server),
            deliverer=deliverer, stop=stop, client_options=local_client_options()))
        await server.wait_for_bot_ready()
        await server.wait_for_commands("task")
        handle = await server.invoke_slash(dev, "task create", {"title": "ship", "role": "web"})
        await handle.wait_callback()
        await server.wait_for_message(lambda m: "T-1 prompt delivered to Agent-7" in m.content)
        assert deliverer.for_agent("Agent-7")[0].task_id == 1
        stop.set()
        await asyncio.wait_for(runner, 15)


async def test_missing_channel_is_a_clear_startup_error(
    server: LocalDiscordServer, home: Path
) -> None:
    wrong = dataclasses.replace(discord_settings(server), channel_id=123456789)
    with pointed_at(server), pytest.raises(ConfigError, match="SWARM_CHANNEL_ID 123456789"):
        await asyncio.wait_for(run_with_discord(
            Settings.from_env({"SWARM_HOME": str(home)}), wrong,
            deliverer=RecordingDeliverer(), client_options=local_client_options()), 15)


def test_run_without_token_says_how_to_get_one(home: Path) -> None:
    result = run_cli(home, "run")
    assert result.code == 2
    assert "DISCORD_TOKEN" in result.err and "swarm demo" in result.err
