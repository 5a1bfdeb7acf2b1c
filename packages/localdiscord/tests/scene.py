"""What the tests share: the scene (server, sample bot, guild objects) and a poll helper."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from localdiscord import ChannelSpec, LocalDiscordServer, UserSpec
from sample_bot import SampleBot


@dataclass
class Scene:
    """The server, the bot and the configured guild objects."""

    server: LocalDiscordServer
    bot: SampleBot
    general: ChannelSpec
    reports: ChannelSpec
    alice: UserSpec
    bob: UserSpec


async def eventually(probe: Callable[[], object], timeout_s: float = 5.0) -> None:
    """Poll client-side state (which the server cannot signal) until ``probe()`` is truthy."""
    async with asyncio.timeout(timeout_s):
        while not probe():  # noqa: ASYNC110 - client state offers no event to wait on
            await asyncio.sleep(0.01)
