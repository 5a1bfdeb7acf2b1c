"""Fixtures: a configured LocalDiscordServer and a running SampleBot connected to it."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator

with warnings.catch_warnings():
    # discord.py imports the deprecated audioop module (voice); the suite runs with -W error.
    warnings.simplefilter("ignore", DeprecationWarning)
    import discord  # noqa: F401

import pytest
from localdiscord import DISCORD_RATE_LIMITS, LocalDiscordServer, running_client
from sample_bot import SampleBot
from scene import Scene

# Discord's rate limits, on in every test: its buckets with windows a tenth as long
TEST_RATE_LIMITS = DISCORD_RATE_LIMITS.scaled(0.1)


@pytest.fixture
async def server() -> AsyncIterator[LocalDiscordServer]:
    """A started server with two channels, a role and two users."""
    async with LocalDiscordServer(
        guild_name="swarm-test", heartbeat_interval_s=0.5, rate_limits=TEST_RATE_LIMITS
    ) as srv:
        srv.add_text_channel("general")
        srv.add_text_channel("reports", topic="bot reports")
        operator = srv.add_role("operator", permissions=1 << 3)
        srv.add_user("alice", roles=[operator], owner=True)
        srv.add_user("bob")
        yield srv


@pytest.fixture
async def scene(server: LocalDiscordServer) -> AsyncIterator[Scene]:
    """The sample bot connected and ready."""
    general, reports = server.guild.channels
    alice, bob = server.guild.users[1:]
    sample = SampleBot(server.guild.id, reports.id)
    async with running_client(server, sample):
        yield Scene(server, sample, general, reports, alice, bob)
