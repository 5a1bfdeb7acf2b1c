"""A bot message deleted by a moderator (or its thread, or the bot's access to the channel)
never silences the channel: the notifier posts a gone live message anew, skips a post Discord
refuses for good (recorded, alerted), and retries what fails for now (its lag and failures
shown in ``swarm status``, ``/metrics`` and the dashboard), in both of its loops and across a
restart of the bot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import discord
import httpx
import pytest
from localdiscord import ChannelSpec, LocalDiscordServer, RecordedMessage, running_client
from localdiscord.world import VIEW_CHANNEL

from bot.discordbot.post_failures import Failure, classify, describe
from bot.web.app import create_app
from bot.web.settings import WebSettings
from core.agents._alerts import list_alerts
from core.event_kinds import EventKind
from core.history.events import EventFilter
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.store.tables import insert_event
from tests.discord.conftest import World, builder_for
from tests.discord.test_notifier import edited_to, has, thread_of
from tests.discord.test_prompt_posts import open_prompt
from tests.helpers import run_cli
from tests.web.conftest import bearer, make_token
from tests.web.test_pages import login

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(90)]
T = TypeVar("T")
# the notifier's pause after a failure for now: 0.1 s doubling to 0.4 s here (1 s to 30 s in
# use), so that a bug's three tries take 0.3 s and the end of an outage is seen within 0.4 s
FIRST_BACKOFF_S, MAX_BACKOFF_S = 0.1, 0.4


@pytest.fixture
async def retrying(server: LocalDiscordServer, service: SwarmService) -> AsyncIterator[World]:
    """The bot connected, its notifier's retry pauses short (set before its loops start)."""
    builder = builder_for(server, service)
    async with builder.ai(service) as ai:
        bot = builder.bot(service, ai)
        bot.notifier.first_backoff_s, bot.notifier.max_backoff_s = FIRST_BACKOFF_S, MAX_BACKOFF_S
        users = {u.name: u for u in server.guild.users}
        async with running_client(server, bot):
            channel = server.guild.channels[0]
            yield World(
                server, service, bot, channel, users["boss"], users["dev"], users["stranger"]
            )


async def moderator(
    server: LocalDiscordServer, method: str, path: str, body: dict[str, Any] | None = None
) -> None:
    """A moderator's request to the local Discord's REST API (``DELETE /channels/...``)."""
    headers = {"Authorization": f"Bot {server.token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.request(method, f"{server.api_base}{path}", json=body) as response,
    ):
        assert response.status in (200, 204), await response.text()


async def hide_channel(server: LocalDiscordServer, channel: ChannelSpec, hidden: bool) -> None:
    """A moderator takes the bot's View Channel in ``channel`` away (or gives it back)."""
    path = f"/channels/{channel.id}/permissions/{server.bot.id}"
    if hidden:
        await moderator(server, "PUT", path, {"type": 1, "allow": "0", "deny": str(VIEW_CHANNEL)})
    else:
        await moderator(server, "DELETE", path)


async def until(probe: Callable[[], Awaitable[T | None]], what: str, timeout_s: float = 10) -> T:
    """Poll ``probe`` until it is truthy (the database read offers no event to wait on)."""
    async with asyncio.timeout(timeout_s):
        while not (found := await probe()):  # noqa: ASYNC110 - nothing to wait on but time
            await asyncio.sleep(0.05)
    assert found, what
    return found


@dataclass
class Shown:
    """What a person sees of the notifier: ``swarm status`` (JSON and text), ``/metrics``,
    the dashboard's agents page."""

    status: dict[str, Any]
    text: str
    metrics: str
    page: str
    api: dict[str, Any]  # GET /api/v1/status

    def loop(self, name: str) -> dict[str, Any]:
        """One loop of ``swarm status --json``."""
        return next(loop for loop in self.status["notifier"] if loop["loop"] == name)


