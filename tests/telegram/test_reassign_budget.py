"""Reassign and a budget's raise from Telegram, as Discord has them: an item's Reassign
button answers with a keyboard of the agents (not the holder), a press on one gives it the
task; ``/reassign A-1 <agent>`` does the same, ``/budget B-1 <dollars>`` raises a spent
budget; only admins, a stranger refused in one line and recorded."""

from __future__ import annotations

import pytest

from bot.telegram.callbacks import agent_press, parse
from core.agents import alerts
from core.event_kinds import EventKind
from core.history.events import EventFilter
from core.models import TaskSpec
from tests.costs.test_budget_answers import spent_budgets
from tests.telegram.conftest import World, bot_message, buttons, has

pytestmark = pytest.mark.timeout(60)


async def stalled_task(world: World) -> None:
    """T-1 held by Agent-2, stalled: the item A-1 offers Reassign."""
    await world.service.tasks.create(TaskSpec("Fix the build", agent="Agent-2"), "cli")
    await world.service.queue.assign_batch()
    await world.service.store.write(
        "watch", alerts.open_alert, "Agent-2", alerts.STALLED, "Agent-2 stalled"
    )


async def refusals(world: World) -> list[str]:
    """The Telegram ids of the refused."""
    found = await world.service.history.find(EventFilter(kinds=(EventKind.ACCESS_REFUSED,)))
    return [str((e.data or {}).get("user")) for e in found]


async def test_reassign_offers_a_keyboard_of_the_other_agents_and_gives_the_task(
    world: World,
) -> None:
    server = world.server
    await stalled_task(world)
    await server.say(world.admin, world.chat, "/inbox")
    listing = await bot_message(world, has("item(s) need you"))
    assert "n:reassign:A-1" in buttons(listing)

    refused = await server.press(world.stranger, listing, "n:reassign:A-1")
    assert "Only swarm admins decide" in await server.answer_of(refused)
    pressed = await server.press(world.admin, listing, "n:reassign:A-1")
    assert await server.answer_of(pressed) == "choose the agent for A-1 below"
    menu = await bot_message(world, has("Reassign A-1 to:"))
    assert menu.reply_to is listing
    offered = [b["text"] for b in menu.buttons()]
    assert "Agent-2" not in offered and "Agent-5" in offered  # not its holder
    assert buttons(menu)[offered.index("Agent-5")] == "a:A-1:Agent-5"

    refused = await server.press(world.stranger, menu, "a:A-1:Agent-5")
    assert "Only swarm admins decide" in await server.answer_of(refused)
    assert (await world.service.tasks.get(1)).pinned == "Agent-2"
    chose = await server.press(world.admin, menu, "a:A-1:Agent-5")
    said = "✅ A-1: T-1 reassigned from Agent-2 to Agent-5 (telegram:boss_person)"
    assert await server.answer_of(chose) == said
    assert (await world.service.tasks.get(1)).pinned == "Agent-5"
    assert said in menu.text and menu.buttons() == []  # decided: the keyboard gone
    assert await refusals(world) == [str(world.stranger.id)] * 2


async def test_reassign_command(world: World) -> None:
    server, service = world.server, world.service
    await stalled_task(world)
    await server.say(world.stranger, world.chat, "/reassign A-1 Agent-5")
    await bot_message(world, has("Only swarm admins decide"))
    await server.say(world.admin, world.chat, "/reassign A-1")
    menu = await bot_message(world, has("Reassign A-1 to:"))
    assert "a:A-1:Agent-3" in buttons(menu)
    await server.say(world.admin, world.chat, "/reassign a-1 Agent-3")
    await bot_message(world, has("A-1: T-1 reassigned from Agent-2 to Agent-3"))
    assert (await service.tasks.get(1)).pinned == "Agent-3"
    assert await refusals(world) == [str(world.stranger.id)]


async def test_budget_command(world: World) -> None:
    server, service = world.server, world.service
    task_item, _, _ = await spent_budgets(service)
    await server.say(world.stranger, world.chat, f"/budget {task_item} 5")
    await server.say(world.admin, world.chat, f"/budget {task_item} lots")
    await bot_message(world, has("'lots' is not a number of dollars"))
    await server.say(world.admin, world.chat, f"/budget {task_item} 1.00")
    await bot_message(world, has("is not above the $1.05"))
    await server.say(world.admin, world.chat, f"/budget {task_item} $2.50")
    await bot_message(world, has(f"{task_item}: T-1's budget raised to $2.50 by telegram:"))
    assert (await service.costs.of_task(1))["budget"] == 2.5
    assert await refusals(world) == [str(world.stranger.id)]


def test_an_agent_button_carries_its_target_within_telegrams_64_bytes() -> None:
    press = agent_press("A-12", "Agent-7")
    assert press is not None and parse(press.data) == press
    assert agent_press("A-1", "a" * 62) is None  # past 64 bytes: /reassign names it
    assert parse("a:A-1:../etc") is None and parse("a:A-1:") is None
