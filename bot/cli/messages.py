"""``swarm send`` and ``swarm broadcast``: messages into the agents' chat windows."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from bot.cli.args import json_option
from bot.cli.output import emit_json
from core.coordinator.home_lock import running_coordinator

if TYPE_CHECKING:
    from core.service.swarm import SwarmService


def register(sub: Any) -> None:
    """Add ``send`` and ``broadcast``."""
    p = sub.add_parser("send", help="message one agent")
    p.add_argument("agent", help="agent id, e.g. Agent-3")
    p.add_argument("text", help="the message (quote it)")
    json_option(p)
    p.set_defaults(handler=cmd_send)
    p = sub.add_parser("broadcast", help="message every agent (or one role)")
    p.add_argument("text")
    p.add_argument("--role", help="only agents with this role")
    json_option(p)
    p.set_defaults(handler=cmd_broadcast)


async def cmd_send(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm send AGENT TEXT``."""
    message_id = await service.messages.send(args.agent, args.text, args.actor)
    agent = service.ctx(args.actor).agent(args.agent).id
    if args.json:
        emit_json({"message": message_id, "agents": [agent]})
    else:
        print(f"message {message_id} queued for {agent}")
    if running_coordinator(service.settings.home) is None:
        print(
            "swarm: warning: no coordinator is running for this SWARM_HOME "
            f"({service.settings.home}): the message waits until 'swarm run' starts",
            file=sys.stderr,
        )


async def cmd_broadcast(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm broadcast TEXT [--role R]``."""
    message_id = await service.messages.broadcast(args.text, args.actor, args.role)
    agents = [d.agent for d in await service.messages.deliveries(message_id)]
    if args.json:
        emit_json({"message": message_id, "agents": agents})
    else:
        print(f"message {message_id} queued for {len(agents)} agent(s)")
