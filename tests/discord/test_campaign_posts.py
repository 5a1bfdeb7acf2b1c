"""A campaign's live message (posted by /campaign show, edited by the notifier, kept across
a restart) and the one post of a gate that starts waiting."""

from __future__ import annotations

import pytest
from localdiscord import LocalDiscordServer, RecordedMessage, running_client

from core.service.swarm import SwarmService
from core.workflows import Workflow, WorkflowBook
from tests.discord.conftest import builder_for

pytestmark = pytest.mark.both_databases


async def _reads(server: LocalDiscordServer, message: RecordedMessage, text: str) -> None:
    """Wait until the message's embed (edited in place) shows ``text``."""

    def shows() -> bool:
        embed = message.embeds[0]
        return text in embed.get("description", "") + str(embed.get("fields"))

    await server.wait_until(lambda: message if shows() else None, 5.0, f"the embed to show {text}")


async def test_campaign_show_is_one_live_message_kept_across_a_restart(
    server: LocalDiscordServer, service: SwarmService
) -> None:
    channel = server.guild.channels[0]
    dev = next(u for u in server.guild.users if u.name == "dev")
    flows = WorkflowBook(service.store)
    flow = (
        Workflow("ship")
        .step("a", "Build A")
        .step("b", "Build B")
        .step("ok", "Approve shipping", gate=True, needs=["a", "b"])
        .step("go", "Ship", needs=["ok"])
        .check()
    )
    a, b, ok, go = (await flows.run(await flows.plan(flow, {}), "cli")).task_ids
    builder = builder_for(server, service)
    ai = builder.ai(service)
    async with running_client(server, builder.bot(service, ai)):
        await server.wait_for_commands("campaign")
        answer = await (
            await server.invoke_slash(dev, "campaign show", {"id": "C-1"})
        ).wait_callback()
        assert "▱▱▱ 0/4` done or skipped" in answer.data["embeds"][0]["description"]
        live = await server.wait_for_message(
            lambda m: bool(m.embeds) and m.embeds[0]["title"] == "C-1: ship", channel=channel
        )
        await service.queue.assign_batch()
        await service.tasks.complete(a, (await service.tasks.get(a)).agent or "")
        await _reads(server, live, "1/4` done")
        assert live.custom_ids() == []
    await service.tasks.complete(b, (await service.tasks.get(b)).agent or "")  # while down
    async with running_client(server, builder.bot(service, ai)):  # a new client: the same
        await _reads(server, live, "2/4` done")  # message is edited
        assert live.custom_ids() == [f"swarm:gate:approve:{ok}", f"swarm:gate:reject:{ok}"]
        gate_post = await server.wait_for_message(
            lambda m: "waits for approval" in m.content, channel=channel
        )
        assert gate_post.content == f"✋ T-{ok} waits for approval (C-1): Approve shipping"
        assert gate_post.custom_ids() == live.custom_ids()
        await flows.approve(f"T-{ok}", "cli")
        await _reads(server, live, "3/4` done")
        assert live.custom_ids() == []
        await service.queue.assign_batch()
        await service.tasks.complete(go, (await service.tasks.get(go)).agent or "")
        await _reads(server, live, "'value': 'finished'")
    await ai.close()
    messages = server.messages(channel)
    assert sum(bool(m.embeds) and m.embeds[0]["title"].startswith("C-1") for m in messages) == 1
    assert sum("waits for approval" in m.content for m in messages) == 1
    assert len(live.history) >= 4  # edited in place at every step
