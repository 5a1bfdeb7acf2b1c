"""``swarm agents mcp install [--agent A] [--remove]``: swarm's MCP server in each agent's
workspace, for Claude Code, Cursor, Codex CLI, Gemini CLI and opencode. The launch package
(sandbox, gateway) is imported by the command alone: ``swarm agents stop`` and the rest of
the group start without it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli.agent_hooks import reach, workspaces_of

if TYPE_CHECKING:
    from core.clis.mcp_files import Server
    from core.service.swarm import SwarmService
    from core.settings import Settings


def register_agents(asub: Any) -> None:
    """Add ``agents mcp install``."""
    p = asub.add_parser("mcp", help="swarm's MCP server in each agent's workspace")
    msub = p.add_subparsers(dest="mcp_command", metavar="ACTION", required=True)
    q = msub.add_parser(
        "install",
        help="write swarm's MCP server into each agent's workspace (Claude Code's .mcp.json, "
        "Cursor's .cursor/mcp.json, Codex CLI's .codex/config.toml, Gemini CLI's "
        ".gemini/settings.json, opencode's opencode.json; only its CLI's file for an agent "
        "whose cli is known), keeping the user's own",
    )
    q.add_argument("--agent", help="only this agent (default: every agent with a workspace)")
    q.add_argument(
        "--remove", action="store_true", help="take swarm's MCP server out again (only ours)"
    )
    q.set_defaults(handler=cmd_mcp_install)


async def cmd_mcp_install(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm agents mcp install [--agent A] [--remove]``."""
    from automation.launch import MCP_SAID as SAID
    from core.agents import workspace_files
    from core.clis import CLIS

    home = service.settings.home
    untold = []
    found = workspaces_of(service, args)
    for name, folders in found:
        cli = service.agents[name].cli
        if not args.remove and not workspace_files.mcp_files(cli):
            print(f"{name}: {cli} reads no MCP server: nothing to do")
            continue
        for folder in folders:
            if args.remove:
                changes = workspace_files.remove_mcp(home, folder)
            else:
                fenced = service.agents[name].sandbox is not None
                serve = server(service.settings, args, name, fenced)
                changes = workspace_files.install_mcp(home, folder, cli, serve)
            for change in changes:
                print(f"{name}: {change.path}: {SAID[change.what]}")
        if not args.remove and not service.agents[name].mcp:
            untold.append(name)
    if not args.remove and found:
        print(". ".join(c.mcp.note for c in CLIS if c.mcp is not None and c.mcp.note))
    if untold:
        print(
            f"{', '.join(untold)}: add mcp = true to their agents-file entries so that their "
            "prompts name the MCP tools instead of the shell commands"
        )


def server(
    settings: Settings, args: argparse.Namespace, agent: str, sandboxed: bool = False
) -> Server:
    """``swarm mcp`` as ``agent`` on this SWARM_HOME and agents file (a ``sandboxed``
    agent's door's): ``automation.launch._hooks.mcp_server``."""
    from automation.launch import mcp_server

    return mcp_server(reach(settings, args), agent, sandboxed)
