"""``swarm agents``: list agents, pause or resume one; :mod:`bot.cli.desktop` and
:mod:`bot.cli.workspaces` add their agent actions."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli import agent_hooks, agent_mcp, desktop, workspaces
from bot.cli import format as fmt
from bot.cli.args import only_reads
from bot.cli.output import emit_json
from bot.cli.style import painter

if TYPE_CHECKING:
    from core.service.swarm import SwarmService


def register(sub: Any) -> None:
    """Add ``agents`` and its actions (the desktop's and the workspaces' too)."""
    p = sub.add_parser("agents", help="list agents; pause, resume, check or calibrate them")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_agents)
    asub = p.add_subparsers(dest="agents_command", metavar="ACTION")
    for name, paused in (("pause", True), ("resume", False)):
        what = "no new tasks" if paused else "take tasks again"
        q = asub.add_parser(name, help=f"{name} one agent ({what})")
        q.add_argument("agent")
        q.set_defaults(handler=cmd_agent_pause, paused=paused)
        if not paused:  # anyone may stop an agent; only a person undoes it
            q.set_defaults(person_only="resuming a paused agent")
    desktop.register(asub)
    workspaces.register_agents(asub)
    agent_hooks.register_agents(asub)
    agent_mcp.register_agents(asub)


@only_reads
async def cmd_agents(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm agents``."""
    rows = await service.agent_rows()
    emit_json(rows) if args.json else print(fmt.agents_table(rows, painter()))


async def cmd_agent_pause(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm agents pause|resume A``."""
    changed = await service.set_agent_paused(args.agent, args.paused, args.actor)
    word = "paused" if args.paused else "resumed"
    agent = service.ctx(args.actor).agent(args.agent).id
    print(f"{agent} {word}" if changed else f"{agent} was already {word}")
