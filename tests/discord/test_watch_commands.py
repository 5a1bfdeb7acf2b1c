"""/schedule, /stats, /export, /screenshot and the routing of alerts and summaries."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import AsyncIterator

import pytest
from localdiscord import LocalDiscordServer, running_client
from PIL import Image

from core.event_kinds import EventKind
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.store.conn import Conn
from core.store.tables import insert_event
from tests.discord.conftest import World, builder_for, discord_settings, slash
from tests.watch.conftest import watch_xserver  # noqa: F401 - the session's Xvfb as DISPLAY


async def test_schedule_add_list_remove(world: World) -> None:
    bad = await slash(
        world,
        world.user,
        "schedule add",
        {"target": "role:qa", "text": "run tests", "cron": "61 * * * *"},
    )
    assert bad.data["flags"] & 64 and "61" in bad.data["content"]
    both = await slash(world, world.user, "schedule add", {"target": "all", "text": "x"})
    assert "exactly one of cron or every" in both.data["content"]
    made = await slash(
        world,
        world.user,
        "schedule add",
        {"target": "role:qa", "text": "run tests", "cron": "0 9 * * 1-5"},
    )
    assert made.data["content"].startswith("🗓️ S-") and "prompt to role:qa" in made.data["content"]
    ref = made.data["content"].split()[1].rstrip(":")
    listed = await slash(world, world.user, "schedule list")
    assert ref in listed.data["content"] and "cron 0 9 * * 1-5" in listed.data["content"]
    gone = await slash(world, world.user, "schedule remove", {"id": ref})
    assert f"{ref} removed" in gone.data["content"]


async def test_stats_png_and_export_attachments(world: World) -> None:
    await world.service.tasks.create(TaskSpec("one"), "cli")
    assignment = await world.service.queue.assign_next()
    assert assignment is not None
    await world.service.tasks.complete(assignment.task_id, assignment.agent)
    handle = await world.server.invoke_slash(world.user, "stats", {"period": "7d"})
    assert (await handle.wait_callback()).type == 5  # deferred
    (reply,) = await handle.wait_followups(1)
    (png,) = reply.attachments
    image = Image.open(io.BytesIO(png.data))
    assert image.format == "PNG" and image.width > 100
    assert "Agent-1" in reply.content
    handle = await world.server.invoke_slash(
        world.user, "export", {"what": "tasks", "format": "csv"}
    )
    await handle.wait_callback()
    (followup,) = await handle.wait_followups(1)
    (attachment,) = followup.attachments
    rows = list(csv.DictReader(io.StringIO(attachment.data.decode())))
    assert [r["id"] for r in rows] == ["T-1"] and rows[0]["status"] == "done"


async def test_screenshot_is_for_admins(world: World) -> None:
    refused = await slash(world, world.user, "screenshot", {"agent": "Agent-1"})
    assert "admins only" in refused.data["content"]


@pytest.mark.usefixtures("watch_xserver")
async def test_screenshot_is_private_unless_asked_public(world: World) -> None:
    private = await world.server.invoke_slash(world.admin, "screenshot", {"agent": "Agent-3"})
    assert (await private.wait_callback()).data["flags"] & 64  # "thinking", for the admin only
    (shot,) = await private.wait_followups(1)
    assert shot.ephemeral and shot.attachments[0].filename == "Agent-3.png"
    assert world.server.messages(world.channel) == []
    public = await world.server.invoke_slash(
        world.admin, "screenshot", {"agent": "Agent-3", "public": True}
    )
    await public.wait_callback()
    (shown,) = await public.wait_followups(1)
    assert not shown.ephemeral and shown.channel_id == world.channel.id


@pytest.fixture
async def two_channels(
    server: LocalDiscordServer, service: SwarmService
) -> AsyncIterator[tuple[LocalDiscordServer, SwarmService]]:
    """The bot with a separate alerts channel."""
    alerts = server.add_text_channel("alerts")
    settings = dataclasses.replace(discord_settings(server), alerts_channel_id=alerts.id)
    builder = builder_for(server, service, discord=settings)
    async with builder.ai(service) as ai, running_client(server, builder.bot(service, ai)):
        yield server, service


async def test_alerts_go_to_the_alerts_channel_and_summaries_are_split(
    two_channels: tuple[LocalDiscordServer, SwarmService],
) -> None:
    server, service = two_channels
    main, alerts = server.guild.channels[0], server.guild.channels[1]

    def events(conn: Conn) -> None:
        insert_event(conn, 0, EventKind.ALERT_OPENED, "Agent-3 is stalled on T-9", agent="Agent-3")
        insert_event(
            conn, 0, EventKind.SUMMARY_POSTED, "\n".join(f"line {i} " + "x" * 90 for i in range(40))
        )

    await service.store.update(events)
    await server.wait_for_message(lambda m: "Agent-3 is stalled" in m.content, channel=alerts)
    await server.wait_for_message(lambda m: "line 39" in m.content, channel=main)
    summary = [m.content for m in server.messages(main) if "line " in m.content]
    assert len(summary) == 2 and all(len(c) <= 2000 for c in summary)
    assert not any("stalled" in m.content for m in server.messages(main))
