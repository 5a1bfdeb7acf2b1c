"""``swarm costs [--days N] [--json]`` (what the turns cost per agent, account, task and day),
``swarm costs reprice`` (the turns of unknown cost priced from the price table now) and
``swarm costs prices`` (the models that have a price, and from which table)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from bot.cli.format import table
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
    q = csub.add_parser(
        "prices",
        help="the models that have a price ($ per million tokens), swarm's and SWARM_PRICES'",
        description="Every model swarm can price a turn of, in dollars per million tokens, "
        "from swarm's own table and the file SWARM_PRICES names (its models over swarm's). A "
        "turn of a model not listed has an unknown cost (Claude Code's turns: the CLI's own "
        "figure); add it to your file to price it, then 'swarm costs reprice'.",
    )
    q.add_argument("--json", action="store_true", help="the table as JSON")
    q.set_defaults(handler=cmd_prices, no_service=True)


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


async def cmd_prices(_: object, args: argparse.Namespace) -> int:
    """``swarm costs prices``: the price table as turns are priced with it (a bad file: one
    line, exit 1)."""
    from core.costs import prices
    from core.errors import ConfigError

    user_file = args.configuration.core.prices_file
    try:
        found = prices.check(user_file)
    except ConfigError as exc:
        print(f"swarm: {exc}", file=sys.stderr)
        return 1
    own = dict(prices.own_table())
    rows = [
        (model, p, "swarm's" if own.get(model) == p and model in own else str(user_file))
        for model, p in sorted(found.items())
    ]
    if args.json:
        emit_json([{"model": m, "input": p.input, "output": p.output,
                    "cache_read": p.cache_read, "cache_write": p.cache_write, "from": where}
                   for m, p, where in rows])  # fmt: skip
        return 0
    print(table(("MODEL", "INPUT", "OUTPUT", "CACHE READ", "CACHE WRITE", "FROM"), [
        (m, _usd(p.input), _usd(p.output), _usd(p.cache_read),
         _usd(p.input if p.cache_write is None else p.cache_write), where)
        for m, p, where in rows
    ]))  # fmt: skip
    print("dollars per million tokens; a model not listed: its turns' cost is unknown")
    return 0


def _usd(value: float) -> str:
    return f"${value:g}"
