"""``swarm mcp``: swarm's MCP server on stdin/stdout, as an agent CLI launches it."""

from __future__ import annotations

import argparse
from typing import Any

from core.errors import ConfigError

HELP = """\
swarm's MCP server over stdio, for an agent CLI (Claude Code, Codex CLI, Cursor) to launch:
tools my_task, report, ask_human, message, handoff_note. Who calls it comes from the
environment, never from a tool argument: SWARM_AGENT=Agent-3 (checked against the agents
file) or SWARM_MCP_TOKEN (an agent's token: swarm web token create --agent Agent-3).
swarm agents mcp install writes the configuration into each agent's workspace.
The dashboard serves the same tools over HTTP at /mcp (bearer: an agent's token).
"""


def register(sub: Any) -> None:
    """Add ``mcp``."""
    p = sub.add_parser(
        "mcp",
        help="swarm's MCP server on stdio (the agent's tools: task, reports, questions)",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=cmd_mcp, no_service=True)


async def cmd_mcp(_: Any, args: argparse.Namespace) -> None:
    """``swarm mcp``: serve until the client closes stdin. The database is opened at the
    first tool call that needs it, so a database that cannot be opened is a one-line tool
    error and the server stays up."""
    try:
        from bot.mcp.server import serve_stdio
    except ImportError as exc:
        raise ConfigError(
            f"swarm mcp needs the mcp package ({exc}): pip install 'swarm[mcp]'"
        ) from None
    from bot.app import Builder
    from bot.mcp.identity import StdioBackend

    config = args.configuration
    backend = StdioBackend.choose(Builder(config).service, config.env, config.core.config_path)
    try:
        await backend.check()
    except BaseException:
        await backend.close()  # the database's thread is not a daemon: never leave it open
        raise
    await serve_stdio(backend)
