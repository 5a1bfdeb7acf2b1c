"""The Discord notifier's two loops and how they are doing (no discord import): the consumer
of each loop's cursor, the kinds the urgent loop posts, and each loop's lag and failures read
from the database, for ``swarm status``, ``/metrics`` and the dashboard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.discordbot.render import ALERT_KINDS
from core.posts.queries import LoopHealth

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

CONSUMER = "discord"
URGENT_CONSUMER = "discord:urgent"  # the posts a person must act on, read on their own
PROMPT_KINDS = frozenset({"prompt.opened", "prompt.decided", "prompt.closed"})
CI_KINDS = frozenset({"github.ci_exhausted", "github.ci_decided"})
URGENT_KINDS = PROMPT_KINDS | CI_KINDS | ALERT_KINDS | {"gate.waiting"}


async def notifier_health(service: SwarmService) -> list[LoopHealth]:
    """Each loop's lag and failures; none when the notifier never ran on this database."""
    normal = await service.posts.loop_health(CONSUMER)
    if normal is None:
        return []
    urgent = await service.posts.loop_health(
        URGENT_CONSUMER, tuple(sorted(URGENT_KINDS)), normal.cursor
    )
    return [normal] if urgent is None else [normal, urgent]


async def with_notifier(service: SwarmService, overview: dict[str, Any]) -> dict[str, Any]:
    """``overview`` (``service.status()``) with the loops' health as ``notifier``, once the
    notifier ran here (``swarm status``, ``GET /api/v1/status``)."""
    loops = await notifier_health(service)
    if loops:
        overview["notifier"] = [loop.to_json() for loop in loops]
    return overview
