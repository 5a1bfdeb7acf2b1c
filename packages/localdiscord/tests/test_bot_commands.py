"""The real discord.py client against the local server: sync, slash commands, components."""

from __future__ import annotations

import aiohttp
import discord
import pytest
from localdiscord import LocalDiscordServer
from scene import Scene, eventually


async def test_client_connects_and_sees_the_guild(scene: Scene) -> None:
    bot, server = scene.bot, scene.server
    assert bot.user is not None and bot.user.id == server.bot.id
    guild = bot.get_guild(server.guild.id)
    assert guild is not None and guild.name == "swarm-test"
    assert [c.name for c in guild.text_channels] == ["general", "reports"]
    assert {r.name for r in guild.roles} == {"@everyone", "operator"}
    assert guild.me is not None and guild.me.id == server.bot.id
    assert server.stats.identifies == 1
    assert server.stats.compressed_connections == server.stats.connections == 1
    paths = [(r.method, r.path) for r in server.requests]
    assert ("GET", "/api/v10/users/@me") in paths
    assert ("GET", "/api/v10/oauth2/applications/@me") in paths


async def test_command_sync_is_recorded_for_guild_and_global(scene: Scene) -> None:
    server = scene.server
    guild_commands = {c["name"]: c for c in server.synced_commands(server.guild.id)}
    global_names = {c["name"] for c in server.synced_commands(None)}
    expected = {"ping", "echo", "task", "status", "slow", "announce", "think", "pick"}
    expected |= {"feedback", "late"}
    assert set(guild_commands) == expected
    assert global_names == expected
    task = guild_commands["task"]
    assert {o["name"]: o["type"] for o in task["options"]} == {"show": 1, "create": 1}
    assert task["guild_id"] == str(server.guild.id)
    fetched = await scene.bot.tree.fetch_commands(guild=discord.Object(server.guild.id))
    assert sorted(c.name for c in fetched) == sorted(expected)


async def test_slash_command_reply_and_latency(scene: Scene) -> None:
    handle = await scene.server.invoke_slash(scene.alice, "ping")
    callback = await handle.wait_callback()
    assert (callback.type, callback.data["content"]) == (4, "pong")
    assert 0 < callback.latency < 3.0
    original = await handle.wait_original()
    assert original.content == "pong" and original.channel_id == scene.general.id
    assert original.interaction_metadata is not None
    assert original.interaction_metadata["user"]["id"] == str(scene.alice.id)
    assert scene.server.messages(scene.general) == [original]


async def test_interaction_ids_and_tokens_are_unique(scene: Scene) -> None:
    handles = [await scene.server.invoke_slash(scene.bob, "ping") for _ in range(3)]
    for handle in handles:
        await handle.wait_callback()
    assert len({h.id for h in handles}) == 3 and len({h.token for h in handles}) == 3


