"""Flood control: a chat's messages past its rate are refused with 429 and retry_after;
after that wait they pass again."""

from __future__ import annotations

import asyncio
import warnings

import pytest
from localtelegram import LocalTelegramServer, RateLimit
from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning
from tgtest import Scene


async def test_past_the_rate_429_with_retry_after() -> None:
    from telegram import Bot

    async with LocalTelegramServer(rate=RateLimit(3, 1.0)) as server:
        group = server.add_group("swarm")
        async with Bot(server.token, base_url=f"{server.url}/bot") as bot:
            for n in range(3):
                await bot.send_message(group.id, f"m{n}")
            with pytest.raises(RetryAfter) as refused:
                await bot.send_message(group.id, "m3")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                wait = refused.value.retry_after
            assert wait == 1 and server.limits.refused == 1
            assert [m.text for m in server.from_bot(group)] == ["m0", "m1", "m2"]
            await asyncio.sleep(1.05)
            await bot.send_message(group.id, "m3")
            assert len(server.from_bot(group)) == 4


async def test_the_rate_is_per_chat(scene: Scene) -> None:
    other = scene.server.add_group("other")
    for n in range(20):
        await scene.bot.send_message(scene.group.id, f"m{n}")
    await scene.bot.send_message(other.id, "elsewhere")
    with pytest.raises(RetryAfter):
        await scene.bot.send_message(scene.group.id, "one more")
