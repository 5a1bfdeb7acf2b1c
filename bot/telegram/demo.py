"""The demo's Telegram (``swarm demo --front-end telegram``): ``packages/localtelegram`` with
a group and one person, ``you``, swarm's admin there; the person's commands sent as its page
sends them, the bot's messages read back."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from localtelegram import Chat, ChatPage, LocalTelegramServer, User

from bot.telegram.settings import TelegramSettings

ANSWER_S = 30.0


class TelegramStage:
    """The local Telegram as the demo drives it (``bot.demo_chat.ChatStage``)."""

    name = "Telegram"
    posts_name = "telegram"
    setup = "docs/telegram.md (BotFather), then: swarm doctor"
    ready_says = "bot ready, commands registered"

    def __init__(self, server: LocalTelegramServer, chat: Chat, you: User, page: ChatPage):
        self.server, self.chat, self.you = server, chat, you
        self.url = page.url

    def settings(self) -> TelegramSettings:
        """Telegram pointed at the local server, its group, ``you`` its admin."""
        return TelegramSettings(
            token=self.server.token,
            chat_id=self.chat.id,
            admin_ids=frozenset({self.you.id}),
            api_url=self.server.url,
        )

    async def ready(self) -> None:
        """Until the bot registered its commands and polls for updates."""
        await self.server.wait_until(
            lambda: self.server.commands and "getUpdates" in self.server.calls, 30.0
        )

    async def command(self, name: str, text: str) -> tuple[str, str]:
        """``/name text`` sent by ``you``; the bot's reply to it."""
        typed = f"/{name} {text}"
        sent = await self.server.say(self.you, self.chat, typed)

        def reply() -> str | None:
            found = [m for m in self.server.from_bot(self.chat) if m.reply_to is sent]
            return found[0].text if found else None

        await self.server.wait_until(lambda: reply() is not None, ANSWER_S)
        return typed, reply() or ""

    def posts(self) -> list[tuple[str, str]]:
        """The bot's messages, but its replies to the person's commands."""
        return [
            (str(m.message_id), m.text)
            for m in self.server.from_bot(self.chat)
            if m.reply_to is None or m.reply_to.sender is not self.you
        ]


@contextlib.asynccontextmanager
async def telegram_stage() -> AsyncIterator[TelegramStage]:
    """A local Telegram on a free port of 127.0.0.1, with no rate limits (under Telegram's
    20 messages a minute in a group the demo would take minutes), while the block runs."""
    server = LocalTelegramServer(rate=None)
    chat = server.add_group("swarm-demo")
    you = server.add_user("you", "you_demo")
    page = server.open_page(you, chat)
    await server.start(0)
    try:
        yield TelegramStage(server, chat, you, page)
    finally:
        await server.close()
