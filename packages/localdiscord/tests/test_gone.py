"""What a moderator's changes do to the bot's later requests, as on Discord: a deleted
message is 404 Unknown Message (10008), a deleted thread or channel 404 Unknown Channel
(10003), a channel the bot may not see 403 Missing Access (50001), one it may not post in 403
Missing Permissions (50013); an outage answers 503 until it ends."""

from __future__ import annotations

import discord
import pytest
from scene import Scene, eventually


def _text_channel(scene: Scene) -> discord.TextChannel:
    channel = scene.bot.get_channel(scene.general.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_a_deleted_message_is_unknown_to_edits_and_deletes(scene: Scene) -> None:
    channel = _text_channel(scene)
    sent = await channel.send("card")
    await channel.get_partial_message(sent.id).delete()
    for attempt in (
        channel.get_partial_message(sent.id).edit(content="again"),
        channel.get_partial_message(sent.id).delete(),
        channel.fetch_message(sent.id),
    ):
        with pytest.raises(discord.NotFound) as refused:
            await attempt
        assert (refused.value.status, refused.value.code) == (404, 10008)
        assert refused.value.text == "Unknown Message"


async def test_a_deleted_thread_or_channel_is_unknown(scene: Scene) -> None:
    channel = _text_channel(scene)
    starter = await channel.send("card")
    thread = await starter.create_thread(name="notes")
    await thread.send("a note")
    await thread.delete()  # DELETE /channels/{thread}: what a moderator does
    await eventually(lambda: scene.bot.get_channel(thread.id) is None)  # THREAD_DELETE
    assert scene.server.threads() == []
    with pytest.raises(discord.NotFound) as refused:
        await scene.bot.get_partial_messageable(thread.id).send("another note")
    assert (refused.value.code, refused.value.text) == (10003, "Unknown Channel")
    await channel.get_partial_message(starter.id).edit(content="the card stays")
    reports = scene.bot.get_channel(scene.reports.id)
    assert isinstance(reports, discord.TextChannel)
    await reports.delete()
    await eventually(lambda: scene.bot.get_channel(scene.reports.id) is None)  # CHANNEL_DELETE
    with pytest.raises(discord.NotFound) as gone:
        await scene.bot.get_partial_messageable(scene.reports.id).send("report")
    assert gone.value.code == 10003


async def test_overwrites_refuse_the_bot_until_they_are_lifted(scene: Scene) -> None:
    channel = _text_channel(scene)
    sent = await channel.send("card")
    me = channel.guild.me
    await channel.set_permissions(me, send_messages=False)  # PUT .../permissions/{bot}
    await eventually(lambda: channel.overwrites_for(me).send_messages is False)
    with pytest.raises(discord.Forbidden) as refused:
        await channel.send("refused")
    assert (refused.value.status, refused.value.code) == (403, 50013)
    await channel.get_partial_message(sent.id).edit(content="its own message: still edited")
    await channel.set_permissions(me, view_channel=False)
    for attempt in (
        channel.send("refused"),
        channel.get_partial_message(sent.id).edit(content="refused"),
    ):
        with pytest.raises(discord.Forbidden) as hidden:
            await attempt
        assert (hidden.value.code, hidden.value.text) == (50001, "Missing Access")
    await channel.set_permissions(me, overwrite=None)  # DELETE .../permissions/{bot}
    await channel.send("allowed again")
    assert [m.content for m in scene.server.messages(scene.general)][-1] == "allowed again"


async def test_an_outage_answers_503_until_it_ends(scene: Scene) -> None:
    channel = _text_channel(scene)
    scene.server.set_outage(503)
    with pytest.raises(discord.DiscordServerError) as down:
        await channel.send("lost")
    assert down.value.status == 503
    assert scene.server.messages(scene.general) == []
    scene.server.set_outage(None)
    await channel.send("back")
    assert [m.content for m in scene.server.messages(scene.general)] == ["back"]
    with pytest.raises(ValueError, match="5xx"):
        scene.server.set_outage(404)
