"""The notifier's loops as every front end sees them (no front-end import): each front end
runs two loops over the events, its own (``discord``) and its urgent one (``discord:urgent``,
the kinds ``core.event_kinds`` marks urgent); each loop's lag and failures are read from the
database, for ``swarm status``, ``/metrics`` and the dashboard."""

from __future__ import annotations

from typing import Any

from core.event_kinds import URGENT_KINDS
from core.posts.queries import LoopHealth
from core.posts.service import PostBook

URGENT_SUFFIX = ":urgent"  # the posts a person must act on, read by a loop of their own
URGENT = tuple(sorted(URGENT_KINDS))


def urgent_consumer(front_end: str) -> str:
    """The urgent loop's name of ``front_end`` (``discord:urgent``)."""
    return front_end + URGENT_SUFFIX


async def notifier_health(posts: PostBook) -> list[LoopHealth]:
    """Each loop's lag and failures, front end by front end; none when no notifier ever ran
    on this database."""
    names = await posts.loop_names()
    loops: list[LoopHealth] = []
    for front_end in (name for name in names if not name.endswith(URGENT_SUFFIX)):
        normal = await posts.loop_health(front_end)
        if normal is None:
            continue
        loops.append(normal)
        urgent = await posts.loop_health(urgent_consumer(front_end), URGENT, normal.cursor)
        if urgent is not None:
            loops.append(urgent)
    return loops


async def with_notifier(posts: PostBook, overview: dict[str, Any]) -> dict[str, Any]:
    """``overview`` (``service.status()``) with the loops' health as ``notifier``, once the
    notifier ran here (``swarm status``, ``GET /api/v1/status``)."""
    loops = await notifier_health(posts)
    if loops:
        overview["notifier"] = [loop.to_json() for loop in loops]
    return overview
