"""Gateway behaviour with the real discord.py client: heartbeats, drops, resume, events."""

from __future__ import annotations

from localdiscord import LocalDiscordServer, running_client
from sample_bot import SampleBot
from scene import Scene, eventually


async def _ping_works(scene: Scene) -> None:
    handle = await scene.server.invoke_slash(scene.alice, "ping")
    assert (await handle.wait_callback()).data["content"] == "pong"


async def test_heartbeats_are_acknowledged() -> None:
    async with LocalDiscordServer(heartbeat_interval_s=0.05) as server:
        channel = server.add_text_channel("general")
        async with running_client(server, SampleBot(server.guild.id, channel.id)) as bot:
            await server.wait_for_heartbeats(5)
            await eventually(lambda: bot.latency < 1.0)
    assert server.stats.heartbeats >= 5


async def test_dropped_connection_is_resumed(scene: Scene) -> None:
    await scene.server.drop_connection(code=4000)
    await eventually(scene.bot.resumed.is_set)
    stats = scene.server.stats
    assert (stats.identifies, stats.resumes, stats.connections) == (1, 1, 2)
    await _ping_works(scene)


async def test_events_sent_while_disconnected_are_replayed_on_resume(scene: Scene) -> None:
    await scene.server.drop_connection()
    handle = await scene.server.invoke_slash(scene.alice, "ping")  # buffered, then replayed
    assert (await handle.wait_callback()).data["content"] == "pong"
    assert scene.server.stats.resumes == 1


async def test_aborted_tcp_connection_is_resumed(scene: Scene) -> None:
    await scene.server.drop_connection(abort=True)
    await eventually(scene.bot.resumed.is_set)
    assert scene.server.stats.identifies == 1  # resumed, not a new session
    await _ping_works(scene)


async def test_unresumable_drop_makes_the_client_identify_again(scene: Scene) -> None:
    await scene.server.drop_connection(resumable=False)
    server = scene.server
    await server.wait_until(lambda: server.stats.identifies == 2, 5.0, "a second IDENTIFY")
    await server.wait_for_bot_ready()
    assert server.stats.invalid_sessions == 1 and server.stats.resumes == 0
    await _ping_works(scene)


async def test_reconnect_opcode_leads_to_resume(scene: Scene) -> None:
    await scene.server.request_reconnect()
    await eventually(scene.bot.resumed.is_set)
    assert scene.server.stats.identifies == 1
    await _ping_works(scene)


async def test_bot_receives_message_events(scene: Scene) -> None:
    sent = await scene.server.send_user_message(scene.alice, scene.general, "hello bot")
    await _ping_works(scene)
    await eventually(lambda: len(scene.bot.seen_messages) >= 2)
    from_alice, own = scene.bot.seen_messages[:2]
    assert from_alice.id == sent.id and from_alice.author.id == scene.alice.id
    assert from_alice.content == ""  # no message_content intent, as on Discord
    assert own.author.id == scene.server.bot.id and own.content == "pong"
