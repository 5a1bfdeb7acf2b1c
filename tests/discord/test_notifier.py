"""The notifier: events become channel messages with buttons; restarts lose nothing."""

from __future__ import annotations

from collections.abc import Callable

from localdiscord import LocalDiscordServer, RecordedMessage, running_client

from core.models import TaskSpec, TaskStatus
from core.service import SwarmService
from tests.discord.conftest import World, builder_for


def has(text: str) -> Callable[[RecordedMessage], bool]:
    """A predicate: the message content contains ``text``."""
    return lambda message: text in message.content


async def test_task_events_are_posted_with_buttons_and_done_works(world: World) -> None:
    await world.service.create_task(TaskSpec("ship it"), "cli")
    created = await world.server.wait_for_message(has("T-1 created by cli"),
                                                  channel=world.channel)
    buttons = [c["custom_id"] for row in created.components for c in row["components"]]
    assert buttons == ["swarm:done:1", "swarm:retry:1", "swarm:reassign:1"]
    await world.service.assign_next()
    assigned = await world.server.wait_for_message(has("T-1 assigned to Agent-1"),
                                                   channel=world.channel)
    handle = await world.server.click_button(world.user, assigned, "swarm:done:1")
    reply = await handle.wait_callback()
    assert reply.data["content"] == "T-1 is now done" and reply.data["flags"] & 64
    assert (await world.service.get_task("T-1")).status is TaskStatus.done
    await world.server.wait_for_message(
        has("✅ T-1 done by Agent-1 (reported by discord:dev): marked done from Discord"),
        channel=world.channel)


async def test_buttons_check_access_and_state(world: World) -> None:
    await world.service.create_task(TaskSpec("job"), "cli")
    created = await world.server.wait_for_message(has("T-1 created"), channel=world.channel)
    refused = await (await world.server.click_button(
        world.stranger, created, "swarm:done:1")).wait_callback()
    assert "not allowed" in refused.data["content"]
    wrong = await (await world.server.click_button(
        world.user, created, "swarm:done:1")).wait_callback()
    assert "T-1 is ready: only an assigned" in wrong.data["content"]
    not_admin = await (await world.server.click_button(
        world.user, created, "swarm:reassign:1")).wait_callback()
    assert "admins only" in not_admin.data["content"]
    await world.service.assign_next()
    moved = await (await world.server.click_button(
        world.admin, created, "swarm:reassign:1")).wait_callback()
    assert moved.data["content"] == "T-1 is now ready"
    assert (await world.service.get_task("T-1")).reason == "taken from Agent-1 by discord:boss"


async def test_notifier_resumes_after_a_restart_without_loss_or_repeats(
    server: LocalDiscordServer, service: SwarmService
) -> None:
    channel = server.guild.channels[0]
    builder = builder_for(server, service)
    ai = builder.ai(service)
    first = builder.bot(service, ai)
    async with running_client(server, first):
        await service.create_task(TaskSpec("before"), "cli")
        await server.wait_for_message(has("T-1 created"), channel=channel)
    for title in ("while down 1", "while down 2"):
        await service.create_task(TaskSpec(title), "cli")
    await service.broadcast("hello all", "cli")
    second = builder.bot(service, ai)  # a restart: a new client, as after a lost connection
    async with running_client(server, second):
        await server.wait_for_message(has("T-3 created"), channel=channel)
        await service.create_task(TaskSpec("after"), "cli")
        await server.wait_for_message(has("T-4 created"), channel=channel)
    await ai.close()
    contents = [m.content for m in server.messages(channel)]
    for ref in ("T-1", "T-2", "T-3", "T-4"):
        assert sum(f"{ref} created" in c for c in contents) == 1, contents
