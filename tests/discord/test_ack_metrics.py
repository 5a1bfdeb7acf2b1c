"""The Discord acknowledgement latency reaches the metrics (real bot, local Discord)."""

from __future__ import annotations

import asyncio

from bot.web.metrics import Metrics
from tests.discord.conftest import World, slash

ACKED_TWICE = "swarm_discord_ack_seconds_count 2.0"


async def test_each_slash_command_ack_is_observed(world: World) -> None:
    metrics = Metrics()
    world.service.observers.append(metrics)
    await slash(world, world.user, "task create", {"title": "Write docs"})
    await slash(world, world.stranger, "task list")  # a refusal is an answer too
    text = ""
    for _ in range(200):  # the watch sees each answer within 5 ms of it
        text = (await metrics.render(world.service)).decode()
        if ACKED_TWICE in text:
            break
        await asyncio.sleep(0.01)
    assert ACKED_TWICE in text
