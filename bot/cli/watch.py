"""``swarm schedule``, ``swarm stats``, ``swarm export`` and ``swarm alerts``.

Light to import: APScheduler, Pillow and the stats code load only when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.cli.output import emit_json
from core.formats.text import shorten
from core.formats.timetext import local_text

if TYPE_CHECKING:
    from core.costs.ledger import Spent
    from core.service.swarm import SwarmService

SCHEDULE_HELP = """\
swarm schedule add (--agent A | --role R | --all) (--cron "0 9 * * 1-5" | --every 1h) TEXT
swarm schedule add --summary [--period 1d] (--cron "0 18 * * *" | --every 12h)
swarm schedule list [--json]
swarm schedule remove S-3

Cron expressions have 5 fields (minute hour day month weekday, 0 or 7 = Sunday) in local
time; --every takes seconds or 30m, 2h, 1d. Schedules run in the coordinator (swarm run)."""


COST_ROWS = 20  # rows of each cost table (--json: all)


def register(sub: Any) -> None:
    """Add ``schedule``, ``stats``, ``export`` and ``alerts``."""
    _schedule(sub)
    p = sub.add_parser("stats", help="tasks done, failure rate, median time to done per agent")
    p.add_argument("--period", default="7d", help="e.g. 12h, 7d, 2w (default 7d, at most 31d)")
    p.add_argument("--png", metavar="FILE", help="also write the chart as a PNG file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_stats)
    p = sub.add_parser(
        "export", help="write tasks, events, the agents' turns (cost) or budgets as CSV or JSON"
    )
    p.add_argument("--what", choices=("tasks", "events", "turns", "budgets"), default="tasks")
    p.add_argument("--format", dest="fmt", choices=("csv", "json"), default="csv")
    p.add_argument("--output", "-o", metavar="FILE", help="file to write (default: stdout)")
    p.set_defaults(handler=cmd_export)
    p = sub.add_parser(
        "alerts", help="open alerts: stalled or unreachable agents, panes with several dialogs"
    )
    p.add_argument("--all", action="store_true", help="cleared ones too (newest first)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_alerts)


def _schedule(sub: Any) -> None:
    p = sub.add_parser(
        "schedule",
        help="recurring prompts and summary posts",
        description=SCHEDULE_HELP,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    ssub = p.add_subparsers(dest="schedule_command", metavar="ACTION", required=True)
    q = ssub.add_parser("add", help="a prompt (to an agent, a role or all) or a summary")
    target = q.add_mutually_exclusive_group(required=True)
    target.add_argument("--agent", help="prompt one agent")
    target.add_argument("--role", help="prompt every agent of a role")
    target.add_argument("--all", action="store_true", help="prompt every agent")
    target.add_argument("--summary", action="store_true", help="post a summary to the channel")
    when = q.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR", help='e.g. "0 18 * * *" (local time)')
    when.add_argument("--every", metavar="INTERVAL", help="seconds, or 30m, 2h, 1d")
    q.add_argument("--period", help="summary: the period it covers (default 1d)")
    q.add_argument("text", nargs="?", default="", help="the prompt (quote it)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_schedule_add)
    q = ssub.add_parser("list", help="every schedule with its next run")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_schedule_list)
    q = ssub.add_parser("remove", help="stop a schedule")
    q.add_argument("id", help="e.g. S-3")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_schedule_remove)


def _target(args: argparse.Namespace) -> str | None:
    if args.summary:
        return None
    if args.agent:
        return f"agent:{args.agent}"
    return f"role:{args.role}" if args.role else "all"


async def cmd_schedule_add(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm schedule add``."""
    from core.errors import InvalidInput
    from core.schedules.recurring import ScheduleSpec, add_schedule
    from core.schedules.timing import parse_every

    if args.summary and args.text:
        raise InvalidInput("a summary schedule takes no text (use --period for its span)")
    if args.period and not args.summary:
        raise InvalidInput("--period is for --summary schedules")
    spec = ScheduleSpec(
        "summary" if args.summary else "prompt",
        _target(args),
        args.text,
        args.cron,
        parse_every(args.every) if args.every else None,
        args.period,
    )
    schedule = await add_schedule(service, spec, args.actor)
    if args.json:
        emit_json(schedule.to_json())
    else:
        print(
            f"{schedule.ref}: {schedule.what}, {schedule.when} "
            f"(next {_local(schedule.next_run_at)})"
        )


