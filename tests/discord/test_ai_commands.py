"""/plan, /summary and /usage through the local Discord and a local OpenAI-compatible model."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from localdiscord import LocalDiscordServer, running_client
from localmodel import LocalModel

from core.service.swarm import SwarmService
from tests.ai.conftest import VALID, ai_settings, plan_reply
from tests.discord.conftest import World, builder_for


@pytest.fixture
async def model() -> AsyncIterator[LocalModel]:
    """A local OpenAI-compatible server."""
    async with LocalModel() as srv:
        yield srv


@pytest.fixture
async def ai_world(
    server: LocalDiscordServer, service: SwarmService, model: LocalModel
) -> AsyncIterator[World]:
    """The bot with its AI service pointed at the local model."""
    builder = builder_for(server, service, ai=ai_settings(model))
    async with builder.ai(service) as ai:
        bot = builder.bot(service, ai)
        users = {u.name: u for u in server.guild.users}
        async with running_client(server, bot):
            await server.wait_for_commands("plan", "summary", "usage")
            yield World(
                server,
                service,
                bot,
                server.guild.channels[0],
                users["boss"],
                users["dev"],
                users["stranger"],
            )


async def test_plan_preview_then_approve_creates_the_graph(
    ai_world: World, model: LocalModel
) -> None:
    model.queue(plan_reply(*VALID))
    handle = await ai_world.server.invoke_slash(
        ai_world.user,
        "plan new",
        {"goal": "Harden the login flow", "context": "review: tokens never expire"},
    )
    callback = await handle.wait_callback()
    assert callback.type == 5  # deferred: the model may take longer than 3 s
    (preview,) = await handle.wait_followups(1)
    assert "P-1" in preview.content and "[qa" in preview.content
    assert await ai_world.service.tasks.newest() == []
    click = await ai_world.server.click_button(ai_world.user, preview, "swarm:plan:approve:1")
    reply = await click.wait_callback()
    assert reply.type == 7 and "4 tasks created" in reply.data["content"]
    tasks = {t.title: t for t in await ai_world.service.tasks.newest()}
    assert len(tasks) == 4 and {t.plan_id for t in tasks.values()} == {"P-1"}
    assert sorted(tasks["Task c"].after) == sorted([tasks["Task a"].id, tasks["Task b"].id])
    shown = await (
        await ai_world.server.invoke_slash(ai_world.user, "plan show", {"id": "P-1"})
    ).wait_callback()
    assert "0/4" in shown.data["content"] or "0 / 4" in shown.data["content"]


async def test_plan_discard_and_refusals(ai_world: World, model: LocalModel) -> None:
    model.queue(plan_reply(*VALID))
    handle = await ai_world.server.invoke_slash(ai_world.user, "plan new", {"goal": "x"})
    (preview,) = await handle.wait_followups(1)
    refused = await (
        await ai_world.server.click_button(ai_world.stranger, preview, "swarm:plan:approve:1")
    ).wait_callback()
    assert "not allowed" in refused.data["content"]
    gone = await (
        await ai_world.server.click_button(ai_world.user, preview, "swarm:plan:discard:1")
    ).wait_callback()
    assert "P-1 discarded" in gone.data["content"]
    assert await ai_world.service.tasks.newest() == []


async def test_summary_and_usage(ai_world: World, model: LocalModel) -> None:
    from localmodel import Step

    model.queue(Step("All quiet: nothing done yet, nobody stuck."))
    handle = await ai_world.server.invoke_slash(ai_world.user, "summary", {"period": "1d"})
    (text,) = await handle.wait_followups(1)
    assert "All quiet" in text.content
    usage = await (await ai_world.server.invoke_slash(ai_world.user, "usage")).wait_callback()
    assert "summary" in usage.data["content"] and "test-model" in usage.data["content"]