async def test_grouped_command_resolves_options_and_members(scene: Scene) -> None:
    options = {"title": "fix login", "priority": "high", "assignee": scene.bob, "estimate": 3}
    handle = await scene.server.invoke_slash(scene.alice, "task create", options)
    callback = await handle.wait_callback()
    assert callback.data["content"] == "fix login [high] -> bob (3h) by alice"
    data = handle.payload["data"]
    assert data["options"][0]["name"] == "create"
    assert str(scene.bob.id) in data["resolved"]["members"]


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("task create", {"title": "x"}, "missing required option 'priority'"),
        ("task create", {"title": "x", "priority": "urgent"}, "must be one of the choices"),
        ("task create", {"title": "x", "priority": "low", "colour": 1}, "unknown options"),
        ("task", {}, "needs one of the subcommands"),
        ("task delete", {}, "has no subcommand 'delete'"),
        ("task create", {"title": "x", "priority": "low", "estimate": "3"}, "cannot take"),
    ],
)
async def test_invalid_invocations_are_refused_like_discord_client(
    scene: Scene, name: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await scene.server.invoke_slash(scene.alice, name, options)


async def test_unknown_command_is_a_lookup_error(scene: Scene) -> None:
    with pytest.raises(LookupError, match="no synced slash command 'nope'"):
        await scene.server.invoke_slash(scene.alice, "nope")


async def test_autocomplete_returns_the_bots_choices(scene: Scene) -> None:
    choices = await scene.server.invoke_autocomplete(scene.alice, "task show", "id", "T-1")
    assert [c["value"] for c in choices] == ["T-1", "T-10", "T-11"]
    handle = await scene.server.begin_autocomplete(scene.alice, "task show", "id", "T-2")
    assert await handle.wait_choices() == [{"name": "T-2", "value": "T-2"}]
    assert handle.latency is not None and handle.latency < 3.0


async def test_deferred_command_then_followups(scene: Scene) -> None:
    handle = await scene.server.invoke_slash(scene.alice, "slow")
    callback = await handle.wait_callback()
    assert callback.type == 5
    first, second = await handle.wait_followups(2)
    assert (first.content, second.content) == ("done slowly", "and one more")
    original = await handle.wait_original()
    assert original is first and not original.loading  # the first followup fills the defer
    assert [m.content for m in scene.server.messages(scene.general)] == [
        "done slowly",
        "and one more",
    ]


async def test_embed_button_click_reaches_the_view(scene: Scene) -> None:
    server = scene.server
    handle = await server.invoke_slash(scene.alice, "status")
    message = await handle.wait_original()
    assert message.embeds[0]["title"] == "Status"
    assert message.embeds[0]["fields"] == [{"name": "queue", "value": "2", "inline": True}]
    assert message.custom_ids() == ["confirm"]
    click = await server.click_button(scene.bob, message, "confirm")
    callback = await click.wait_callback()
    assert callback.type == 7
    assert scene.bot.clicks == [scene.bob.id]
    assert message.content == "confirmed" and message.components == []
    assert len(message.history) == 1
    with pytest.raises(ValueError, match="no component"):
        await server.click_button(scene.bob, message, "confirm")


async def test_channel_message_with_embed_and_attachment(scene: Scene) -> None:
    server = scene.server
    handle = await server.invoke_slash(scene.alice, "announce", {"text": "all green"})
    reply = await handle.wait_original()
    assert reply.ephemeral and reply.content == "posted"
    posted = await server.wait_for_message(
        lambda m: m.content == "new report", channel=scene.reports
    )
    assert posted.embeds[0]["description"] == "all green"
    (attachment,) = posted.attachments
    assert (attachment.filename, attachment.data) == ("report.txt", b"report body\n")
    assert attachment.content_type == "text/plain"
    assert reply not in server.messages() and reply in server.messages(include_ephemeral=True)
    async with aiohttp.ClientSession() as session, session.get(attachment.url) as response:
        assert await response.read() == b"report body\n"


async def test_modal_opened_and_submitted(scene: Scene) -> None:
    server = scene.server
    opened = await server.invoke_slash(scene.alice, "feedback")
    callback = await opened.wait_callback()
    assert callback.type == 9 and callback.data["title"] == "Feedback"
    submitted = await server.submit_modal(scene.alice, opened, {"Comment": "great"})
    reply = await submitted.wait_callback()
    assert reply.data["content"] == "thanks: great"


async def test_message_over_2000_characters_is_rejected(scene: Scene) -> None:
    handle = await scene.server.invoke_slash(scene.alice, "echo", {"text": "x" * 2001})
    await eventually(lambda: scene.bot.errors)
    assert handle.callback is None and not handle.acknowledged
    error = scene.bot.errors[0]
    assert isinstance(error.__cause__, discord.HTTPException) and error.__cause__.code == 50035


async def test_late_acknowledgement_is_an_unknown_interaction(scene: Scene) -> None:
    scene.server.ack_deadline_s = 0.2
    handle = await scene.server.invoke_slash(scene.alice, "late", {"seconds": 0.3})
    await scene.server.wait_until(lambda: handle.rejected, 5.0, "the late callback")
    await eventually(lambda: scene.bot.errors)
    assert handle.callback is None and handle.rejected[0].startswith("late by")
    error = scene.bot.errors[0]
    assert isinstance(error.__cause__, discord.NotFound) and error.__cause__.code == 10062


async def test_wait_for_message_times_out(server: LocalDiscordServer) -> None:
    with pytest.raises(TimeoutError, match="a matching message"):
        await server.wait_for_message(lambda m: m.content == "never", timeout_s=0.05)