async def cmd_schedule_list(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm schedule list``."""
    from bot.cli.format import table
    from bot.cli.style import painter
    from core.schedules.recurring import list_schedules

    found = await list_schedules(service)
    if args.json:
        emit_json([s.to_json() for s in found])
        return
    if not found:
        print("no schedules")
        return
    print(
        table(
            ("ID", "WHAT", "WHEN", "NEXT", "LAST", "RUNS", "TEXT"),
            [
                (
                    s.ref,
                    s.what,
                    s.when,
                    _local(s.next_run_at) if s.enabled else "off",
                    _local(s.last_run_at),
                    s.runs,
                    shorten(s.text or "-", 40),
                )
                for s in found
            ],
            painter(),
        )
    )


async def cmd_schedule_remove(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm schedule remove S-3``."""
    from core.schedules.recurring import remove_schedule

    schedule = await remove_schedule(service, args.id, args.actor)
    if args.json:
        emit_json(schedule.to_json())
        return
    print(f"{schedule.ref} removed ({schedule.what}, {schedule.when})")


async def cmd_stats(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm stats``."""
    from core.reports import stats

    found = await service.reports.stats(args.period)
    spend = await service.costs.spend(found.since)
    if args.png:
        _write(args.png, stats.render_png(found))
    if args.json:
        emit_json({**found.to_json(), "cost": cost_json(spend)})
    else:
        print(stats.render_table(found))
        print(cost_tables(spend))
        if args.png:
            print(f"chart written to {args.png}")


def cost_json(spend: dict[str, list[Spent]]) -> dict[str, list[dict[str, Any]]]:
    """``swarm stats --json``'s ``cost``: the sums ``by_task``, ``by_agent``, ``by_account``,
    ``by_cli``, ``by_model``, ``by_day``, ``by_campaign``."""
    from core.costs.ledger import spend_json

    return spend_json(spend)


def cost_tables(spend: dict[str, list[Spent]]) -> str:
    """What the period's turns cost, one table per dimension (the most spent first); a turn
    of unknown cost is counted as such."""
    from bot.cli.format import table

    if not any(spend.values()):
        return "\nCost: no turn recorded in the period"
    parts = []
    for dimension, rows in spend.items():
        body = [
            (s.key, s.turns, *map(s.count_text, (s.input, s.output, s.cache_read, s.cache_write)),
             s.cost_text())
            for s in rows[:COST_ROWS]
        ]  # fmt: skip
        head = (dimension.upper(), "TURNS", "IN", "OUT", "CACHE READ", "CACHE WRITE", "COST")
        more = (
            f"\n({len(rows) - COST_ROWS} more: --json lists all)" if len(rows) > COST_ROWS else ""
        )
        parts.append(f"\nCost by {dimension}:\n{table(head, body)}{more}")
    if any(s.no_usage for rows in spend.values() for s in rows):
        parts.append("(N+: more, in turns whose usage is not known)")
    return "\n".join(parts)


async def cmd_export(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm export``: streamed, so big tables need little memory."""
    if not args.output:
        async for piece in service.reports.export(args.what, args.fmt):
            sys.stdout.write(piece)
        return
    with _open_text(args.output) as out:
        async for piece in service.reports.export(args.what, args.fmt):
            out.write(piece)
    print(f"{args.what} written to {args.output} ({args.fmt})", file=sys.stderr)


async def cmd_alerts(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm alerts``."""
    from bot.cli.format import table
    from bot.cli.style import painter

    found = await service.signals.alerts(args.all, 200)
    if args.json:
        emit_json([a.to_json() for a in found])
        return
    if not found:
        print("no open alerts" if not args.all else "no alerts")
        return
    print(
        table(
            ("ID", "AGENT", "KIND", "OPENED", "CLEARED", "TEXT"),
            [
                (
                    a.id,
                    a.agent,
                    a.kind,
                    _local(a.opened_at),
                    _local(a.cleared_at),
                    shorten(a.text, 60),
                )
                for a in found
            ],
            painter(),
            coloured=(2,),
        )
    )


def _write(path: str, data: bytes) -> None:
    Path(path).write_bytes(data)


def _open_text(path: str) -> TextIO:
    return Path(path).open("w", encoding="utf-8", newline="")


def _local(ts: float | None) -> str:
    return local_text(ts, "%Y-%m-%d %H:%M") if ts else "-"
