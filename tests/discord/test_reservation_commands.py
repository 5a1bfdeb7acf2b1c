"""/reservations on the real bot against the local Discord: the live reservations, ephemeral,
and a pattern that looks like a mention pings nobody."""

from __future__ import annotations

from core.models import TaskSpec
from tests.discord.conftest import World, slash


async def test_reservations_lists_live_ones_and_pings_nobody(world: World) -> None:
    service = world.service
    empty = await slash(world, world.user, "reservations")
    assert "no file reservations" in empty.data["content"]
    task = await service.tasks.create(TaskSpec("API", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    await service.reservations.reserve("Agent-2", ["src/api/**"])
    await service.reservations.reserve("Agent-1", ["@everyone/*.md"], exclusive=False, ttl_s=60)
    shown = await slash(world, world.user, "reservations")
    text = shown.data["content"]
    assert shown.data["flags"] & 64  # only the asker sees it
    assert "Agent-2  src/api/**" in text and f"exclusive  {task.ref}" in text
    assert "@everyone/*.md  shared" in text
    assert shown.data["allowed_mentions"] == {"parse": []}
    one = await slash(world, world.user, "reservations", {"agent": "Agent-1"})
    assert "Agent-2" not in one.data["content"] and "@everyone/*.md" in one.data["content"]