async def shown(service: SwarmService, home: Path, database_url: str | None) -> Shown:
    """Read what a person sees: the CLI in child processes, the dashboard in process."""
    env = {"SWARM_DATABASE_URL": database_url} if database_url else None
    # one after the other: each a fork of the CLI zygote (at once, the second would find it
    # busy and start a fresh Python, ~0.4 s of imports)
    as_json = await asyncio.to_thread(run_cli, home, "status", "--json", env=env)
    text = await asyncio.to_thread(run_cli, home, "status", env=env)
    assert as_json.code == 0 and text.code == 0, as_json.err + text.err
    app = create_app(service, WebSettings(metrics="local"))  # a scrape without a token
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        metrics = (await http.get("/metrics")).text
        token = await make_token(service, "viewer", "wall")
        api = (await http.get("/api/v1/status", headers=bearer(token))).json()
        await login(http, token)
        page = (await http.get("/agents")).text
    return Shown(json.loads(as_json.out), text.out, metrics, page, api)


async def delete_message(server: LocalDiscordServer, message: RecordedMessage) -> None:
    """A moderator deletes one of the bot's messages."""
    await moderator(server, "DELETE", f"/channels/{message.channel_id}/messages/{message.id}")


async def test_a_deleted_card_is_posted_anew_and_later_posts_still_come(world: World) -> None:
    server, channel, service = world.server, world.channel, world.service
    await service.tasks.create(TaskSpec("ship it"), "cli")
    card = await server.wait_for_message(has("**T-1** · ship it — ready"), channel=channel)
    await delete_message(server, card)
    await service.queue.assign_next()  # an edit of the deleted card: 404 Unknown Message
    anew = await server.wait_for_message(has("**T-1** · ship it — assigned to Agent-1"))
    assert anew.id != card.id and anew.custom_ids() == ["swarm:done:1", "swarm:reassign:1"]
    await service.tasks.create(TaskSpec("next"), "cli")
    await server.wait_for_message(has("**T-2** · next — ready"), channel=channel)
    prompt_id = await open_prompt(service, "Edit main.py?")
    await server.wait_for_message(has(f"R-{prompt_id}"), channel=channel)
    await service.tasks.start("T-1", "Agent-1", "halfway")
    await edited_to(server, anew, "in progress (Agent-1): halfway")  # the new card is the live one
    (event,) = await service.history.find(EventFilter(kinds=("post.reposted",)))
    assert event.task_id == 1 and "404 Unknown Message (10008)" in event.text


async def test_a_deleted_prompt_post_is_posted_anew_and_later_prompts_still_come(
    world: World,
) -> None:
    server, channel, service = world.server, world.channel, world.service
    first = await open_prompt(service, "Run the migrations?")
    post = await server.wait_for_message(has(f"R-{first}"), channel=channel)
    await delete_message(server, post)
    await service.inbox.reject(f"R-{first}", "cli")  # the urgent loop edits the deleted post
    anew = await server.wait_for_message(has(f"R-{first} · Agent-1: 3. 'No' chosen by cli"))
    assert anew.id != post.id and anew.custom_ids() == []
    second = await open_prompt(service, "Push to main?", agent="Agent-2")
    later = await server.wait_for_message(has(f"R-{second}"), channel=channel)
    assert later.custom_ids() == [f"swarm:prompt:{second}:{i}" for i in range(3)]
    await service.tasks.create(TaskSpec("still carded"), "cli")
    await server.wait_for_message(has("**T-1** · still carded"), channel=channel)
    (event,) = await service.history.find(EventFilter(kinds=("post.reposted",)))
    assert event.text == (
        f"Discord: R-{first}'s post was gone: 404 Unknown Message (10008); posted anew"
    )
    assert event.data and event.data["loop"] == "discord:urgent"


