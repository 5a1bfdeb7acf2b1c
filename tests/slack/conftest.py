"""Fixtures: the local Slack, the swarm service, and the real Slack app (slack-bolt over
Socket Mode, slack_sdk's Web API client) connected to it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from localslack import SLACK_RATE_LIMITS, Channel, LocalSlackServer, Message, RateLimits, User

from bot.slack.app import SlackBot
from bot.slack.settings import SlackSettings
from core.service.swarm import SwarmService
from core.settings import Settings

# Slack's tiers, on in every test, over windows a hundredth as long
TEST_RATE_LIMITS = SLACK_RATE_LIMITS.scaled(0.01)


@dataclass
class World:
    """Everything a Slack test needs."""

    server: LocalSlackServer
    service: SwarmService
    channel: Channel
    admin: User
    stranger: User

    def messages_with(self, text: str) -> list[Message]:
        """The channel's top-level messages whose text has ``text``."""
        return [m for m in self.server.top_level(self.channel) if text in m.text]

    async def message_with(self, text: str) -> Message:
        """The one top-level message with ``text``, once it is posted."""
        await self.server.wait_for(lambda: self.messages_with(text))
        (found,) = self.messages_with(text)
        return found


def slack_settings(server: LocalSlackServer, channel: Channel, admin: User) -> SlackSettings:
    """Settings naming the server, its channel and its admin."""
    return SlackSettings(
        bot_token=server.bot_token,
        app_token=server.app_token,
        channel_id=channel.id,
        admin_ids=frozenset({admin.id}),
        api_url=server.api_url,
    )


@contextlib.asynccontextmanager
async def running(bot: SlackBot, server: LocalSlackServer) -> AsyncIterator[SlackBot]:
    """``bot`` served (connected over Socket Mode) while the block runs."""
    stop = asyncio.Event()
    opened = server.socket_mode.opened
    serving = asyncio.create_task(bot.serve(stop))
    try:
        await server.wait_for(
            lambda: serving.done() or server.socket_mode.opened > opened, within_s=10
        )
        if serving.done():
            serving.result()
        yield bot
    finally:
        stop.set()
        await serving


async def open_service(home: Path, database_url: str | None) -> SwarmService:
    """The service on the real clock (on PostgreSQL in modules marked ``both_databases``)."""
    env = {"SWARM_HOME": str(home), "SWARM_DATABASE_URL": database_url or ""}
    return await SwarmService.open(Settings.from_env(env))


@pytest.fixture
async def service(home: Path, database_url: str | None) -> AsyncIterator[SwarmService]:
    """The swarm's service."""
    svc = await open_service(home, database_url)
    yield svc
    await svc.close()


@pytest.fixture
def limits() -> RateLimits | None:
    """The server's rate limits (a test overrides this fixture for its own)."""
    return TEST_RATE_LIMITS


@pytest.fixture
async def world(service: SwarmService, limits: RateLimits | None) -> AsyncIterator[World]:
    """The Slack app connected and posting."""
    async with LocalSlackServer(team_name="swarm-test", rate_limits=limits) as server:
        channel = server.add_channel("swarm")
        admin, stranger = server.add_user("boss"), server.add_user("stranger")
        bot = SlackBot(service, slack_settings(server, channel, admin), poll_s=0.1)
        async with running(bot, server):
            yield World(server, service, channel, admin, stranger)


def buttons(message: Message) -> list[str]:
    """The action ids of a message's buttons, in order."""
    return [b["action_id"] for b in message.buttons()]


def labels(message: Message) -> list[str]:
    """The labels of a message's buttons, in order."""
    return [b["text"]["text"] for b in message.buttons()]


def showing(message: Message, text: str) -> Callable[[], bool]:
    """A check: ``message`` shows ``text`` (its text or a block's)."""
    return lambda: text in message.text or text in str(message.blocks)
