"""``swarm costs [--days N] [--json]`` (what the turns cost per agent, account, task and day)
and ``swarm costs reprice`` (the turns of unknown cost priced from the price table now)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli.output import emit_json
from core.errors import InvalidInput

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

SHOWN = ("agent", "account", "task", "day")  # the sums printed (--json gives every one)
MAX_DAYS = 3660


def register(sub: Any) -> None:
    """Add the ``costs`` group."""
    p = sub.add_parser(
        "costs",
        help="what the agents' turns cost per agent, account, task and day; reprice",
        description="The turns' cost per agent, account, task and UTC day (a turn of unknown "
        "cost counted as such, never as $0). 'swarm costs reprice' prices the turns recorded "
        "with no price for their model, once the price table or SWARM_PRICES has one.",
    )
    p.add_argument("--days", type=int, metavar="N", help="only the last N days (default: all)")
    p.add_argument("--json", action="store_true", help="every sum as JSON (by_agent, ...)")
    p.set_defaults(handler=cmd_costs)
    csub = p.add_subparsers(dest="costs_command", metavar="ACTION")
    q = csub.add_parser("reprice", help="price the turns of unknown cost whose model has a price")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_reprice)


async def cmd_costs(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm costs``."""
    from bot.cli.watch import cost_tables
    from core.costs.ledger import spend_json, total

    if args.days is not None and not 0 < args.days <= MAX_DAYS:
        raise InvalidInput(f"--days must be from 1 to {MAX_DAYS}, not {args.days}")
    since = None if args.days is None else service.clock.now() - args.days * 86_400.0
    spend = await service.costs.spend(since)
    if args.json:
        every = total(spend["agent"]).to_json()
        emit_json({"since": since, "total": {**every, "cost_usd": _known(every)},
                   **spend_json(spend)})  # fmt: skip
        return
    shown = {dimension: spend[dimension] for dimension in SHOWN}
    if spend["agent"]:
        print(f"All turns: {total(spend['agent']).cost_text()}")
    print(cost_tables(shown).lstrip("\n"))


def _known(row: dict[str, Any]) -> float | None:
    """The dollars, or None when no turn's cost is known (never 0 for unknown)."""
    unknown_only = row["turns"] and row["unknown_cost_turns"] == row["turns"]
    return None if unknown_only else row["cost_usd"]


async def cmd_reprice(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm costs reprice``."""
    priced = await service.costs.reprice(args.actor)
    if args.json:
        emit_json({"priced": priced})
        return
    print(f"{priced} turn(s) priced" if priced else "no turn of unknown cost has a price now")
