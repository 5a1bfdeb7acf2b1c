"""``swarm status`` and ``swarm events``: the overview, and what happened."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from bot.cli import format as fmt
from bot.cli.args import LIMIT_MAX, count_arg, only_reads
from bot.cli.output import emit_json, json_line
from bot.cli.style import painter
from core.coordinator import db_lock
from core.coordinator.home_lock import last_heartbeat
from core.formats.jsonshape import iso_utc
from core.models import Event
from core.posts.health import with_notifier

if TYPE_CHECKING:
    from core.service.swarm import SwarmService


def register(sub: Any) -> None:
    """Add ``status`` and ``events``."""
    p = sub.add_parser("status", help="overview of tasks, deliveries and agents")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_status)
    p = sub.add_parser("events", help="what happened, oldest first")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    p.add_argument(
        "--limit", type=count_arg(LIMIT_MAX), default=50, help="how many recent events (default 50)"
    )
    p.add_argument("--task", help="only events of this task")
    p.add_argument("--since", metavar="AGE", help="only the last AGE: 90, 20s, 30m, 2h, 7d")
    p.add_argument(
        "--kind",
        action="extend",
        nargs="+",
        type=_kinds,
        metavar="KIND",
        help="only these kinds (task.done) or families (task): --kind task message, or a,b",
    )
    p.add_argument("--grep", metavar="TEXT", help="only events whose text contains TEXT")
    p.add_argument(
        "--json", action="store_true", help="a JSON array (with --follow: one JSON object per line)"
    )
    p.set_defaults(handler=cmd_events)


@only_reads
async def cmd_status(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm status``."""
    overview = await service.status()
    running = await db_lock.running(service)  # PostgreSQL: the scheduler lock's, any machine
    overview["coordinator"] = (
        None
        if running is None
        else {
            "pid": running[0],
            "since": iso_utc(running[1]),
            "heartbeat": _heartbeat(service, running[0]),
        }
    )
    await with_notifier(service.posts, overview)  # each front end's notifier loops: lag, failures
    emit_json(overview) if args.json else print(fmt.status_text(overview, painter()))
    if overview.get("nodes") and not args.json:
        from bot.cli import node

        print(node.nodes_text(overview["nodes"], service.clock.now()))


def _heartbeat(service: SwarmService, pid: int) -> str | None:
    """When the local coordinator ``pid``'s loop last beat (ISO-8601 UTC), if known here."""
    beat = last_heartbeat(service.settings.home, pid)
    return None if beat is None else iso_utc(beat)


@only_reads
async def cmd_events(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm events [--since D] [--kind K] [--grep T] [--task T] [--follow]``."""
    from core.history.events import EventFilter
    from core.models import parse_task_ref
    from core.schedules.timing import parse_every

    since = service.clock.now() - parse_every(args.since) if args.since else None
    flt = EventFilter(
        since=since,
        kinds=tuple(kind for given in args.kind or () for kind in given),
        grep=args.grep or "",
        task_id=parse_task_ref(args.task) if args.task else None,
    )
    latest = await service.history.last(1)  # --follow starts after it, whatever matched
    shown = await service.history.find(flt, limit=args.limit, newest=True) if args.limit else []
    last_id = latest[-1].id if latest else 0  # the last in commit order, not the highest id
    if args.json and not args.follow:
        emit_json([e.to_json() for e in shown])
        return
    for event in shown:
        print(_event_out(event, args.json))
    if not args.json and shown and len(shown) == args.limit:
        total = await service.history.count(flt)
        if total > len(shown):
            print(f"{len(shown):,} of {total:,} (--limit N)")
    while args.follow:
        await asyncio.sleep(0.5)
        for event in await service.history.find(flt, after_id=last_id, limit=500):
            last_id = event.id
            print(_event_out(event, args.json), flush=True)


def _event_out(event: Event, as_json: bool) -> str:
    return json_line(event.to_json()) if as_json else fmt.event_line(event)


def _kinds(text: str) -> list[str]:
    """One ``--kind`` word: a kind, a family, or several split by commas (as the dashboard)."""
    return [kind for kind in text.replace(",", " ").split() if kind]
