"""Fixtures: the local Discord, the swarm service, and the real SwarmBot connected to it."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # discord.py imports audioop
    import discord  # noqa: F401

import pytest
from localdiscord import (
    DISCORD_RATE_LIMITS,
    ChannelSpec,
    InteractionCallback,
    LocalDiscordServer,
    UserSpec,
    local_client_options,
    running_client,
)

from bot.app import Builder
from bot.config import Config
from bot.discordbot.client import SwarmBot
from bot.discordbot.settings import DiscordSettings
from core.service.swarm import SwarmService
from core.settings import Settings

# Discord's rate limits, on in every bot test: its buckets with windows a tenth as long (the
# same pacing and 429s, a tenth of the waiting), its global limit of 50 requests a second
TEST_RATE_LIMITS = DISCORD_RATE_LIMITS.scaled(0.1)


@dataclass
class World:
    """Everything a bot test needs."""

    server: LocalDiscordServer
    service: SwarmService
    bot: SwarmBot
    channel: ChannelSpec
    admin: UserSpec
    user: UserSpec
    stranger: UserSpec


@pytest.fixture
async def server() -> AsyncIterator[LocalDiscordServer]:
    """A local Discord with a swarm channel, an operator role and three people."""
    async with LocalDiscordServer(
        guild_name="swarm-test", heartbeat_interval_s=1.0, rate_limits=TEST_RATE_LIMITS
    ) as srv:
        srv.add_text_channel("swarm")
        operators = srv.add_role("operators")
        srv.add_user("boss")
        srv.add_user("dev", roles=[operators])
        srv.add_user("stranger")
        yield srv


def discord_settings(server: LocalDiscordServer) -> DiscordSettings:
    """Settings naming the server's guild, channel, admin and operator role."""
    boss = next(u for u in server.guild.users if u.name == "boss")
    operators = next(r for r in server.guild.roles if r.name == "operators")
    return DiscordSettings(
        token=server.token,
        guild_id=server.guild.id,
        channel_id=server.guild.channels[0].id,
        admin_ids=frozenset({boss.id}),
        user_role_ids=frozenset({operators.id}),
    )


@pytest.fixture
async def service(home: Path, database_url: str | None) -> AsyncIterator[SwarmService]:
    """The service on the real clock (on PostgreSQL in modules marked ``both_databases``)."""
    env = {"SWARM_HOME": str(home), "SWARM_DATABASE_URL": database_url or ""}
    svc = await SwarmService.open(Settings.from_env(env))
    yield svc
    await svc.close()


def builder_for(server: LocalDiscordServer, service: SwarmService, **sections: Any) -> Builder:
    """The composition root for a bot against ``server`` (no model unless ``ai`` is given)."""
    sections = {"discord": discord_settings(server)} | sections
    config = Config({}, core=service.settings, **sections)
    return Builder(config, client_options=local_client_options())


@pytest.fixture
async def world(server: LocalDiscordServer, service: SwarmService) -> AsyncIterator[World]:
    """The bot connected and ready."""
    builder = builder_for(server, service)
    async with builder.ai(service) as ai:
        bot = builder.bot(service, ai)
        users = {u.name: u for u in server.guild.users}
        async with running_client(server, bot):
            await server.wait_for_commands("task", "msg", "agents")
            yield World(
                server,
                service,
                bot,
                server.guild.channels[0],
                users["boss"],
                users["dev"],
                users["stranger"],
            )


async def slash(
    world: World, user: Any, name: str, options: dict[str, Any] | None = None
) -> InteractionCallback:
    """Invoke a command as ``user`` and wait for the bot's answer."""
    return await (await world.server.invoke_slash(user, name, options)).wait_callback()
