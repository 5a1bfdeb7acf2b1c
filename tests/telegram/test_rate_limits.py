"""Telegram's flood control: past the chat's rate a post is refused with 429 and
``retry_after``; the bot waits that long and sends it again: every card posted once, in
order, none dropped."""

from __future__ import annotations

import pytest
from localtelegram import LocalTelegramServer, RateLimit
from telegram.ext import ExtBot

from bot.telegram.patience import WaitOnRetryAfter
from bot.telegram.runner import running
from core.models import TaskSpec
from core.service.swarm import SwarmService
from tests.telegram.conftest import telegram_settings

pytestmark = pytest.mark.timeout(60)


async def test_a_429_is_waited_for_nothing_dropped_or_doubled(service: SwarmService) -> None:
    # 4 a second: the seven cards meet a 429 (retry_after is whole seconds: one wait of 1 s)
    async with LocalTelegramServer(rate=RateLimit(4, 1.0)) as server:
        chat = server.add_group("swarm")
        server.add_user("Boss", "boss_person")
        async with running(service, telegram_settings(server), poll_s=0.1) as desk:
            for n in range(1, 8):
                await service.tasks.create(TaskSpec(f"task {n}"), "cli")
            await server.wait_until(lambda: len(server.from_bot(chat)) >= 7, timeout_s=20)
            bot = desk.front.bot
            limiter = bot.rate_limiter if isinstance(bot, ExtBot) else None
        titles = [m.text.split(" — ")[0] for m in server.from_bot(chat)]
        assert titles == [f"🆕 T-{n} · task {n}" for n in range(1, 8)]
        assert server.limits.refused >= 1
        assert isinstance(limiter, WaitOnRetryAfter)
        assert limiter.waited == server.limits.refused
