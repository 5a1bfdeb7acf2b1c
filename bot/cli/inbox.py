"""``swarm inbox``, ``swarm approve`` and ``swarm reject``: what needs a person, answered in
place (``swarm reply`` answers a question: :mod:`bot.cli.questions`)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli.output import emit_json

if TYPE_CHECKING:
    from core.service.inbox import Need
    from core.service.swarm import SwarmService

WHAT_WIDTH = 60
INBOX_HELP = """\
Everything that waits for a person, oldest first, each with its reference:
  Q-3   a question of an agent        swarm reply Q-3 "answer"
  R-7   an agent's permission prompt  swarm approve R-7 (its first option) | swarm reject R-7
                                      (its last option) | swarm approve R-7 --option 2
  T-12  a gate of a workflow          swarm approve T-12 [--note ...] | swarm reject T-12
  P-3   a draft plan                  swarm approve P-3 (creates its tasks) | swarm reject P-3
  A-2   an open alert                 clears itself when its condition ends"""


def register(sub: Any) -> None:
    """Add ``inbox``, ``approve`` and ``reject``."""
    p = sub.add_parser(
        "inbox",
        help="what needs a person: questions, prompts, gates, plans, alerts",
        description=INBOX_HELP,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print the items as JSON")
    p.set_defaults(handler=cmd_inbox)
    for name, helptext, which in (
        ("approve", "approve a gate or a plan, or answer a prompt (see swarm inbox)", "first"),
        ("reject", "reject a gate or a plan, or answer a prompt 'no' (see swarm inbox)", "last"),
    ):
        p = sub.add_parser(name, help=helptext, description=INBOX_HELP)
        p.formatter_class = argparse.RawTextHelpFormatter
        p.add_argument("ref", metavar="REF", help="R-7 (prompt), T-12 (gate) or P-3 (plan)")
        p.add_argument(
            "--option",
            metavar="KEY",
            help=f"a prompt's option to choose (default: its {which} option)",
        )
        p.add_argument("--note", default="", help="why (kept with a gate's decision)")
        p.add_argument("--json", action="store_true", help="print what was done as JSON")
        p.set_defaults(
            handler=cmd_decide, decision=name, person_only="answering a prompt, gate or plan"
        )


async def cmd_inbox(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm inbox [--json]``."""
    found = await service.inbox()
    if args.json:
        emit_json([n.to_json() for n in found])
        return
    if not found:
        print("nothing needs you")
        return
    print(inbox_table(found, service.clock.now()))


def inbox_table(found: list[Need], now: float) -> str:
    """The queue as a table: reference, kind, age, who it concerns, what, how to answer."""
    from bot.cli.format import table
    from bot.cli.style import painter
    from core.text import shorten

    rows = [
        (
            n.ref,
            n.kind,
            ago(n.since, now),
            shorten(n.concerns, 40),
            shorten(" ".join(n.text.split()), WHAT_WIDTH),
            answers(n),
        )
        for n in found
    ]
    return table(("REF", "KIND", "WAITING", "CONCERNS", "WHAT", "ANSWER WITH"), rows, painter())


def answers(need: Need) -> str:
    """How to answer ``need`` from the command line."""
    if need.kind == "question":
        return f'swarm reply {need.ref} "..."'
    if need.kind == "prompt":
        first, last = need.options[0], need.options[-1]
        keys = "|".join(o.key for o in need.options)
        shown = f"approve = {first.key} {first.label}"
        if len(need.options) > 1:
            shown += f"; reject = {last.key} {last.label}"
        return f"{shown}; --option {keys}"
    if need.actions:
        return " | ".join(f"swarm {a} {need.ref}" for a in need.actions)
    return need.hint or "-"


def ago(ts: float, now: float) -> str:
    """``40 s``, ``5 min``, ``3 h``, ``2 d``."""
    whole = max(0, int(now - ts))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if whole >= 2 * size:
            return f"{whole // size} {unit}"
    return f"{whole} s"


async def cmd_decide(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm approve|reject REF [--option K] [--note TEXT] [--json]``."""
    call = service.inbox_approve if args.decision == "approve" else service.inbox_reject
    answered = await call(args.ref, args.actor, args.option, args.note)
    if args.json:
        emit_json(answered.to_json())
    else:
        print(answered.text)