async def test_posts_deleted_while_the_bot_was_down_are_posted_anew_after_its_restart(
    server: LocalDiscordServer, service: SwarmService
) -> None:
    channel = server.guild.channels[0]
    builder = builder_for(server, service)
    ai = builder.ai(service)
    async with running_client(server, builder.bot(service, ai)):
        await service.tasks.create(TaskSpec("before"), "cli")
        card = await server.wait_for_message(has("**T-1** · before — ready"), channel=channel)
        first = await open_prompt(service, "Edit main.py?")
        post = await server.wait_for_message(has(f"R-{first}"), channel=channel)
    await delete_message(server, card)
    await delete_message(server, post)
    await service.queue.assign_next()
    await service.inbox.decide_prompt(first, "1", "cli")
    await service.tasks.create(TaskSpec("after"), "cli")
    second = await open_prompt(service, "Run the tests?", agent="Agent-2")
    async with running_client(server, builder.bot(service, ai)):  # a new process, as after
        await server.wait_for_message(has("**T-1** · before — assigned to Agent-1"))  # a restart
        await server.wait_for_message(has(f"R-{first} · Agent-1: 1. 'Yes' chosen by cli"))
        await server.wait_for_message(has("**T-2** · after"), channel=channel)
        await server.wait_for_message(has(f"R-{second}"), channel=channel)
    await ai.close()
    contents = [m.content for m in server.messages(channel)]
    assert sum("**T-1**" in c for c in contents) == 1, contents


async def test_a_deleted_thread_gets_its_card_posted_anew_with_a_new_thread(world: World) -> None:
    server, channel, service = world.server, world.channel, world.service
    await service.tasks.create(TaskSpec("notes"), "cli")
    await service.queue.assign_next()
    await service.tasks.start("T-1", "Agent-1", "first note")
    card = await server.wait_for_message(has("in progress (Agent-1): first note"), channel=channel)
    thread = await thread_of(server, card)
    await server.wait_for_message(has("first note"), channel=thread)
    await moderator(server, "DELETE", f"/channels/{thread.id}")
    await service.tasks.start("T-1", "Agent-1", "second note")  # the card is edited, the note
    anew = await server.wait_for_message(  # goes to a thread that is gone: a new card
        lambda m: "in progress (Agent-1): second note" in m.content and m.id != card.id,
        channel=channel,
    )
    new_thread = await thread_of(server, anew)
    await server.wait_for_message(has("second note"), channel=new_thread)
    await service.tasks.start("T-1", "Agent-1", "third note")
    await server.wait_for_message(has("third note"), channel=new_thread)  # the live thread
    assert new_thread.id != thread.id
    cards = [m for m in server.messages(channel) if "**T-1**" in m.content]
    assert [m.id for m in cards] == [card.id, anew.id]  # posted anew once, not per note


async def test_a_post_refused_for_good_is_skipped_recorded_alerted_and_shown(
    world: World, home: Path, database_url: str | None
) -> None:
    server, channel, service = world.server, world.channel, world.service
    await service.tasks.create(TaskSpec("warm-up"), "cli")
    await server.wait_for_message(has("**T-1** · warm-up"), channel=channel)
    await hide_channel(server, channel, hidden=True)  # 403 Missing Access from now on
    await service.tasks.create(TaskSpec("unseen"), "cli")

    async def alerted() -> list[Any]:
        return [a for a in await service.store.read(list_alerts) if a.agent == "discord"]

    (alert,) = await until(alerted, "the notifier's alert")
    assert alert.kind == "post_failed" and alert.text.startswith("Discord refused the post of")
    assert alert.text.endswith("(task.created, T-2) for good: 403 Missing Access (50001); skipped")
    failed = await service.history.find(EventFilter(kinds=("post.failed",)))
    assert failed[0].task_id == 2 and failed[0].text == alert.text
    assert any(need.ref == f"A-{alert.id}" for need in await service.inbox.needs())  # needs you
    seen = await shown(service, home, database_url)
    assert seen.loop("discord")["skipped"] >= 1
    assert seen.loop("discord")["last_error"] == "403 Missing Access (50001)"
    assert "skipped (refused for good)" in seen.text and "403 Missing Access (50001)" in seen.text
    assert 'swarm_notifier_failures_total{loop="discord",outcome="skipped"}' in seen.metrics
    assert 'id="notifier-discord"' in seen.page and "403 Missing Access (50001)" in seen.page

    await hide_channel(server, channel, hidden=False)
    await service.tasks.create(TaskSpec("seen again"), "cli")  # later posts still come
    await server.wait_for_message(has("**T-3** · seen again"), channel=channel)

    async def all_cleared() -> bool:
        return not await service.store.read(list_alerts)

    await until(all_cleared, "the alerts cleared once posts got through again")
    prompt_id = await open_prompt(service, "Edit main.py?")
    await server.wait_for_message(has(f"R-{prompt_id}"), channel=channel)


