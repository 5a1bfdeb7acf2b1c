"""Fixtures: a started local Telegram with a group, two people, and the real
python-telegram-bot ``Bot`` pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from localtelegram import LocalTelegramServer, RateLimit
from telegram import Bot
from tgtest import Scene


@pytest.fixture
async def scene() -> AsyncIterator[Scene]:
    """A server (Telegram's group rate, its window a twentieth as long) and a ready bot."""
    async with LocalTelegramServer(rate=RateLimit(20, 3.0)) as server:
        group = server.add_group("swarm")
        alice, bob = server.add_user("Alice", "alice_a"), server.add_user("Bob")
        bot = Bot(server.token, base_url=f"{server.url}/bot")
        async with bot:
            yield Scene(server, group, alice, bob, bot)
