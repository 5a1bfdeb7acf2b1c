"""A local Telegram: the Bot API over HTTP at ``<url>/bot<token>/<method>`` (what
python-telegram-bot calls when its ``base_url`` is ``<url>/bot``), a test API that acts as
the people in its chats (a message, a command, a reply, a button pressed), and a page per
person (``webpage``) to do the same from a browser."""

from __future__ import annotations

import asyncio
import hmac
import itertools
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from aiohttp import web

from localtelegram.limits import GROUP_RATE, ApiError, ChatLimits, RateLimit
from localtelegram.methods import METHODS
from localtelegram.params import read_params
from localtelegram.webpage import ChatPage
from localtelegram.world import Chat, Message, Updates, User, auto_entities

log = logging.getLogger(__name__)
BOT_ID = 7000000001


class LocalTelegramServer:
    """One bot (``token``) and its chats, served on ``host`` (``start(0)``: a free port)."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_username: str = "swarm_local_bot",
        host: str = "127.0.0.1",
        rate: RateLimit | None = GROUP_RATE,
    ) -> None:
        self.token = token or f"{BOT_ID}:{secrets.token_urlsafe(24)}"
        self.bot_user = User(BOT_ID, "swarm", bot_username, is_bot=True)
        self.host = host
        self.limits = ChatLimits(rate)
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.updates = Updates()
        self.commands: list[dict[str, str]] = []
        self.queries: dict[str, tuple[User, Message, str]] = {}  # callback query id → press
        self.answers: dict[str, str] = {}  # callback query id → the bot's answer
        self.calls: list[str] = []  # every method called, in order (the tests read it)
        self.pages: dict[str, ChatPage] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._polling: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- the world ---------------------------------------------------------------------

    def add_user(self, first_name: str, username: str | None = None) -> User:
        """A person (ids from 100001 on)."""
        user = User(100000 + len(self.users) + 1, first_name, username)
        self.users[user.id] = user
        return user

    def add_group(self, title: str) -> Chat:
        """A group the bot is in (ids negative, as Telegram's supergroups' are)."""
        chat = Chat(-1001000000000 - len(self.chats) - 1, title, "supergroup")
        self.chats[chat.id] = chat
        return chat

    def chat(self, chat_id: int) -> Chat:
        """A chat by id; 400 ``chat not found`` as Telegram says it."""
        found = self.chats.get(chat_id)
        if found is None:
            raise ApiError(400, "Bad Request: chat not found")
        return found

    def add_message(self, chat: Chat, sender: User, text: str, **fields: Any) -> Message:
        """A message in ``chat`` (its next id)."""
        message = Message(chat, chat.next_message_id, sender, text, int(time.time()), **fields)
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        self.changed()
        return message

    def changed(self) -> None:
        """Wake whoever waits for a change (the tests, the pages)."""
        self._changed.set()

    # -- acting as a person ------------------------------------------------------------

    async def say(
        self, user: User, chat: Chat, text: str, reply_to: Message | None = None
    ) -> Message:
        """``user`` sends ``text`` in ``chat`` (a ``/command`` is one), maybe as a reply;
        the bot gets it as a ``message`` update."""
        message = self.add_message(chat, user, text, entities=auto_entities(text))
        message.reply_to = reply_to
        await self.updates.add("message", message.to_api())
        return message

    async def press(self, user: User, message: Message, data: str) -> str:
        """``user`` presses the button of ``message`` whose ``callback_data`` is ``data``
        (only a button the message shows can be pressed); the callback query's id."""
        if not any(b.get("callback_data") == data for b in message.buttons()):
            raise ValueError(f"message {message.message_id} has no button {data!r}")
        query_id = str(next(self._ids) * 7919 + BOT_ID)
        self.queries[query_id] = (user, message, data)
        body = {
            "id": query_id,
            "from": user.to_api(),
            "message": message.to_api(),
            "chat_instance": str(message.chat.id),
            "data": data,
        }
        await self.updates.add("callback_query", body)
        return query_id

    async def answer_of(self, query_id: str, timeout_s: float = 10.0) -> str:
        """The bot's answer to a press (its toast's text), once it answered."""
        await self.wait_until(lambda: query_id in self.answers, timeout_s)
        return self.answers[query_id]

    async def wait_until(self, done: Any, timeout_s: float = 10.0) -> None:
        """Return once ``done()`` holds, checked at each change; TimeoutError after
        ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the local Telegram did not get there in time")
            self._changed.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))

    def from_bot(self, chat: Chat) -> list[Message]:
        """The bot's messages in ``chat``, oldest first."""
        return [m for m in chat.messages.values() if m.sender is self.bot_user]

    # -- serving -----------------------------------------------------------------------

    async def poll(self, offset: int, limit: int, timeout_s: float) -> list[dict[str, Any]]:
        """One ``getUpdates``: a newer poll ends this one with 409, as Telegram's does."""
        if self._polling is not None:
            self._polling.set()
        mine = self._polling = asyncio.Event()
        waiting = asyncio.create_task(self.updates.wait(offset, limit, timeout_s))
        ended = asyncio.create_task(mine.wait())
        try:
            await asyncio.wait({waiting, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()
            if not waiting.done():
                waiting.cancel()
            if self._polling is mine:
                self._polling = None
        if not waiting.done() or waiting.cancelled():
            raise ApiError(409, "Conflict: terminated by other getUpdates request")
        return waiting.result()

    def open_page(self, user: User, chat: Chat) -> ChatPage:
        """``user``'s page on ``chat`` (its address: ``page.url`` once started)."""
        page = ChatPage(self, user, chat, secrets.token_urlsafe(18))
        self.pages[page.key] = page
        return page

    @property
    def url(self) -> str:
        """The server's root: python-telegram-bot's ``base_url`` is this plus ``/bot``."""
        return f"http://{self.host}:{self.port}"

    def app(self) -> web.Application:
        """The aiohttp application: the Bot API and the pages."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        ChatPage.routes(app, self)
        return app

    async def start(self, port: int = 0) -> None:
        """Listen on ``host:port`` (0: a free port)."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        """Stop listening; a waiting long poll ends."""
        if self._polling is not None:
            self._polling.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalTelegramServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _api(self, request: web.Request) -> web.Response:
        """``/bot<token>/<method>``: the method's result, or its error."""
        try:
            if not hmac.compare_digest(request.match_info["token"], self.token):
                raise ApiError(401, "Unauthorized")
            name = request.match_info["method"]
            method = METHODS.get(name.lower())
            if method is None:
                raise ApiError(404, "Not Found")
            self.calls.append(name)
            result = await method(self, await read_params(request))
        except ApiError as exc:
            return web.json_response(exc.to_api(), status=exc.code)
        return web.json_response({"ok": True, "result": result})


@asynccontextmanager
async def running(server: LocalTelegramServer, port: int = 0) -> AsyncIterator[LocalTelegramServer]:
    """``server`` listening while the block runs."""
    await server.start(port)
    try:
        yield server
    finally:
        await server.close()
