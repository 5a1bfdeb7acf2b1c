"""The Discord notifier's two loops as every front end sees them (no discord import): the
consumer of each loop's cursor, the kinds the urgent loop posts (``core.event_kinds``), and
each loop's lag and failures read from the database, for ``swarm status``, ``/metrics`` and
the dashboard."""

from __future__ import annotations

from typing import Any

from core.event_kinds import URGENT_KINDS
from core.posts.queries import LoopHealth
from core.posts.service import PostBook

CONSUMER = "discord"
URGENT_CONSUMER = "discord:urgent"  # the posts a person must act on, read on their own
URGENT = tuple(sorted(URGENT_KINDS))


async def notifier_health(posts: PostBook) -> list[LoopHealth]:
    """Each loop's lag and failures; none when the notifier never ran on this database."""
    normal = await posts.loop_health(CONSUMER)
    if normal is None:
        return []
    urgent = await posts.loop_health(URGENT_CONSUMER, URGENT, normal.cursor)
    return [normal] if urgent is None else [normal, urgent]


async def with_notifier(posts: PostBook, overview: dict[str, Any]) -> dict[str, Any]:
    """``overview`` (``service.status()``) with the loops' health as ``notifier``, once the
    notifier ran here (``swarm status``, ``GET /api/v1/status``)."""
    loops = await notifier_health(posts)
    if loops:
        overview["notifier"] = [loop.to_json() for loop in loops]
    return overview
