"""The Telegram bot of ``swarm run``: python-telegram-bot's Application long polling the
configured Bot API server (``TELEGRAM_API_URL``), its commands registered with
``setMyCommands``, and the core's notifier posting to the chat through ``TelegramFrontEnd``,
until ``stop`` is set. Telegram down at the start is tried again with backoff; a token it
refuses stops ``swarm run`` (``FrontEndRun``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from telegram import BotCommand
from telegram.error import InvalidToken, NetworkError, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.telegram.commands import COMMANDS, on_command, on_reply
from bot.telegram.desk import Desk
from bot.telegram.front_end import TelegramFrontEnd
from bot.telegram.patience import WaitOnRetryAfter
from bot.telegram.presses import on_press
from bot.telegram.settings import TelegramSettings
from core.coordinator.notifier import Notifier
from core.errors import ConfigError
from core.posts.notify import NotifyLevel
from core.service.swarm import SwarmService
from core.waits import Background, ErrorBackoff, wait_set

log = logging.getLogger(__name__)
POLL_TIMEOUT_S = 10  # getUpdates' long poll
UPDATES = ["message", "callback_query"]
App = Application[Any, Any, Any, Any, Any, Any]


def application(settings: TelegramSettings, requests: Requests) -> App:
    """python-telegram-bot's Application for ``settings`` (its Bot API server, flood
    control waited for) over ``requests`` (the caller closes them)."""
    assert settings.token
    return (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(f"{settings.api_url}/bot")
        .base_file_url(f"{settings.api_url}/file/bot")
        .request(requests.calls)
        .get_updates_request(requests.polls)
        .rate_limiter(WaitOnRetryAfter())
        .build()
    )


@dataclass(frozen=True)
class Requests:
    """The bot's HTTP clients: its calls, its long polls. Closed by ``running`` whatever
    happened (python-telegram-bot leaves them open when its start fails: a refused token)."""

    calls: HTTPXRequest = field(default_factory=lambda: HTTPXRequest(connection_pool_size=8))
    polls: HTTPXRequest = field(default_factory=HTTPXRequest)

    async def close(self) -> None:
        """Close both (closing twice is nothing)."""
        await self.calls.shutdown()
        await self.polls.shutdown()


def add_handlers(app: App, desk: Desk) -> None:
    """The commands, the presses and the replies of the configured chat."""
    chat = filters.Chat(desk.settings.chat_id)
    for command in COMMANDS:
        app.add_handler(CommandHandler(command.name, on_command(desk, command), filters=chat))
    app.add_handler(CallbackQueryHandler(on_press(desk)))
    app.add_handler(
        MessageHandler(chat & filters.REPLY & filters.TEXT & ~filters.COMMAND, on_reply(desk))
    )
    app.add_error_handler(_log_error)


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("telegram: an update failed", exc_info=context.error)


@contextlib.asynccontextmanager
async def running(
    service: SwarmService, settings: TelegramSettings, poll_s: float = 0.5
) -> AsyncIterator[Desk]:
    """The bot polling and its notifier posting while the block runs."""
    requests = Requests()
    app = application(settings, requests)
    assert settings.chat_id is not None
    desk = Desk(service, settings, TelegramFrontEnd(app.bot, settings.chat_id))
    add_handlers(app, desk)
    notifier = Notifier(service, desk.front, NotifyLevel(settings.notify), poll_s)
    tasks = Background("Telegram")  # the notifier, while the block runs
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(requests.close)
        await stack.enter_async_context(app)
        await app.bot.set_my_commands([BotCommand(c.name, c.description) for c in COMMANDS])
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=POLL_TIMEOUT_S, allowed_updates=UPDATES)
        posting = tasks.start(notifier.run(), name="telegram notifier")
        try:
            yield desk
        finally:
            notifier.stop()
            await asyncio.gather(posting, return_exceptions=True)
            await app.updater.stop()
            await app.stop()


async def serve(
    service: SwarmService, settings: TelegramSettings, stop: asyncio.Event, poll_s: float = 0.5
) -> None:
    """Serve Telegram until ``stop``: a start that cannot reach it is tried again with
    backoff; a refused token is a ConfigError (fatal)."""
    backoff = ErrorBackoff(1.0, 60.0)
    while not stop.is_set():
        try:
            async with running(service, settings, poll_s):
                await stop.wait()
            return
        except InvalidToken as exc:
            raise ConfigError(f"Telegram refused TELEGRAM_BOT_TOKEN: {exc}") from None
        except (NetworkError, TimedOut, OSError) as exc:
            delay = backoff.failed()
            log.warning("telegram: cannot connect (%s); trying again in %.0f s", exc, delay)
            await wait_set(stop, delay)
