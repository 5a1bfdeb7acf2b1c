"""The notifier under Discord's rate limits: a burst of tasks, each card posted once and
edited to its final state, through discord.py's pacing and its retries after 429s.

The long burst beside another client (discord.py's pacing, the same on either database) runs
on SQLite; a shorter burst written by two writers at once, whose events commit out of id order on
PostgreSQL while the notifier reads, runs on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from localdiscord import DISCORD_RATE_LIMITS, LocalDiscordServer, RecordedMessage

from bot.discordbot.cards import task_card
from core.models import TaskSpec
from core.service.swarm import SwarmService
from tests.discord.conftest import World
from tests.discord.test_notifier import has, thread_of

BURST = 60  # past the channel route's rate limit many times over (the test checks it was hit)
NEIGHBOUR = "from another client"
NEIGHBOURS = 20  # the other client's posts
# Discord's buckets with windows a twentieth as long (the other bot tests' tenth, halved: the
# same counts and 429s; the 80 posts of the burst and its neighbour take ~4 s, not ~8 s)
BURST_LIMITS = DISCORD_RATE_LIMITS.scaled(0.05)


async def final_cards(service: SwarmService) -> dict[str, str]:
    """What each task's card must read once the notifier has caught up, by task ref."""
    tasks = await service.tasks.newest(limit=10_000)
    return {
        task.ref: task_card(task, None, await service.questions.open_question(task.id))
        for task in tasks
    }


def is_card(message: RecordedMessage) -> bool:
    """A task's card (not another client's message)."""
    return message.content.count("**") >= 2 and "**T-" in message.content


def card_counts(server: LocalDiscordServer, world: World) -> dict[str, int]:
    """How many messages (live or deleted) the bot ever posted for each task ref."""
    counts: dict[str, int] = {}
    for message in server.store.all():
        if message.channel_id == world.channel.id and is_card(message):
            ref = message.content.split("**")[1]
            counts[ref] = counts.get(ref, 0) + 1
    return counts


async def neighbour_posts(server: LocalDiscordServer, channel_id: int, count: int) -> None:
    """Another client on the bot's token posting in the channel (a second process, a script):
    it takes from the same bucket, so discord.py's count is off and Discord answers it 429.
    It posts as fast as its own 429s let it."""
    headers = {"Authorization": f"Bot {server.token}"}
    async with aiohttp.ClientSession(base_url=server.url, headers=headers) as http:
        for n in range(count):
            while True:
                async with http.post(
                    f"/api/v10/channels/{channel_id}/messages", json={"content": f"{NEIGHBOUR} {n}"}
                ) as response:
                    if response.status != 429:
                        assert response.status == 200
                        break
                    await asyncio.sleep((await response.json())["retry_after"])


@contextlib.asynccontextmanager
async def neighbour(server: LocalDiscordServer, channel_id: int, count: int) -> AsyncIterator[None]:
    """``neighbour_posts`` running beside the block."""
    task = asyncio.create_task(neighbour_posts(server, channel_id, count))
    try:
        yield
    finally:
        await task


@pytest.mark.timeout(240)
async def test_a_burst_of_60_tasks_gets_one_card_each_edited_to_its_final_state(
    world: World,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="discord.http")
    world.server.set_rate_limits(BURST_LIMITS)
    async with neighbour(world.server, world.channel.id, NEIGHBOURS):
        await burst(world, BURST)
    hit = [r for r in caplog.records if r.getMessage().startswith("We are being rate limited")]
    assert hit  # the bot's own requests were refused and retried, by discord.py
    theirs = [m for m in world.server.messages(world.channel) if NEIGHBOUR in m.content]
    assert len(theirs) == NEIGHBOURS


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.both_databases
async def test_a_burst_from_two_writers_gets_one_card_each_on_postgresql(world: World) -> None:
    world.server.set_rate_limits(BURST_LIMITS)
    await burst(world, 30, together=True)
    counts = card_counts(world.server, world)
    assert len(counts) == 31 and set(counts.values()) == {1}  # the warm-up and the 30, once


async def _written_by_two(service: SwarmService, specs: list[TaskSpec]) -> list[str]:
    """``specs`` created, and a third of them cancelled, by ``service`` and a second service
    on the same database (another process's write connection) at the same time: on
    PostgreSQL their transactions commit out of the order of their ids. The refs."""
    other = await SwarmService.open(service.settings)
    try:
        writers = (service, other)
        made = await asyncio.gather(
            *(writers[n % 2].tasks.create(spec, "cli") for n, spec in enumerate(specs))
        )
        refs = [task.ref for task in made]
        await asyncio.gather(
            *(writers[n % 2].tasks.cancel(ref, "cli") for n, ref in enumerate(refs[::3]))
        )
    finally:
        await other.close()
    return refs


async def burst(world: World, size: int, timeout_s: float = 200.0, together: bool = False) -> None:
    """Create ``size`` tasks at once (``together``: by two writers at the same time), cancel a
    third, finish or fail a few; check that every task ends with exactly one card, showing its
    final state, and each failure one note."""
    server, service = world.server, world.service
    await service.tasks.create(TaskSpec("warm-up"), "cli")  # the notifier has its cursor
    await server.wait_for_message(has("**T-1** · warm-up"), channel=world.channel)
    specs = [TaskSpec(f"burst {n}") for n in range(size)]
    if together:
        refs = await _written_by_two(service, specs)
    else:
        refs = [(await service.tasks.create(spec, "cli")).ref for spec in specs]
        for ref in refs[::3]:  # while the notifier is still posting: some cards edited, some
            await service.tasks.cancel(ref, "cli")  # first posted already cancelled
    assigned = await service.queue.assign_batch()
    for n, assignment in enumerate(assigned):
        if n % 2:
            await service.tasks.fail(assignment.task_id, assignment.agent, "burst failure")
        else:
            await service.tasks.complete(assignment.task_id, assignment.agent)
    expected = sorted((await final_cards(service)).values())
    assert len(expected) == size + 1 and len(assigned) >= 2

    def converged() -> bool:
        return sorted(m.content for m in server.messages(world.channel) if is_card(m)) == expected

    await server.wait_until(converged, timeout_s, "every card to show its task's final state")
    assert set(card_counts(server, world).values()) == {1}  # none twice (none lost: above)
    for assignment in assigned[1::2]:  # the failed ones: a thread each, with its note once
        ref = f"**T-{assignment.task_id}**"
        card = next(m for m in server.messages(world.channel) if ref in m.content)
        thread = await thread_of(server, card)
        await server.wait_for_message(has("burst failure"), channel=thread)
        assert len(server.messages(thread)) == 1
