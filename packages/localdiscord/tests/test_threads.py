"""Threads started on a message: created, fetched, posted in, refused when repeated."""

from __future__ import annotations

import discord
import pytest
from scene import Scene


async def test_a_thread_on_a_message_takes_posts_and_is_fetched_by_id(scene: Scene) -> None:
    channel = scene.bot.get_channel(scene.general.id)
    assert isinstance(channel, discord.TextChannel)
    starter = await channel.send("T-1 · ship it")
    thread = await starter.create_thread(name="T-1 ship it")
    assert thread.id == starter.id and thread.parent_id == scene.general.id
    note = await scene.bot.get_partial_messageable(thread.id).send("halfway there")
    (spec,) = scene.server.threads(scene.general)
    assert spec.name == "T-1 ship it"
    assert [m.content for m in scene.server.messages(spec)] == ["halfway there"]
    assert [m.content for m in scene.server.messages(scene.general)] == ["T-1 · ship it"]
    assert note.channel.id == thread.id
    fetched = await scene.bot.fetch_channel(thread.id)
    assert isinstance(fetched, discord.Thread) and fetched.name == "T-1 ship it"


async def test_a_second_thread_on_the_same_message_is_refused(scene: Scene) -> None:
    channel = scene.bot.get_channel(scene.general.id)
    assert isinstance(channel, discord.TextChannel)
    starter = await channel.send("once")
    await starter.create_thread(name="first")
    with pytest.raises(discord.HTTPException, match="already been created"):
        await channel.get_partial_message(starter.id).create_thread(name="second")
    assert len(scene.server.threads()) == 1
