"""``swarm web``: the dashboard on its own, and ``swarm web token create|list|revoke``.

Light at import (the parser imports it for every command): FastAPI and uvicorn load only
when the dashboard starts.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Any

from bot.cli.args import count_arg
from bot.cli.output import emit_json
from bot.cli.trust import os_user

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

ROLES = ("admin", "viewer")


def register(sub: Any) -> None:
    """Add ``web`` and its ``token`` group."""
    p = sub.add_parser(
        "web", help="the dashboard and REST API on their own (swarm run serves them too)"
    )
    p.add_argument("--host", help="address to listen on (default $SWARM_WEB_HOST or 127.0.0.1)")
    p.add_argument("--port", type=count_arg(65535), help="port (default $SWARM_WEB_PORT or 8765)")
    p.set_defaults(handler=cmd_web)
    wsub = p.add_subparsers(dest="web_command", metavar="COMMAND")
    token = wsub.add_parser("token", help="bearer tokens of the dashboard and the API")
    tsub = token.add_subparsers(dest="token_command", metavar="COMMAND", required=True)
    t = tsub.add_parser("create", help="make a token; it is printed once, only its hash kept")
    t.add_argument("--role", choices=ROLES, help="viewer: read; admin: also act")
    t.add_argument(
        "--agent",
        metavar="A",
        help="an agent's token instead: it opens only the MCP endpoint /mcp, acting as agent A "
        "(or SWARM_MCP_TOKEN for swarm mcp)",
    )
    t.add_argument(
        "--name", default="", help="who or what uses it, kept in the audit (default: the role)"
    )
    t.add_argument(
        "--expires",
        type=_days,
        metavar="DAYS",
        help="stop working after DAYS days, 1-3650 (default: never)",
    )
    t.set_defaults(handler=cmd_token_create, person_only="creating a credential")
    t = tsub.add_parser("list", help="every token (never the token itself)")
    t.add_argument("--json", action="store_true")
    t.set_defaults(handler=cmd_token_list)
    t = tsub.add_parser("revoke", help="stop a token from working")
    t.add_argument("id", type=count_arg(2**62), help="the token's id (see swarm web token list)")
    t.set_defaults(handler=cmd_token_revoke, person_only="revoking a credential")


def _days(raw: str) -> int:
    """``--expires``: a whole number of days from 1 to 3650 (0 would never expire)."""
    days = count_arg(3650)(raw)
    if days < 1:
        raise argparse.ArgumentTypeError(f"expected a number of days from 1 to 3,650, got {raw!r}")
    return days


async def cmd_web(service: SwarmService, args: argparse.Namespace) -> int:
    """``swarm web``: serve until SIGINT/SIGTERM."""
    import dataclasses

    from bot.app import stop_on_signals
    from bot.web.server import running
    from core.logs.setup import log_progress

    settings = args.configuration.web
    settings = dataclasses.replace(
        settings,
        host=args.host or settings.host,
        port=settings.port if args.port is None else args.port,
        enabled=True,
    )
    log_progress()
    stop = asyncio.Event()
    with stop_on_signals(stop):
        async with running(service, settings) as server:
            assert server is not None
            print(
                f"dashboard on http://{settings.host}:{server.port}/ (Ctrl+C stops it)", flush=True
            )
            await stop.wait()
    return 0


async def cmd_token_create(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm web token create``: print the token once."""
    from core.access import Role, check_name, new_token
    from core.errors import InvalidInput

    if (args.role is None) == (args.agent is None):
        raise InvalidInput(
            "give either --role admin|viewer (the dashboard) or --agent A (its MCP tools)"
        )
    agent = service.ctx(args.actor).agent(args.agent).id if args.agent else None
    role = Role.agent if agent else Role(args.role)
    name = check_name(args.name or agent or args.role)
    token = new_token()
    token_id = await service.tokens.create(
        token,
        name,
        role,
        expires_in_s=args.expires * 86400 if args.expires is not None else None,
        agent=agent,
        by=args.actor,  # the event and audit row of the creation
        user=os_user(),
    )
    print(token)
    what = f"{agent}'s MCP token" if agent else role.value
    print(
        f"token {token_id} ({what}, {name!r}): shown once, only its hash is kept", file=sys.stderr
    )


async def cmd_token_list(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm web token list``."""
    from bot.cli import format as fmt

    rows = await service.tokens.rows()
    if args.json:
        emit_json(rows)
        return
    if not rows:
        print("no web tokens (swarm web token create --role admin)")
    for row in rows:
        when = row["revoked_at"] if row["state"] == "revoked" else row["expires_at"]
        word = {"revoked": "revoked", "expired": "expired"}.get(row["state"], "expires")
        state = "live" if when is None else f"{word} {fmt.iso_utc(when)}"
        role = f"{row['role']}:{row['agent']}" if row["agent"] else row["role"]
        print(
            f"{row['id']:>4}  {role:<6}  {row['name']:<20}  "
            f"created {fmt.iso_utc(row['created_at'])}  {state}"
        )


async def cmd_token_revoke(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm web token revoke ID``."""

    await service.tokens.revoke(args.id, by=args.actor, user=os_user())
    print(f"token {args.id} revoked")
