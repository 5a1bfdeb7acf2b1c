"""What the tests share: the scene a fixture builds."""

from __future__ import annotations

from dataclasses import dataclass

from localtelegram import Chat, LocalTelegramServer, User
from telegram import Bot


@dataclass
class Scene:
    """The server, its group, its people and a bot client."""

    server: LocalTelegramServer
    group: Chat
    alice: User
    bob: User
    bot: Bot
