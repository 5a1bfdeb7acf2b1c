"""A gate's Approve from Telegram releases what waits on it; a prompt far longer than a
message is posted within Telegram's 4,096 characters; a task's message deleted in the chat
is posted anew on its next event; a token Telegram refuses stops the bot with one line."""

from __future__ import annotations

import asyncio

import pytest
from localtelegram import LocalTelegramServer

from bot.telegram.markup import MESSAGE_LIMIT
from bot.telegram.runner import serve
from bot.telegram.settings import TelegramSettings
from core.errors import ConfigError
from core.models import TaskSpec, TaskStatus
from core.service.swarm import SwarmService
from core.workflows import Workflow, WorkflowBook
from tests.telegram.conftest import World, bot_message, buttons, has, shows
from tests.telegram.test_decisions import open_prompt

pytestmark = pytest.mark.timeout(60)


async def test_an_admin_approves_a_gate_and_what_waits_is_released(world: World) -> None:
    flows = WorkflowBook(world.service.store)
    flow = Workflow("ship").step("ok", "Approve <shipping>", gate=True)
    flow = flow.step("ship", "Ship", needs=["ok"]).check()
    gate, ship = (await flows.run(await flows.plan(flow, {}), "cli")).task_ids
    post = await bot_message(world, has(f"T-{gate} waits for approval"))
    assert "Approve &lt;shipping&gt;" in (post.html or "")
    assert buttons(post) == [f"g:approve:{gate}", f"g:reject:{gate}"]
    refused = await world.server.press(world.stranger, post, f"g:approve:{gate}")
    assert "Only swarm admins" in await world.server.answer_of(refused)
    assert (await world.service.tasks.get(gate)).status is TaskStatus.blocked
    pressed = await world.server.press(world.admin, post, f"g:approve:{gate}")
    assert f"T-{gate} approved by telegram:boss_person" in await world.server.answer_of(pressed)
    await shows(world, post, f"T-{gate} approved by telegram:boss_person")
    assert buttons(post) == []
    assert (await world.service.tasks.get(ship)).status is not TaskStatus.blocked


async def test_a_long_prompt_fits_one_message(world: World) -> None:
    text = "Bash(" + "<&>" * 4000 + ")\nthe end"
    prompt_id = await open_prompt(world.service, text)
    post = await bot_message(world, has(f"R-{prompt_id}"))
    assert len(post.text.encode("utf-16-le")) // 2 <= MESSAGE_LIMIT
    assert post.text.endswith("the end") and f"swarm inbox show R-{prompt_id}" in post.text
    assert len(buttons(post)) == 3


async def test_a_deleted_task_message_is_posted_anew(world: World) -> None:
    await world.service.tasks.create(TaskSpec("ship it"), "cli")
    card = await bot_message(world, has("T-1 · ship it — ready"))
    del world.chat.messages[card.message_id]  # a person deleted it
    await world.service.queue.assign_next()
    anew = await bot_message(world, has("T-1 · ship it — assigned to Agent-1"))
    assert anew.message_id != card.message_id
    assert buttons(anew) == ["t:done:1", "t:reassign:1"]


async def test_a_refused_token_is_one_config_error(service: SwarmService) -> None:
    async with LocalTelegramServer() as server:
        chat = server.add_group("swarm")
        settings = TelegramSettings(
            token="1:wrong", chat_id=chat.id, admin_ids=frozenset({1}), api_url=server.url
        )
        with pytest.raises(ConfigError, match="Telegram refused TELEGRAM_BOT_TOKEN"):
            await asyncio.wait_for(serve(service, settings, asyncio.Event()), 10)
        assert server.from_bot(chat) == []
