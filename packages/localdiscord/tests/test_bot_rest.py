"""More of discord.py's REST surface against the local server: edits, deletes, fetches."""

from __future__ import annotations

import io

import discord
import pytest
from scene import Scene


def _text_channel(scene: Scene, channel_id: int) -> discord.TextChannel:
    channel = scene.bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_channel_message_edit_history_and_delete(scene: Scene) -> None:
    channel = _text_channel(scene, scene.general.id)
    sent = await channel.send("draft", file=discord.File(io.BytesIO(b"v1"), filename="a.txt"))
    assert await sent.attachments[0].read() == b"v1"
    await sent.edit(content="final", attachments=[])
    recorded = scene.server.store.get(sent.id)
    assert (recorded.content, recorded.attachments) == ("final", [])
    assert recorded.history[0]["content"] == "draft"
    assert [m.content async for m in channel.history(limit=10)] == ["final"]
    await sent.delete()
    assert scene.server.messages(scene.general) == []
    with pytest.raises(discord.NotFound):
        await channel.fetch_message(sent.id)


async def test_fetching_guild_channel_and_member(scene: Scene) -> None:
    guild = await scene.bot.fetch_guild(scene.server.guild.id)
    assert guild.name == "swarm-test"
    channel = await scene.bot.fetch_channel(scene.reports.id)
    assert isinstance(channel, discord.TextChannel) and channel.topic == "bot reports"
    member = await guild.fetch_member(scene.alice.id)
    assert member.name == "alice" and [r.name for r in member.roles] == ["@everyone", "operator"]
    info = await scene.bot.application_info()
    assert info.id == scene.server.application_id


async def test_ephemeral_defer_edit_and_followup(scene: Scene) -> None:
    handle = await scene.server.invoke_slash(scene.bob, "think")
    callback = await handle.wait_callback()
    assert callback.type == 5 and callback.data["flags"] & 64
    original = await handle.wait_original(lambda m: m.content == "thought")
    assert original.ephemeral and [e.message_id for e in handle.edits] == [original.id]
    (extra,) = await handle.wait_followups(1)
    assert extra.content == f"extra for {original.id}" and extra.ephemeral
    assert scene.server.messages() == []  # ephemeral messages stay out of the channel


async def test_select_menu(scene: Scene) -> None:
    handle = await scene.server.invoke_slash(scene.alice, "pick")
    message = await handle.wait_original()
    with pytest.raises(ValueError, match="cannot select"):
        await scene.server.select_menu(scene.alice, message, "colour", ["pink"])
    chosen = await scene.server.select_menu(scene.alice, message, "colour", ["red", "blue"])
    assert (await chosen.wait_callback()).data["content"] == "picked red,blue"
