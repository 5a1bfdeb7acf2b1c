"""``swarm inbox``, ``swarm approve`` and ``swarm reject``: what needs a person, answered in
place (``swarm reply`` answers a question: :mod:`bot.cli.questions`)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli.args import door_agent, only_reads
from bot.cli.output import emit_json
from core.errors import InvalidInput

if TYPE_CHECKING:
    from core.inbox.needs import Need
    from core.service.swarm import SwarmService

WHAT_WIDTH = 60
WHAT_CUT = " …[cut]… "  # between the head and the tail of a long text, in the table
INBOX_HELP = """\
Everything that waits for a person, oldest first, each with its reference:
  Q-3   a question of an agent        swarm reply Q-3 "answer"
  R-7   an agent's permission prompt  swarm approve R-7 (its first option) | swarm reject R-7
                                      (its last option) | swarm approve R-7 --option 2
  T-12  a gate of a workflow          swarm approve T-12 [--note ...] | swarm reject T-12
  P-3   a draft plan                  swarm approve P-3 (creates its tasks) | swarm reject P-3
  H-4   held from outside (an         swarm approve H-4 (it reaches the agent) | swarm reject H-4
        outsider's GitHub review...)  (dropped)
  A-2   an open alert                 clears itself when its condition ends; a stalled
                                      agent's: swarm inbox handon|nudge|cancel A-2,
                                      swarm inbox reassign A-2 AGENT
  D-5   a delivery failed for good    swarm inbox retry D-5 | swarm inbox dismiss D-5
  T-3   a task held by a limited      swarm inbox handon|nudge|cancel T-3,
        agent, or no agent can take   swarm inbox reassign T-3 AGENT (a stranded task:
                                      reassign or cancel)
  A-4   a host an agent's proxy       swarm inbox allow A-4 (into its sandbox_allow) |
        refused, the first time       swarm inbox deny A-4
  B-2   a budget spent                a task's or a campaign's: swarm inbox raise B-2
                                      DOLLARS | swarm inbox cancel B-2; a daily one:
                                      the agents file
A long text shows its head and its tail; swarm inbox show REF prints it whole."""
ACTIONS = {  # swarm inbox ACTION REF (core/inbox/actions.py)
    "retry": "send a failed delivery again (D-5)",
    "dismiss": "let a failed delivery go (D-5)",
    "handon": "take the task of a stalled or limited agent back for another agent",
    "reassign": "give the task of a stalled or limited agent, or a stranded task, to AGENT",
    "nudge": "remind a stalled or limited agent to report on its task",
    "cancel": "cancel the task of a stalled or limited agent, a stranded task, or what a "
    "spent budget covers (B-2: its task, or its campaign)",
    "raise": "raise a task's or a campaign's spent budget (B-2) to DOLLARS",
    "accept": "accept the task of an agent that ended its turn without reporting as done",
    "fail": "fail the task of an agent that ended its turn without reporting",
    "allow": "allow a host an agent's egress proxy refused (A-4): written into its "
    "sandbox_allow, its gateway reads it",
    "deny": "leave a host an agent's egress proxy refused refused (A-4): later refusals "
    "are events only",
}


ARGUMENTS = {"reassign": " AGENT", "raise": " DOLLARS"}  # what an action takes after REF


def register(sub: Any) -> None:
    """Add ``inbox``, ``approve`` and ``reject``."""
    p = sub.add_parser(
        "inbox",
        help="what needs a person: questions, prompts, gates, plans, held items, alerts",
        description=INBOX_HELP,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print the items as JSON")
    p.set_defaults(handler=cmd_inbox)
    subs = p.add_subparsers(dest="inbox_command", metavar="{show," + ",".join(ACTIONS) + "}")
    q = subs.add_parser(
        "show", help="one item with its whole text (a prompt: also once decided or closed)"
    )
    q.add_argument("ref", metavar="REF", help="Q-3, R-7, T-12, P-3, H-4, A-2, D-5, L-1 or B-2")
    q.add_argument("--json", action="store_true", help="print the item as JSON")
    q.set_defaults(handler=cmd_inbox_show)
    for action, helptext in ACTIONS.items():
        q = subs.add_parser(action, help=helptext)
        q.add_argument("ref", metavar="REF")
        if action == "reassign":
            q.add_argument("agent", metavar="AGENT", help="the agent to give it to")
        if action == "raise":
            q.add_argument(
                "dollars", metavar="DOLLARS", type=float, help="the new budget, above the spend"
            )
        q.add_argument("--json", action="store_true", help="print what was done as JSON")
        q.set_defaults(handler=cmd_act, action=action, person_only=f"{action} of an item")
    for name, helptext, which in (
        ("approve", "approve a gate, a plan or a held item, or answer a prompt", "first"),
        ("reject", "reject a gate, a plan or a held item, or answer a prompt 'no'", "last"),
    ):
        p = sub.add_parser(name, help=helptext, description=INBOX_HELP)
        p.formatter_class = argparse.RawTextHelpFormatter
        p.add_argument(
            "ref", metavar="REF", help="R-7 (prompt), T-12 (gate), P-3 (plan) or H-4 (held)"
        )
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


@only_reads
async def cmd_inbox(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm inbox [--json]`` (through a sandbox's door: its agent's own items only)."""
    found = await service.inbox.needs()
    mine = door_agent(args)
    if mine is not None:
        found = [n for n in found if (n.agent or "").lower() == mine.lower()]
    if args.json:
        emit_json([n.to_json() for n in found])
        return
    if not found:
        print("nothing needs you")
        return
    print(inbox_table(found, service.clock.now()))


@only_reads
async def cmd_inbox_show(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm inbox show REF [--json]``: the item's whole text, then how to answer it."""
    need = await service.inbox.item(args.ref)
    mine = door_agent(args)
    if mine is not None and (need.agent or "").lower() != mine.lower():
        raise InvalidInput(f"{args.ref} is not {mine}'s: its door shows its own items only")
    if args.json:
        emit_json(need.to_json())
        return
    from core.formats.text import MULTI_LINE, escape_controls

    since = ago(need.since, service.clock.now())
    print(f"{need.ref} · {need.kind} · {escape_controls(need.concerns)} · since {since} ago")
    print(escape_controls(need.text, keep=MULTI_LINE))  # an agent's text never moves the cursor
    print(need.hint if need.kind == "prompt" and need.hint else answers(need))


def inbox_table(found: list[Need], now: float) -> str:
    """The queue as a table: reference, kind, age, who it concerns, what, how to answer."""
    from bot.cli.format import table
    from bot.cli.style import painter
    from core.formats.text import head_tail, shorten

    rows = [
        (
            n.ref,
            n.kind,
            ago(n.since, now),
            shorten(n.concerns, 40),
            head_tail(" ".join(n.text.split()), WHAT_WIDTH, mark=WHAT_CUT),
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
        from core.dialogs.permissions import choice
        from core.models import ALLOW_ALWAYS, ALLOW_ONCE, REJECT_ALWAYS, REJECT_ONCE

        allow = choice(need.options, (ALLOW_ONCE, ALLOW_ALWAYS))
        deny = choice(need.options, (REJECT_ONCE, REJECT_ALWAYS))
        shown = [f"{word} = {o.key} {o.label}" for word, o in (("approve", allow),
                 ("reject", deny)) if o is not None]  # fmt: skip
        keys = "|".join(o.key for o in need.options)
        return "; ".join([*shown, f"--option {keys}"])
    if need.actions:
        return " | ".join(
            f"swarm inbox {a} {need.ref}{ARGUMENTS.get(a, '')}"
            if a in ACTIONS
            else f"swarm {a} {need.ref}"
            for a in need.actions
        )
    return need.hint or "-"


def ago(ts: float, now: float) -> str:
    """``40 s``, ``5 min``, ``3 h``, ``2 d``."""
    whole = max(0, int(now - ts))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if whole >= 2 * size:
            return f"{whole // size} {unit}"
    return f"{whole} s"


async def cmd_act(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm inbox retry|dismiss|handon|nudge|cancel|allow|deny REF``, ``reassign REF
    AGENT`` or ``raise REF DOLLARS``."""
    agent, dollars = getattr(args, "agent", None), getattr(args, "dollars", None)
    answered = await service.inbox.act(args.ref, args.action, args.actor, agent, dollars)
    if answered.action == "allow":  # its running gateway reads it now (else swarm run's watch)
        from automation.launch.sandbox import sync_allow

        detail = answered.detail
        sync_allow(service.settings.home, str(detail["agent"]), list(detail["allow"]))
    if args.json:
        emit_json(answered.to_json())
    else:
        print(answered.text)


async def cmd_decide(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm approve|reject REF [--option K] [--note TEXT] [--json]``."""
    call = service.inbox.approve if args.decision == "approve" else service.inbox.reject
    answered = await call(args.ref, args.actor, args.option, args.note)
    if args.json:
        emit_json(answered.to_json())
    else:
        print(answered.text)
