"""The page: served under a strict policy; its JSON routes need its key; what the person
types or presses reaches the bot as updates."""

from __future__ import annotations

import aiohttp
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from tgtest import Scene


async def test_the_page_sends_and_presses_as_its_person(scene: Scene) -> None:
    page = scene.server.open_page(scene.alice, scene.group)
    assert page.url.startswith(f"{scene.server.url}/chat/#")
    keys = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="p:1:0")]])
    sent = await scene.bot.send_message(scene.group.id, "<i>R-1</i>", parse_mode="HTML")
    await scene.bot.edit_message_reply_markup(scene.group.id, sent.message_id, reply_markup=keys)
    api = f"{scene.server.url}/chat/api/"
    headers = {"X-Chat-Key": page.key}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{scene.server.url}/chat/") as got:
            assert got.status == 200
            assert "script-src 'self'" in got.headers["Content-Security-Policy"]
        async with http.get(api + "state") as refused:
            assert refused.status == 403
        async with http.get(api + "state", headers=headers) as got:
            (shown,) = (await got.json())["messages"]
            assert (shown["text"], shown["buttons"][0][0]["text"]) == ("R-1", "Yes")
        body = {"text": "/inbox", "reply_to": sent.message_id}
        async with http.post(api + "send", json=body, headers=headers) as got:
            assert got.status == 200
        body = {"message_id": sent.message_id, "data": "p:1:0"}
        async with http.post(api + "press", json=body, headers=headers) as got:
            assert got.status == 200
    said, pressed = await scene.bot.get_updates(timeout=1)
    assert said.message is not None and said.message.text == "/inbox"
    assert said.message.reply_to_message is not None
    assert pressed.callback_query is not None and pressed.callback_query.data == "p:1:0"
    assert pressed.callback_query.from_user.id == scene.alice.id
