"""``swarm run --local-telegram``: the real Telegram bot against a Telegram in this process,
and a page to use it from a browser, before there is a bot from BotFather.

The coordinator runs exactly as ``swarm run`` runs it; only its Telegram settings are the
local server's: a group, ``swarm (local)``, and one person, ``you``, swarm's Telegram admin.
The server is ``packages/localtelegram``, which speaks the Bot API, so python-telegram-bot
runs unchanged against it (``TELEGRAM_API_URL``); the page sends what a person types or
presses to the bot as Telegram's client would. Nothing here calls swarm's services.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from bot.run_stop import say
from core.errors import ConfigError

if TYPE_CHECKING:
    from localtelegram import ChatPage, LocalTelegramServer

    from bot.app import Builder
    from bot.telegram.settings import TelegramSettings

DEFAULT_PORT = 8767  # beside the local Discord's 8766
HOST = "127.0.0.1"
GROUP, PERSON = "swarm (local)", "you"


@contextlib.asynccontextmanager
async def local_telegram(builder: Builder, port: int = DEFAULT_PORT) -> AsyncIterator[ChatPage]:
    """The local Telegram on ``127.0.0.1:port`` (0: a free one) while the block runs, with
    ``builder``'s Telegram settings pointed at it; yields the page. A missing package or a
    taken port is a ConfigError, with nothing started."""
    try:
        from localtelegram import LocalTelegramServer
    except ImportError:
        raise ConfigError(
            "--local-telegram needs the localtelegram package (not on PyPI): in the "
            "swarm repository run make, or pip install ./packages/localtelegram"
        ) from None
    server = LocalTelegramServer(host=HOST)
    group = server.add_group(GROUP)
    person = server.add_user(PERSON, "you_local")
    page = server.open_page(person, group)
    await _start(server, port)
    try:
        configured = _configured_token(builder)
        builder.config = builder.config.replace(telegram=_settings(builder, server, person.id))
        if configured:
            say("TELEGRAM_BOT_TOKEN is set but not used: the bot talks to the local Telegram")
        say(f"local Telegram: open {page.url} to use the bot (no BotFather token needed)")
        yield page
    finally:
        await server.close()


async def _start(server: LocalTelegramServer, port: int) -> None:
    """Listen on ``port``; a taken one is a ConfigError of one line."""
    try:
        await server.start(port)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ConfigError(
            f"cannot listen on {HOST}:{port} for the local Telegram: {reason} "
            "(choose another port with --local-telegram-port)"
        ) from None


def _configured_token(builder: Builder) -> bool:
    """Whether a Telegram token is configured (a bad Telegram setting: not used here)."""
    try:
        return builder.config.telegram.configured
    except ConfigError:
        return False


def _settings(builder: Builder, server: LocalTelegramServer, person: int) -> TelegramSettings:
    """The local group's settings; the configured notification level is kept."""
    from bot.telegram.settings import TelegramSettings

    try:
        notify = builder.config.telegram.notify
    except ConfigError:
        notify = "normal"
    chat_id = next(iter(server.chats))
    return TelegramSettings(
        token=server.token,
        chat_id=chat_id,
        admin_ids=frozenset({person}),
        api_url=server.url,
        notify=notify,
    )
