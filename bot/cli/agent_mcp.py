"""``swarm agents mcp install [--agent A] [--remove]``: swarm's MCP server in each agent's
workspace, for Claude Code, Cursor, Codex CLI, Gemini CLI and opencode."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from bot.cli.agent_hooks import env_pairs, workspaces_of

if TYPE_CHECKING:
    from core.agents.mcp_files import Server
    from core.service.swarm import SwarmService
    from core.settings import Settings

CODEX_NOTE = (
    "Codex CLI reads .codex/config.toml of a trusted project; where it does not, put the same "
    "[mcp_servers.swarm] table in ~/.codex/config.toml. Gemini CLI reads .gemini/settings.json "
    "in a trusted folder only (its trust dialog, or gemini trust)"
)
SAID = {  # what happened to one file, in words
    "added": "MCP server added",
    "already installed": "already installed",
    "removed": "swarm's MCP server removed",
    "restored": "restored as it was before install",
    "not installed": "no swarm MCP server",
    "kept": "kept your own server named swarm: not changed",
}


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
    from core.agents import mcp_files as agent_mcp

    home = service.settings.home
    untold = []
    found = workspaces_of(service, args)
    for name, folders in found:
        kind = mcp_kind(service.agents[name].cli)
        if not args.remove and kind is None:
            print(f"{name}: {service.agents[name].cli} reads no MCP server: nothing to do")
            continue
        for folder in folders:
            if args.remove:
                changes = agent_mcp.remove(home, folder)
            else:
                serve = server(service.settings, args, name)
                changes = agent_mcp.install(home, folder, serve, kind or agent_mcp.EVERY)
            for change in changes:
                print(f"{name}: {change.path}: {SAID[change.what]}")
        if not args.remove and not service.agents[name].mcp:
            untold.append(name)
    if not args.remove and found:
        print(CODEX_NOTE)
    if untold:
        print(
            f"{', '.join(untold)}: add mcp = true to their agents-file entries so that their "
            "prompts name the MCP tools instead of the shell commands"
        )


def mcp_kind(cli: str | None) -> str | None:
    """Which MCP file an agent of ``cli`` reads (its AgentCli's ``mcp``): ``EVERY`` when its
    CLI is not known (every CLI's file), None when its CLI reads none (Aider)."""
    from core.agents.mcp_files import EVERY
    from core.clis import by_name

    known = by_name(cli)
    return EVERY if known is None else known.mcp


def server(settings: Settings, args: argparse.Namespace, agent: str) -> Server:
    """``swarm mcp`` as this installation's Python runs it (by absolute path: an agent's
    PATH may lack swarm), as ``agent``, on this SWARM_HOME and agents file."""
    from core.agents.mcp_files import Server

    env: dict[str, str] = dict(pair.split("=", 1) for pair in env_pairs(settings, args))
    return Server(sys.executable, ("-m", "bot.cli", "mcp"), {"SWARM_AGENT": agent, **env})
