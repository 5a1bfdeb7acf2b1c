"""End to end: a slash command → the scheduler → the desktop driver types into the right
window on the virtual screen → the bot posts the notification."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # discord.py imports audioop
    import discord  # noqa: F401

import pytest
from localdiscord import LocalDiscordServer, UserSpec, local_client_options, pointed_at

from automation.desktop.virtual_desktop import AgentWindows
from bot.app import Builder, run_with_discord
from bot.config import Config
from bot.discordbot.settings import DiscordSettings


@pytest.mark.timeout(120)
async def test_slash_command_reaches_the_agent_window_and_is_announced(
    windows: AgentWindows, home: Path
) -> None:
    async with LocalDiscordServer() as server:
        channel = server.add_text_channel("swarm")
        boss = server.add_user("boss")
        settings = DiscordSettings(
            token=server.token,
            guild_id=server.guild.id,
            channel_id=channel.id,
            admin_ids=frozenset({boss.id}),
            notify="verbose",
        )  # receipts in the task's thread
        stop = asyncio.Event()
        with pointed_at(server):
            builder = Builder(
                Config({"SWARM_HOME": str(home)}, discord=settings),
                client_options=local_client_options(),
            )
            runner = asyncio.create_task(run_with_discord(builder, stop=stop))
            try:
                await server.wait_for_bot_ready()
                await server.wait_for_commands("task", "msg")
                await _create_and_message(server, boss, windows)
            finally:
                stop.set()
                await asyncio.wait_for(runner, 30)
    assert runner.exception() is None  # a clean shutdown


async def _create_and_message(
    server: LocalDiscordServer, boss: UserSpec, windows: AgentWindows
) -> None:
    created = await server.invoke_slash(
        boss,
        "task create",
        {"title": "Ship the login page", "role": "web", "details": "Use the new form.\nBe quick."},
    )
    await created.wait_callback()
    (prompt,) = await asyncio.to_thread(windows.wait_for, 6, 1, 20.0)  # Agent-7: web
    assert (
        "task T-1" in prompt
        and "T-1: Ship the login page\n\nUse the new form.\nBe quick." in prompt
    )
    card = await server.wait_for_message(
        lambda m: "**T-1**" in m.content, channel=server.guild.channels[0]
    )
    await server.wait_for_message(
        lambda m: "T-1 prompt delivered to Agent-7 (gui)" in m.content,
        channel=card.id,
        timeout_s=10,
    )
    text = "héllo ✓ 你好\nsecond line"
    sent = await server.invoke_slash(boss, "msg", {"agent": "Agent-3", "text": text})
    await sent.wait_callback()
    (message,) = await asyncio.to_thread(windows.wait_for, 2, 1, 20.0)
    assert message.endswith(text) and "from discord:boss to Agent-3" in message
    assert all(windows.texts(i) == [] for i in (0, 1, 3, 4, 5, 7))
