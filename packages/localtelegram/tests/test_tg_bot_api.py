"""The Bot API as python-telegram-bot calls it: identity, messages in HTML with buttons and
replies, edits, deletes, command lists, errors as Telegram words them."""

from __future__ import annotations

import pytest
from localtelegram import LocalTelegramServer
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken
from tgtest import Scene

KEYS = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="p:1:0")]])


async def test_get_me_names_the_bot(scene: Scene) -> None:
    me = await scene.bot.get_me()
    assert (me.id, me.username, me.is_bot) == (scene.server.bot_user.id, "swarm_local_bot", True)


async def test_a_wrong_token_is_unauthorized(scene: Scene) -> None:
    from telegram import Bot

    async with LocalTelegramServer() as other:
        with pytest.raises(InvalidToken):
            async with Bot(scene.server.token, base_url=f"{other.url}/bot"):
                pass


async def test_html_text_buttons_and_a_reply(scene: Scene) -> None:
    first = await scene.bot.send_message(scene.group.id, "<b>T-1</b> @alice_a")
    assert first.text == "<b>T-1</b> @alice_a"  # no parse mode: the text as given
    sent = await scene.bot.send_message(
        scene.group.id,
        "<b>T-1</b> &lt;tag&gt;",
        parse_mode=ParseMode.HTML,
        reply_markup=KEYS,
        reply_parameters=ReplyParameters(first.message_id),
    )
    assert sent.text == "T-1 <tag>"
    assert sent.reply_to_message is not None and sent.reply_to_message.message_id == 1
    stored = scene.group.messages[sent.message_id]
    assert stored.html == "<b>T-1</b> &lt;tag&gt;"
    assert [b["callback_data"] for b in stored.buttons()] == ["p:1:0"]
    mentions = [e["type"] for e in scene.group.messages[first.message_id].entities]
    assert mentions == ["mention"]  # Telegram finds @usernames in the text


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("a < b", "(?i)can't parse entities"),
        ("a & b", "(?i)can't parse entities"),
        ("<script>x</script>", "(?i)unsupported start tag"),
        ("<b>open", "(?i)can't find end tag"),
        ("x" * 4097, "(?i)message is too long"),
    ],
)
async def test_refused_text(scene: Scene, text: str, said: str) -> None:
    with pytest.raises(BadRequest, match=said):
        await scene.bot.send_message(scene.group.id, text, parse_mode=ParseMode.HTML)
    assert scene.server.from_bot(scene.group) == []


async def test_edits_and_deletes(scene: Scene) -> None:
    sent = await scene.bot.send_message(scene.group.id, "one", reply_markup=KEYS)
    edited = await scene.bot.edit_message_text("two", scene.group.id, sent.message_id)
    assert isinstance(edited, object) and scene.group.messages[sent.message_id].text == "two"
    assert scene.group.messages[sent.message_id].buttons() == []  # no markup: buttons gone
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await scene.bot.edit_message_text("two", scene.group.id, sent.message_id)
    await scene.bot.edit_message_reply_markup(scene.group.id, sent.message_id, reply_markup=KEYS)
    assert len(scene.group.messages[sent.message_id].buttons()) == 1
    assert await scene.bot.delete_message(scene.group.id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await scene.bot.edit_message_text("three", scene.group.id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await scene.bot.send_message(
            scene.group.id, "r", reply_parameters=ReplyParameters(sent.message_id)
        )
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await scene.bot.send_message(-5, "nowhere")


async def test_commands_are_set_and_checked(scene: Scene) -> None:
    from telegram import BotCommand

    assert await scene.bot.set_my_commands([BotCommand("task", "create a task")])
    assert scene.server.commands == [{"command": "task", "description": "create a task"}]
    assert [c.command for c in await scene.bot.get_my_commands()] == ["task"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await scene.bot.set_my_commands([BotCommand("Bad-Name", "x")])
