"""``swarm gc``: archive and delete old history and leftover files."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli.args import count_arg, json_option
from bot.cli.output import emit_json

if TYPE_CHECKING:
    from core.service.swarm import SwarmService


def register(sub: Any) -> None:
    """Add ``gc``."""
    p = sub.add_parser("gc", help="archive and delete old history and leftover files")
    p.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    p.add_argument(
        "--keep-days",
        type=count_arg(36_500),
        metavar="DAYS",
        help="keep this many days (default $SWARM_KEEP_DAYS or 90)",
    )
    json_option(p)
    p.set_defaults(handler=cmd_gc)


async def cmd_gc(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm gc [--dry-run]``."""
    from core.coordinator.retention import collect_garbage

    report = await collect_garbage(service, days=args.keep_days, dry_run=args.dry_run)
    if args.json:
        emit_json(
            {
                **vars(report),
                "archive": str(report.archive) if report.archive else None,
                "dry_run": args.dry_run,
            }
        )
    else:
        print(report.summary(args.dry_run))
