"""Long polling: a person's messages, commands and presses as updates, in order, confirmed
by the offset; a poll waits for the next and returns empty at its timeout."""

from __future__ import annotations

import asyncio
import time

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest
from tgtest import Scene


async def test_updates_in_order_confirmed_by_the_offset(scene: Scene) -> None:
    await scene.server.say(scene.alice, scene.group, "/task fix the build")
    await scene.server.say(scene.bob, scene.group, "hello")
    first, second = await scene.bot.get_updates(timeout=1)
    assert first.message is not None and first.message.text == "/task fix the build"
    assert first.message.entities[0].type == "bot_command"
    assert first.effective_user is not None and first.effective_user.id == scene.alice.id
    assert second.message is not None and second.message.from_user is not None
    assert second.message.from_user.first_name == "Bob"
    again = await scene.bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [first.update_id, second.update_id]  # not confirmed
    assert await scene.bot.get_updates(offset=second.update_id + 1, timeout=0) == ()


async def test_a_poll_waits_for_the_next_update(scene: Scene) -> None:
    started = time.monotonic()
    assert await scene.bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9
    polling = asyncio.create_task(scene.bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    await scene.server.say(scene.alice, scene.group, "now")
    (update,) = await asyncio.wait_for(polling, 3)
    assert update.message is not None and update.message.text == "now"


async def test_a_press_is_a_callback_query_answered_once(scene: Scene) -> None:
    keys = InlineKeyboardMarkup([[InlineKeyboardButton("Approve", callback_data="gate:1")]])
    sent = await scene.bot.send_message(scene.group.id, "gate T-1", reply_markup=keys)
    message = scene.group.messages[sent.message_id]
    with pytest.raises(ValueError, match="no button"):
        await scene.server.press(scene.bob, message, "gate:2")
    query_id = await scene.server.press(scene.bob, message, "gate:1")
    (update,) = await scene.bot.get_updates(timeout=1)
    query = update.callback_query
    assert query is not None and (query.id, query.data) == (query_id, "gate:1")
    assert query.from_user.id == scene.bob.id and query.message is not None
    assert await query.answer("done")
    assert await scene.server.answer_of(query_id) == "done"
    with pytest.raises(BadRequest, match=r"(?i)query id is invalid"):
        await query.answer("again")


async def test_a_reply_names_the_message_replied_to(scene: Scene) -> None:
    sent = await scene.bot.send_message(scene.group.id, "what next?")
    replied = scene.group.messages[sent.message_id]
    await scene.server.say(scene.alice, scene.group, "ship it", replied)
    (update,) = await scene.bot.get_updates(timeout=1)
    assert update.message is not None and update.message.reply_to_message is not None
    assert update.message.reply_to_message.message_id == sent.message_id
