"""``swarm doctor``'s Telegram line: the keys, then the token against the local Telegram
(the real python-telegram-bot's ``getMe``); nothing when no token is set."""

from __future__ import annotations

import dataclasses

from localtelegram import LocalTelegramServer

from bot.cli.doctor import _telegram
from bot.cli.findings import OK, PROBLEM
from bot.config import Config
from bot.telegram.settings import TelegramSettings
from tests.telegram.conftest import telegram_settings
from tests.web.live import free_port


async def doctor_says(settings: TelegramSettings) -> list[tuple[str, str]]:
    """The Telegram findings of ``swarm doctor`` for ``settings``: (status, detail)."""
    return [(f.status, f.detail) for f in await _telegram(Config({}, telegram=settings), 5)]


async def test_doctor_says_what_telegram_answers(server: LocalTelegramServer) -> None:
    assert await doctor_says(TelegramSettings()) == []  # not configured: no line
    good = telegram_settings(server)
    assert await doctor_says(good) == [
        (OK, f"@swarm_local_bot answers; it posts in chat {good.chat_id}")
    ]
    partial = await doctor_says(dataclasses.replace(good, admin_ids=frozenset()))
    assert partial[0][0] == PROBLEM and "SWARM_TELEGRAM_ADMIN_IDS" in partial[0][1], partial
    revoked = dataclasses.replace(good, token="7000000001:revoked")
    ((status, detail),) = await doctor_says(revoked)
    assert status == PROBLEM and "refused the token" in detail and "revoked" not in detail
    down = dataclasses.replace(good, api_url=f"http://127.0.0.1:{free_port()}")
    ((status, detail),) = await doctor_says(down)
    assert status == PROBLEM and detail.startswith("cannot reach http://127.0.0.1:"), detail
    assert good.token is not None and good.token not in detail
