"""Fixtures: the local Telegram, the swarm service, and the real Telegram bot of ``swarm run``
(python-telegram-bot long polling, the core's notifier) running against it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from localtelegram import Chat, LocalTelegramServer, Message, RateLimit, User

from bot.telegram.desk import Desk
from bot.telegram.runner import running
from bot.telegram.settings import TelegramSettings
from core.service.swarm import SwarmService
from core.settings import Settings

# Telegram's limit in a group (20 messages a minute), its window a twentieth as long
TEST_RATE = RateLimit(20, 3.0)


@dataclass
class World:
    """Everything a Telegram test needs."""

    server: LocalTelegramServer
    service: SwarmService
    desk: Desk
    chat: Chat
    admin: User
    stranger: User


@pytest.fixture
async def server() -> AsyncIterator[LocalTelegramServer]:
    """A local Telegram with the swarm's group and two people."""
    async with LocalTelegramServer(rate=TEST_RATE) as srv:
        srv.add_group("swarm")
        srv.add_user("Boss", "boss_person")
        srv.add_user("Stranger", "stranger_person")
        yield srv


@pytest.fixture
async def service(home: Path) -> AsyncIterator[SwarmService]:
    """The service on the real clock."""
    svc = await SwarmService.open(Settings.from_env({"SWARM_HOME": str(home)}))
    yield svc
    await svc.close()


def telegram_settings(server: LocalTelegramServer) -> TelegramSettings:
    """Settings naming the server, its group and its admin (the first person)."""
    chat = next(iter(server.chats.values()))
    admin = next(iter(server.users.values()))
    return TelegramSettings(
        token=server.token, chat_id=chat.id, admin_ids=frozenset({admin.id}), api_url=server.url
    )


@pytest.fixture
async def world(server: LocalTelegramServer, service: SwarmService) -> AsyncIterator[World]:
    """The bot polling and posting."""
    async with running(service, telegram_settings(server), poll_s=0.1) as desk:
        admin, stranger = server.users.values()
        yield World(server, service, desk, next(iter(server.chats.values())), admin, stranger)


def has(text: str) -> Callable[[Message], bool]:
    """A bot message whose text contains ``text``."""
    return lambda message: text in message.text


async def bot_message(world: World, wanted: Callable[[Message], bool]) -> Message:
    """The first bot message of the chat that is ``wanted``, once there is one."""

    def found() -> Message | None:
        return next((m for m in world.server.from_bot(world.chat) if wanted(m)), None)

    await world.server.wait_until(lambda: found() is not None)
    message = found()
    assert message is not None
    return message


async def shows(world: World, message: Message, text: str) -> None:
    """Return once ``message`` shows ``text`` (edited to it)."""
    await world.server.wait_until(lambda: text in message.text)


def buttons(message: Message) -> list[str]:
    """The callback data of a message's buttons."""
    return [str(b["callback_data"]) for b in message.buttons()]
