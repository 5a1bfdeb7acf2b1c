"""Text from users never pings anyone; the alerts role is the one mention the bot allows."""

from __future__ import annotations

import dataclasses

import pytest
from localdiscord import LocalDiscordServer, running_client

from core.event_kinds import EventKind
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.store.conn import Conn
from core.store.tables import insert_event
from tests.discord.conftest import World, builder_for, discord_settings, slash

pytestmark = pytest.mark.timeout(60)
NONE: dict[str, list[str]] = {"parse": []}


def _loud(server: LocalDiscordServer) -> str:
    operators = next(r for r in server.guild.roles if r.name == "operators")
    boss = next(u for u in server.guild.users if u.name == "boss")
    return f"@everyone @here <@&{operators.id}> <@{boss.id}> urgent"


async def test_slash_created_task_pings_nobody(world: World) -> None:
    title = _loud(world.server)
    reply = await slash(world, world.admin, "task create", {"title": title})
    assert reply.data["content"].startswith("🆕 T-1 created")
    assert reply.data["allowed_mentions"] == NONE  # the body the bot sent
    posted = await world.server.wait_for_message(
        lambda m: "**T-1**" in m.content, channel=world.channel
    )
    assert title in posted.content
    assert posted.allowed_mentions == NONE and posted.pings == set()


async def test_cli_created_task_notification_pings_nobody(world: World) -> None:
    title = _loud(world.server)
    await world.service.tasks.create(TaskSpec(title), "cli")
    posted = await world.server.wait_for_message(
        lambda m: "**T-1**" in m.content, channel=world.channel
    )
    assert title in posted.content
    assert posted.allowed_mentions == NONE and posted.pings == set()


async def test_alerts_ping_only_the_configured_role(
    server: LocalDiscordServer, service: SwarmService
) -> None:
    alerts_role = server.add_role("on-call")
    settings = dataclasses.replace(discord_settings(server), alerts_role_id=alerts_role.id)
    loud = _loud(server)

    def alert(conn: Conn) -> None:
        insert_event(
            conn, 0, EventKind.ALERT_OPENED, f"Agent-3 is stalled on {loud}", agent="Agent-3"
        )
        insert_event(conn, 0, EventKind.ALERT_CLEARED, f"Agent-3 is back {loud}", agent="Agent-3")

    builder = builder_for(server, service, discord=settings)
    async with builder.ai(service) as ai, running_client(server, builder.bot(service, ai)):
        await service.store.update(alert)
        opened = await server.wait_for_message(lambda m: "stalled" in m.content)
        cleared = await server.wait_for_message(lambda m: "is back" in m.content)
    assert opened.content.startswith(f"<@&{alerts_role.id}> ")
    assert opened.allowed_mentions == {"parse": [], "roles": [alerts_role.id]}
    assert opened.pings == {f"<@&{alerts_role.id}>"}
    assert cleared.allowed_mentions == NONE and cleared.pings == set()


async def test_embeds_and_lines_escape_control_characters(service: SwarmService) -> None:
    """Rows written before the input checks (or by another tool) still show escaped."""
    from bot.discordbot.embeds import task_embed
    from bot.discordbot.render import task_line

    task = await service.tasks.create(TaskSpec("plain", details="ok"), "cli")
    await service.store.update(
        lambda c: c.execute("UPDATE tasks SET title = 'a\x1b[2Jb', details = 'x\ty\n\x07z'")
    )
    stored = await service.tasks.get(task.ref)
    embed = task_embed(stored)
    assert embed.title == f"{task.ref}: a\\x1b[2Jb"
    assert embed.description == "x\ty\n\\x07z"
    assert "\x1b" not in task_line(stored) and "a\\x1b[2Jb" in task_line(stored)
