"""A task's live message, its thread, hostile text, a 429 and a restart: the real Slack app
against the local Slack."""

from __future__ import annotations

import asyncio

import pytest
from localslack import LocalSlackServer

from bot.slack.app import SlackBot
from core.event_kinds import EventKind
from core.history.events import EventFilter
from core.models import TaskSpec
from core.service.swarm import SwarmService
from tests.slack.conftest import (
    TEST_RATE_LIMITS,
    World,
    buttons,
    running,
    showing,
    slack_settings,
)

pytestmark = pytest.mark.timeout(60)


async def test_a_tasks_message_is_edited_in_place_through_its_states(world: World) -> None:
    server, service = world.server, world.service
    await service.tasks.create(TaskSpec("Write the docs"), "cli")
    card = await world.message_with("T-1")
    await server.wait_for(showing(card, "ready"))
    await service.queue.assign_next()
    await server.wait_for(showing(card, "assigned to Agent-1"))
    assert buttons(card) == ["swarm:done:T-1", "swarm:reassign:T-1"]
    await service.tasks.start("T-1", "Agent-1", "half way <there>")
    await server.wait_for(showing(card, "in progress (Agent-1): half way &lt;there&gt;"))
    await service.tasks.complete("T-1", "Agent-1", "written")
    await server.wait_for(showing(card, "done by Agent-1: written"))
    assert buttons(card) == []
    assert card.edits >= 3
    assert len(world.messages_with("T-1")) == 1  # one live message, never a second
    await server.wait_for(lambda: server.replies(world.channel, card.ts))
    assert all(r.thread_ts == card.ts for r in server.replies(world.channel, card.ts))
    await service.tasks.create(TaskSpec("Break it", agent="Agent-2"), "cli")
    await service.queue.assign_next()
    await service.tasks.fail("T-2", "Agent-2", "tests red")
    failed = await world.message_with("T-2")
    await server.wait_for(showing(failed, "failed (Agent-2): tests red"))
    assert buttons(failed) == ["swarm:retry:T-2"]


async def test_agent_text_is_escaped_and_never_pings(world: World) -> None:
    title = "<!channel> <!here|here> <@U0000001> @everyone & <https://evil.example|click>"
    await world.service.tasks.create(TaskSpec(title), "cli")
    card = await world.message_with("T-1")
    shown = card.blocks[0]["text"]["text"]
    assert "<" not in shown and ">" not in shown.replace("&gt;", "")
    assert "&lt;!channel&gt;" in shown and "&lt;@U0000001&gt;" in shown
    assert "@\u2060everyone" in shown and "&amp;" in shown


async def test_a_restart_posts_nothing_twice(service: SwarmService) -> None:
    async with LocalSlackServer(rate_limits=TEST_RATE_LIMITS) as server:
        channel, admin = server.add_channel("swarm"), server.add_user("boss")
        settings = slack_settings(server, channel, admin)
        async with running(SlackBot(service, settings, poll_s=0.1), server):
            for n in range(3):
                await service.tasks.create(TaskSpec(f"job {n}"), "cli")
            await server.wait_for(lambda: len(server.top_level(channel)) == 3)
        await service.tasks.create(TaskSpec("while it was away"), "cli")
        async with running(SlackBot(service, settings, poll_s=0.1), server):
            await server.wait_for(lambda: len(server.top_level(channel)) == 4)
            await service.queue.assign_next()
            await server.wait_for(lambda: "assigned" in str(server.top_level(channel)[0].blocks))
        texts = [m.text for m in server.top_level(channel)]
        assert [sum(f"*T-{n}*" in t for t in texts) for n in range(1, 5)] == [1, 1, 1, 1]
        failed = await service.history.find(EventFilter(kinds=(EventKind.POST_FAILED,)))
        assert failed == []


async def test_a_revoked_token_holds_the_posts_until_it_is_back(world: World) -> None:
    server, service = world.server, world.service
    server.revoked = True
    await service.tasks.create(TaskSpec("Posted once the token is back"), "cli")

    async def failing() -> bool:
        health = await service.posts.loop_health("slack")
        return health is not None and "invalid_auth" in (health.last_error or "")

    async with asyncio.timeout(10):
        while not await failing():  # noqa: ASYNC110 - the notifier records it
            await asyncio.sleep(0.05)
    assert server.top_level(world.channel) == []
    server.revoked = False
    card = await world.message_with("T-1")
    assert "Posted once the token is back" in card.text
    failed = await service.history.find(EventFilter(kinds=(EventKind.POST_FAILED,)))
    assert failed == []  # waited for, never skipped


async def test_a_deleted_card_is_posted_anew_with_its_thread(world: World) -> None:
    server, service = world.server, world.service
    await service.tasks.create(TaskSpec("Survive a delete"), "cli")
    card = await world.message_with("T-1")
    server.delete(card)
    await service.queue.assign_next()
    again = await world.message_with("T-1")
    await server.wait_for(showing(again, "assigned to Agent-1"))
    assert again.ts != card.ts
    await service.tasks.complete("T-1", "Agent-1", "survived")
    await server.wait_for(lambda: server.replies(world.channel, again.ts))
