"""A task is one live Telegram message, edited in place through its states, its lines
replies to it, its buttons those its state allows; agent text escaped and mentions inert;
commands registered; a restart posts nothing twice."""

from __future__ import annotations

import asyncio

import pytest
from localtelegram import LocalTelegramServer

from bot.telegram.runner import running
from core.models import TaskSpec
from core.service.swarm import SwarmService
from tests.telegram.conftest import World, bot_message, buttons, has, shows, telegram_settings

pytestmark = pytest.mark.timeout(60)


async def test_a_task_is_one_message_edited_through_its_states(world: World) -> None:
    service, server = world.service, world.server
    await service.tasks.create(TaskSpec("ship <it> & @everyone_here"), "cli")
    card = await bot_message(world, has("T-1 · ship <it>"))
    assert "<b>T-1</b> · ship &lt;it&gt; &amp; @\u2060everyone_here" in (card.html or "")
    assert [e["type"] for e in card.entities] == []  # no mention: @ is inert
    assert buttons(card) == []
    await service.queue.assign_next()
    await shows(world, card, "assigned to Agent-1")
    assert buttons(card) == ["t:done:1", "t:reassign:1"]
    await service.tasks.start("T-1", "Agent-1", "halfway there")
    await shows(world, card, "in progress (Agent-1): halfway there")
    line = await bot_message(world, has("T-1 started by Agent-1: halfway there"))
    assert line.reply_to is card  # the task's lines reply to its message
    await service.tasks.complete("T-1", "Agent-1", "all done")
    await shows(world, card, "done by Agent-1: all done")
    await server.wait_until(lambda: buttons(card) == [])
    cards = [m for m in server.from_bot(world.chat) if "T-1 · ship" in m.text]
    assert cards == [card] and card.edits >= 3


async def test_the_commands_are_registered(world: World) -> None:
    names = [c["command"] for c in world.server.commands]
    assert names == [
        "task", "tasks", "show", "inbox", "agents", "stop", "pause", "resume", "send",
        "broadcast", "approve", "reject", "reassign", "budget",
    ]  # fmt: skip


async def test_a_restart_posts_nothing_twice(
    server: LocalTelegramServer, service: SwarmService
) -> None:
    settings = telegram_settings(server)
    (chat,) = server.chats.values()
    async with running(service, settings, poll_s=0.1):
        await service.tasks.create(TaskSpec("first"), "cli")
        await service.tasks.create(TaskSpec("second"), "cli")
        await server.wait_until(lambda: len(server.from_bot(chat)) == 2)
    before = list(server.from_bot(chat))
    await service.tasks.create(TaskSpec("made while the bot was down"), "cli")
    async with running(service, settings, poll_s=0.1):
        await server.wait_until(lambda: len(server.from_bot(chat)) == 3)
        await service.tasks.create(TaskSpec("fourth"), "cli")
        await server.wait_until(lambda: len(server.from_bot(chat)) == 4)
        await asyncio.sleep(0.5)  # anything posted twice would be here by now
    after = server.from_bot(chat)
    assert after[:2] == before
    assert [m.text.split(" · ")[0] for m in after] == ["🆕 T-1", "🆕 T-2", "🆕 T-3", "🆕 T-4"]
