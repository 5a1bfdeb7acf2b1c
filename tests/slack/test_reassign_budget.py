"""Reassign and a budget's raise from Slack, as Discord has them: an item's Reassign button
shows the presser a select menu (Block Kit ``static_select``) of the agents but the holder,
their pick gives it the task; ``/swarm reassign A-1 <agent>`` and ``/swarm budget B-1
<dollars>`` do the same by command; only admins, anyone else refused in one line and
recorded."""

from __future__ import annotations

import pytest

from core.agents import alerts
from core.models import TaskSpec
from tests.costs.test_budget_answers import spent_budgets
from tests.slack.conftest import World, buttons
from tests.slack.test_decisions import refusals

pytestmark = pytest.mark.timeout(60)


async def stalled_task(world: World) -> None:
    """T-1 held by Agent-2, stalled: the item A-1 offers Reassign."""
    await world.service.tasks.create(TaskSpec("Fix the build", agent="Agent-2"), "cli")
    await world.service.queue.assign_batch()
    await world.service.store.write(
        "watch", alerts.open_alert, "Agent-2", alerts.STALLED, "Agent-2 stalled"
    )


async def test_reassign_shows_a_menu_of_the_other_agents_and_the_pick_gives_the_task(
    world: World,
) -> None:
    server, service = world.server, world.service
    await stalled_task(world)
    await server.command(world.admin, world.channel, "inbox")
    listing = await world.message_with("item(s) need you")
    assert "swarm:reassign:A-1" in buttons(listing)

    await server.press(world.stranger, listing, "swarm:reassign:A-1")
    await server.wait_for(lambda: server.seen_by(world.stranger))
    assert "admins" in server.seen_by(world.stranger)[0].text
    await server.press(world.admin, listing, "swarm:reassign:A-1")
    await server.wait_for(lambda: server.seen_by(world.admin))
    (menu,) = server.seen_by(world.admin)  # only the presser sees it
    assert menu.text == "Reassign A-1 to:"
    (select,) = menu.selects()
    offered = [o["value"] for o in select["options"]]
    assert "Agent-2" not in offered and "Agent-5" in offered  # not its holder

    await server.choose(world.stranger, menu, "swarm:assign:A-1", "Agent-5")
    await server.wait_for(lambda: len(server.seen_by(world.stranger)) == 2)
    assert (await service.tasks.get(1)).pinned == "Agent-2"
    await server.choose(world.admin, menu, "swarm:assign:A-1", "Agent-5")
    await server.wait_for(lambda: len(server.seen_by(world.admin)) == 2)
    said = server.seen_by(world.admin)[1].text
    assert said == "✅ A-1: T-1 reassigned from Agent-2 to Agent-5"
    assert (await service.tasks.get(1)).pinned == "Agent-5"
    assert [r["user"] for r in await refusals(service)] == [world.stranger.id] * 2
    audit = [r.command for r in await service.history.audit_rows()]
    assert "button reassign A-1 to Agent-5" in audit


async def test_reassign_command(world: World) -> None:
    server, service = world.server, world.service
    await stalled_task(world)
    refused = await server.command(world.stranger, world.channel, "reassign A-1 Agent-5")
    assert "admins" in refused["text"]
    menu = await server.command(world.admin, world.channel, "reassign a-1")
    assert menu["text"] == "Reassign A-1 to:"
    (select,) = [e for b in menu["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert select["type"] == "static_select" and select["action_id"] == "swarm:assign:A-1"
    done = await server.command(world.admin, world.channel, "reassign A-1 Agent-3")
    assert done["text"] == "✅ A-1: T-1 reassigned from Agent-2 to Agent-3"
    assert (await service.tasks.get(1)).pinned == "Agent-3"


async def test_budget_command(world: World) -> None:
    server, service = world.server, world.service
    task_item, _, _ = await spent_budgets(service)
    refused = await server.command(world.stranger, world.channel, f"budget {task_item} 5")
    assert "admins" in refused["text"]
    lots = await server.command(world.admin, world.channel, f"budget {task_item} lots")
    assert lots["text"].startswith("⚠️ 'lots' is not a number of dollars")
    low = await server.command(world.admin, world.channel, f"budget {task_item} 1.00")
    assert "is not above the $1.05" in low["text"]
    assert (await service.costs.of_task(1))["budget"] == 1.0  # nothing written
    raised = await server.command(world.admin, world.channel, f"budget {task_item} $2.50")
    assert raised["text"] == f"✅ {task_item}: T-1's budget raised to $2.50 by slack:boss"
    assert (await service.costs.of_task(1))["budget"] == 2.5
