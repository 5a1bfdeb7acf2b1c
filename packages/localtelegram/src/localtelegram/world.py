"""What the local Telegram holds: users, chats, their messages and the bot's pending updates,
as the Bot API shows them (``to_api``: the JSON objects of https://core.telegram.org/bots/api)."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any

MENTION = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{4,31}\b")
COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")


@dataclass
class User:
    """A Telegram account (a person, or the bot)."""

    id: int
    first_name: str
    username: str | None = None
    is_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        """The ``User`` object."""
        shown: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot}
        shown["first_name"] = self.first_name
        if self.username:
            shown["username"] = self.username
        return shown


@dataclass
class Chat:
    """A group (negative id) or a private chat (the person's id)."""

    id: int
    title: str
    type: str = "group"
    messages: dict[int, Message] = field(default_factory=dict)
    next_message_id: int = 1

    def to_api(self) -> dict[str, Any]:
        """The ``Chat`` object."""
        if self.type == "private":
            return {"id": self.id, "type": "private", "first_name": self.title}
        return {"id": self.id, "type": self.type, "title": self.title}


@dataclass
class Message:
    """A message: its plain text, the HTML it was sent as, its entities and its buttons."""

    chat: Chat
    message_id: int
    sender: User
    text: str
    date: int
    html: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    reply_to: Message | None = None
    edit_date: int | None = None
    edits: int = 0

    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard's buttons, row after row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    def to_api(self, replied: bool = True) -> dict[str, Any]:
        """The ``Message`` object (``replied``: with the message it replies to)."""
        shown: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender.to_api(),
            "chat": self.chat.to_api(),
            "date": self.date,
            "text": self.text,
        }
        if self.entities:
            shown["entities"] = self.entities
        if self.reply_markup:
            shown["reply_markup"] = self.reply_markup
        if self.edit_date is not None:
            shown["edit_date"] = self.edit_date
        if replied and self.reply_to is not None:
            shown["reply_to_message"] = self.reply_to.to_api(replied=False)
        return shown


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def auto_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram finds in plain text: a leading bot command and @mentions."""
    found: list[dict[str, Any]] = []
    command = COMMAND.match(text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": utf16_len(command[0])})
    for mention in MENTION.finditer(text):
        offset = utf16_len(text[: mention.start()])
        found.append({"type": "mention", "offset": offset, "length": utf16_len(mention[0])})
    return found


class Updates:
    """The bot's queue of updates: ids in order, confirmed by ``getUpdates``' offset, waited
    for by its long poll."""

    def __init__(self) -> None:
        self.pending: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._arrived = asyncio.Condition()
        self.delivered: list[dict[str, Any]] = []  # every update returned, for the tests

    async def add(self, kind: str, body: dict[str, Any]) -> int:
        """Queue one update (``message``, ``callback_query``); its id."""
        update_id = next(self._ids)
        async with self._arrived:
            self.pending.append({"update_id": update_id, kind: body})
            self._arrived.notify_all()
        return update_id

    def confirm(self, offset: int) -> None:
        """Forget the updates before ``offset`` (Telegram: confirmed by a later call)."""
        if offset < 0:  # the last -offset updates are kept
            self.pending = self.pending[offset:]
        else:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]

    async def wait(self, offset: int, limit: int, timeout_s: float) -> list[dict[str, Any]]:
        """The updates from ``offset`` on (at most ``limit``), waiting up to ``timeout_s``
        for the first."""
        self.confirm(offset)
        deadline = time.monotonic() + timeout_s
        async with self._arrived:
            while not self.pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                try:
                    await asyncio.wait_for(self._arrived.wait(), left)
                except TimeoutError:
                    return []
            found = self.pending[:limit]
        self.delivered.extend(found)
        return found
