"""Is Telegram reachable with the configured token? ``getMe`` at the Bot API server, for
``swarm doctor``: who the bot is, or one line of what failed; the token never shown."""

from __future__ import annotations

import asyncio

from telegram import Bot
from telegram.error import Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.telegram.settings import TelegramSettings
from core.formats.text import one_line
from core.privacy.redact import redact_urls


async def reach(settings: TelegramSettings, timeout_s: float) -> tuple[bool, str]:
    """(answered as the bot, one line): the bot's name and the chat it posts in, or why
    not (a refused token, a server that does not answer)."""
    assert settings.token
    where = redact_urls(settings.api_url)
    request = HTTPXRequest()
    bot = Bot(settings.token, base_url=f"{settings.api_url}/bot", request=request)
    try:
        async with asyncio.timeout(timeout_s):
            me = await bot.get_me()
    except TimeoutError:
        return False, f"{where} did not answer within {timeout_s:g} s"
    except (InvalidToken, Forbidden) as exc:
        return False, f"{where} refused the token: {one_line(exc.message)}"
    except NetworkError as exc:
        return False, f"cannot reach {where}: {one_line(exc.message)}"
    except TelegramError as exc:
        return False, f"{where} answered: {one_line(exc.message)}"
    finally:
        await request.shutdown()
    return True, one_line(f"@{me.username} answers; it posts in chat {settings.chat_id}")
