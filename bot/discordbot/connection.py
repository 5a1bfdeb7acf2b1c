"""Keep the bot connected: Discord being down never takes the coordinator down.

Each attempt starts a fresh ``SwarmBot`` (a failed discord.py client cannot log in again);
an attempt that fails on the network is one warning line and a wait that doubles up to
``DiscordSettings.reconnect_max_s``. Once connected, discord.py resumes dropped gateway
sessions itself; its "Attempting a reconnect" record is shortened to one line too. A bad
token or a missing guild or channel is a configuration error and stops the coordinator.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import discord

from bot.discordbot.settings import DiscordSettings
from core.errors import ConfigError
from core.waits import Background, ErrorBackoff, wait_set

log = logging.getLogger(__name__)
FATAL = (ConfigError, discord.LoginFailure, discord.PrivilegedIntentsRequired)


async def keep_connected(
    make_bot: Callable[[], discord.Client], settings: DiscordSettings, stop: asyncio.Event
) -> None:
    """Run the bot until ``stop`` is set, reconnecting with backoff; ConfigError when fatal."""
    _one_line_reconnects()
    backoff = ErrorBackoff(settings.reconnect_first_s, settings.reconnect_max_s)
    while not stop.is_set():
        bot = make_bot()
        ready = [False]
        try:
            reason = await _session(bot, settings, stop, ready)
        except discord.LoginFailure:
            raise ConfigError(
                "Discord refused DISCORD_TOKEN: reset the token and set it again"
            ) from None
        except FATAL:
            raise
        except Exception as exc:
            reason = _short(exc)
        finally:
            await bot.close()
        if stop.is_set():
            return
        if ready[0]:  # a session that got ready starts over
            backoff.succeeded()
        delay = backoff.failed()
        log.warning(
            "Discord unreachable (%s): attempt %d failed, next in %.1f s; the "
            "coordinator keeps scheduling",
            reason,
            backoff.failures,
            delay,
        )
        await wait_set(stop, delay)


async def _session(
    bot: discord.Client, settings: DiscordSettings, stop: asyncio.Event, ready: list[bool]
) -> str:
    """One connection until ``stop`` (returns "") or until it ends (returns why); ``ready[0]``
    says whether it got ready on the way."""
    tasks = Background("Discord's connection")  # the session awaited below, the stop's wait
    session = tasks.start(bot.start(settings.token or ""), name="discord-session", awaited=True)
    stopped = tasks.start(stop.wait(), name="discord-stop")
    try:
        await asyncio.wait({session, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    ready[0] = bot.is_ready()
    if not session.done():
        await bot.close()
    await session  # raises what ended the session
    return "" if stop.is_set() else "the connection closed"


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _OneLine(logging.Filter):
    """discord.py logs each gateway reconnect with a traceback: keep it to one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and str(record.msg).startswith("Attempting a reconnect"):
            exc = record.exc_info[1]
            record.msg = f"{record.msg} ({_short(exc) if exc else 'disconnected'})"
            record.exc_info = None
            record.exc_text = None
        return True


def _one_line_reconnects() -> None:
    client_log = logging.getLogger("discord.client")
    if not any(isinstance(f, _OneLine) for f in client_log.filters):
        client_log.addFilter(_OneLine())
