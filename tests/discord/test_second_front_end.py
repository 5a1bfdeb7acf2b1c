"""A second front end beside Discord (issue 52): the core's notifier drives any front end
through ``core.coordinator.front_end.FrontEnd``. A recording front end of the tests, run
against the same events as the bot's, receives every card, line, thread note and prompt the
local Discord shows: each of its final posts, rendered as Discord renders it, is one of the
channel's messages, and each task's thread holds the same notes in the same order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.discordbot.front_end import content
from core.coordinator.notifier import Notifier
from core.models import Receipt, TaskSpec
from core.posts.health import urgent_consumer
from core.posts.notify import NotifyLevel
from core.service.swarm import SwarmService
from core.tasks import _held as held
from tests.discord.conftest import World
from tests.discord.test_notifier import has
from tests.discord.test_prompt_posts import open_prompt
from tests.posts.recording import RecordingFrontEnd

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(90)]


@pytest.fixture
async def recording(world: World) -> AsyncIterator[RecordingFrontEnd]:
    """The recording front end's notifier, beside the bot's, on the same service."""
    front = RecordingFrontEnd()
    notifier = Notifier(world.service, front, NotifyLevel(world.bot.settings.notify))
    task = asyncio.create_task(notifier.run())
    yield front
    notifier.stop()
    await asyncio.wait_for(task, 10)


async def all_caught_up(service: SwarmService) -> None:
    """Until the four loops (two front ends, each normal and urgent) handled every event."""
    loops = ("discord", urgent_consumer("discord"), "recording", urgent_consumer("recording"))
    async with asyncio.timeout(20):
        while True:
            last = (await service.history.last(1))[-1].id
            cursors = [await service.posts.cursor(loop) for loop in loops]
            if min(cursors[0], cursors[2]) >= last:  # urgent cursors: only their kinds
                return
            await asyncio.sleep(0.05)


async def test_a_recording_front_end_receives_every_card_discord_shows(
    world: World, recording: RecordingFrontEnd
) -> None:
    server, service, channel = world.server, world.service, world.channel
    await service.tasks.create(TaskSpec("ship it"), "cli")
    await service.tasks.create(TaskSpec("job"), "cli")
    await service.queue.assign_next()
    await service.tasks.start("T-1", "Agent-1", "halfway there")
    await service.tasks.complete("T-1", "Agent-1", "shipped")
    await service.queue.assign_next()
    await service.tasks.fail("T-2", "Agent-2", "no disk space")
    await service.messages.broadcast("stand-up in 5", "cli")
    for _ in range(4):  # the tasks' prompts, then the broadcast's first deliveries
        delivery = await service.queue.claim_delivery()
        assert delivery is not None
        await service.queue.record_receipt(delivery, Receipt.delivered("inbox"))
    text = "review by outsider on PR #3"
    await service.store.write("github", held.hold, "github", "review", "gh:r:1", text, {})
    prompt_id = await open_prompt(service, "Bash(rm -rf build)")
    await server.wait_for_message(has(f"R-{prompt_id}"), channel=channel)
    await all_caught_up(service)

    on_discord = sorted(line for m in server.messages(channel) for line in m.content.split("\n"))
    shown = [content(post.item) for post in recording.top()]
    assert on_discord == sorted(line for text in shown for line in text.split("\n"))
    assert len(recording.top()) >= 5  # two cards, the message line, the held line, the prompt
    for task_id in (1, 2):
        (card,) = [m for m in server.messages(channel) if f"**T-{task_id}**" in m.content]
        thread = [m.content for m in server.messages(card.id)]
        assert thread and thread == [content(p.item) for p in recording.thread(task_id)]


async def test_a_gate_decided_elsewhere_shows_decided_on_every_front_end(
    world: World, recording: RecordingFrontEnd
) -> None:
    """Issue 81: a gate's post is edited when it is decided, wherever (here by the CLI's
    operation, as ``swarm approve T-1`` does): on Discord and the recording front end alike,
    its buttons go and the decision and who made it are shown."""
    from core.workflows import Workflow, WorkflowBook

    flows = WorkflowBook(world.service.store)
    flow = (
        Workflow("ship")
        .step("ok", "Approve shipping", gate=True)
        .step("ship", "Ship", needs=["ok"])
    )
    gate, _ = (await flows.run(await flows.plan(flow.check(), {}), "cli")).task_ids
    server, channel = world.server, world.channel
    waiting = await server.wait_for_message(
        lambda m: f"T-{gate} waits for approval" in m.content and bool(m.custom_ids()),
        channel=channel,
    )
    # and the recording front end's own post of it: its urgent loop is its own, and a gate
    # decided before that loop got to it is never posted there (a replay: core/coordinator/
    # urgent_posts.py), as happened once in a full run on a loaded machine
    async with asyncio.timeout(20):
        while not [p for p in recording.top() if content(p.item).startswith(f"✋ T-{gate}")]:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    await world.service.inbox.approve(f"T-{gate}", "alice")  # from the CLI, not a button
    await server.wait_for_message(
        lambda m: m.id == waiting.id and not m.custom_ids() and "approved by alice" in m.content,
        channel=channel,
    )
    await all_caught_up(world.service)
    # the gate's post is the urgent loop's, which all_caught_up does not wait for: its edit
    # is waited for here (on a loaded machine it came after the normal loops caught up)

    def decided() -> list[Any]:
        return [p for p in recording.top() if content(p.item).startswith(f"✋ T-{gate}")
                and "approved by alice" in content(p.item)]  # fmt: skip

    async with asyncio.timeout(20):
        while not (posts := decided()):  # noqa: ASYNC110 - another task's list: no event
            await asyncio.sleep(0.05)
    assert len(posts) == 1, [content(p.item) for p in recording.top()]