async def test_an_outage_is_tried_again_and_its_lag_and_failures_are_shown(
    retrying: World, home: Path, database_url: str | None
) -> None:
    server, channel, service = retrying.server, retrying.channel, retrying.service
    await service.tasks.create(TaskSpec("warm-up"), "cli")
    await server.wait_for_message(has("**T-1** · warm-up"), channel=channel)
    server.set_outage(503)
    await service.tasks.create(TaskSpec("during the outage"), "cli")

    async def lagging() -> bool:
        health = await service.posts.loop_health("discord")
        return health is not None and health.retried >= 1 and health.behind_s >= 1

    await until(lagging, "the notifier to be behind, retrying")
    seen = await shown(service, home, database_url)
    normal = seen.loop("discord")
    assert normal["retried"] >= 1 and normal["behind_s"] >= 1 and normal["skipped"] == 0
    assert normal["last_error"] == "503 Service Unavailable"
    assert "notifier:   discord " in seen.text and " s behind" in seen.text
    assert "tried again" in seen.text and "503 Service Unavailable" in seen.text
    lag = next(
        line
        for line in seen.metrics.splitlines()
        if line.startswith('swarm_notifier_lag_seconds{loop="discord"}')
    )
    assert float(lag.split()[-1]) >= 1
    assert 'swarm_notifier_failures_total{loop="discord",outcome="retried"}' in seen.metrics
    assert 'id="notifier-discord"' in seen.page and "503 Service Unavailable" in seen.page
    assert seen.api["notifier"][0]["last_error"] == "503 Service Unavailable"
    server.set_outage(None)
    await server.wait_for_message(has("**T-2** · during the outage"), timeout_s=40)

    async def caught_up() -> bool:
        health = await service.posts.loop_health("discord")
        return health is not None and health.behind_s == 0

    await until(caught_up, "the notifier to catch up")
    assert await service.store.read(list_alerts) == []  # failures for now open no alert


async def test_what_fails_for_good_and_what_for_now(world: World) -> None:
    """Discord's real refusals, as the local Discord answers them, classified."""
    channel = world.bot.get_channel(world.channel.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("card")
    await delete_message(world.server, world.server.store.get(sent.id))
    refusals: list[tuple[BaseException, Failure, str]] = []
    for attempt, failure, text in (
        (channel.send("x" * 2001), Failure.refused, "400 Invalid Form Body (50035)"),
        (sent.edit(content="again"), Failure.gone, "404 Unknown Message (10008)"),
    ):
        with pytest.raises(discord.HTTPException) as raised:
            await attempt
        refusals.append((raised.value, failure, text))
    world.server.set_outage(503)
    with pytest.raises(discord.DiscordServerError) as down:
        await channel.send("lost")
    world.server.set_outage(None)
    refusals.append((down.value, Failure.transient, "503 Service Unavailable"))
    refusals.append((ConnectionResetError("reset by peer"), Failure.transient, "Connection"))
    for exc, failure, text in refusals:
        assert classify(exc) is failure and describe(exc).startswith(text), exc


def _malformed_event(conn: Any, ctx: Any) -> None:
    # a row no handler can read (an older version's, or a bug's): its message id is no number
    insert_event(conn, ctx.now, EventKind.MESSAGE_QUEUED, "cli → all: hi", data={"message": "x"})


async def test_an_event_that_fails_every_time_is_skipped_not_retried_for_ever(
    retrying: World,
) -> None:
    server, channel, service = retrying.server, retrying.channel, retrying.service
    await service.store.write("cli", _malformed_event)  # int("x") raises in the handler
    await service.tasks.create(TaskSpec("after the bad one"), "cli")
    await server.wait_for_message(has("**T-1** · after the bad one"), channel=channel)
    (failed,) = await service.history.find(EventFilter(kinds=("post.failed",)))
    assert "message.queued" in failed.text and "ValueError" in failed.text
    alerts = [a for a in await service.store.read(list_alerts) if a.agent == "discord"]
    assert alerts == [] or alerts[0].kind == "post_failed"  # cleared once T-1's card went
