"""An alert in Telegram: its line, and while it is open the "Needs you" actions a button
can take (a stalled agent's task: Hand on, Nudge, Cancel; Reassign, which asks to whom, is
the CLI's or Discord's); an admin's press acts as ``swarm inbox`` does and only that
alert's buttons go."""

from __future__ import annotations

import pytest

from core.agents import _alerts as alerts
from core.models import TaskSpec, TaskStatus
from tests.telegram.conftest import World, bot_message, buttons, has

pytestmark = pytest.mark.timeout(60)


async def test_a_stalled_agents_alert_is_answered_from_its_buttons(world: World) -> None:
    service = world.service
    await service.tasks.create(TaskSpec("Pick a <database>", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    await service.store.write(
        "watch", alerts.open_alert, "Agent-2", alerts.STALLED, "Agent-2 stalled @boss_person"
    )
    post = await bot_message(world, has("Agent-2 stalled"))
    assert [e["type"] for e in post.entities] == []  # the agent's @ pings nobody
    assert buttons(post) == ["n:handon:A-1", "n:reassign:A-1", "n:nudge:A-1", "n:cancel:A-1"]
    refused = await world.server.press(world.stranger, post, "n:nudge:A-1")
    assert "Only swarm admins" in await world.server.answer_of(refused)
    nudged = await world.server.press(world.admin, post, "n:nudge:A-1")
    assert await world.server.answer_of(nudged) == (
        "✅ A-1: Agent-2 nudged about T-1 (telegram:boss_person)"
    )
    await world.server.wait_until(lambda: "nudged about T-1" in post.text)
    assert buttons(post) == [] and "Agent-2 stalled" in post.text
    assert (await service.tasks.get(1)).status is not TaskStatus.ready  # nudged, not handed on
