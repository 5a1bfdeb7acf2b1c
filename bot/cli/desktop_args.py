"""The arguments of ``swarm desktop up | status | down`` (their handlers are
``bot.cli.desktop_up``'s; ``calibrate`` is ``bot.cli.desktop_attach``'s)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bot.cli.args import seconds_arg
from bot.cli.desktop_attach import register_calibrate

UP_HELP = """\
Open every agent's window in its cell of the grid: a terminal running the tmux session
swarm-<agent>, which runs the agent's command in its workspace, on the swarm home's own tmux
server (SWARM_HOME/tmux/swarm; an agent's tmux_socket names another). Run again, it opens only
what is missing: a closed window is opened again on its running session, a session that
ended (a reboot) is started with the resume command. The agents file gets each agent's
input point, input box, watch region, app, paste keys, tmux pane and socket: no calibration.
An agent with a workspace of its own gets swarm's hooks there first (Claude Code's
.claude/settings.local.json, Codex CLI's .codex/hooks.json: swarm agents hooks install),
so its state is known from its first prompt, and with mcp = true its MCP server (swarm
agents mcp install); --no-hooks leaves them out.
--agents N opens the first N agents (the [[agent]] tables, then the [[parked]] ones) and parks
the rest: their tables become [[parked]] (kept with their comments, given no tasks, their
coordinates no longer used), their windows are closed and their tmux sessions kept; a later
--agents with a larger N brings them back. swarm agents remove deletes an agent for good.
What to run is set in the agents file's [desktop] section (see docs/desktop.md).
--headless opens no window and needs no display (a server or a VM over SSH): it starts the
same sessions and writes delivery = "tmux", so prompts go straight into the panes; swarm
attach AGENT shows one. --protocol (implies --headless) runs each agent whose CLI speaks a
protocol (Claude Code, Codex, Gemini CLI, opencode) under a host process of swarm's instead,
its command the user's with the protocol's flags added, and writes delivery = "protocol":
no typing, no screen; the others (Aider) get their tmux sessions. --node NAME: only the
agents of that delivery node (this machine's)."""


def register(
    sub: Any, up: Callable[..., Any], status: Callable[..., Any], down: Callable[..., Any]
) -> None:
    """Add ``swarm desktop`` and its actions, handled by ``up``, ``status``, ``down``."""
    p = sub.add_parser("desktop", help="open, list and close the agents' windows")
    dsub = p.add_subparsers(dest="desktop_command", metavar="ACTION", required=True)
    q = dsub.add_parser(
        "up",
        help="open the agents' windows (only the missing ones)",
        description=UP_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument(
        "--agents",
        type=int,
        metavar="N",
        help="open the first N agents and park the others (a larger N brings them back)",
    )
    q.add_argument("--layout", metavar="CxR", help="grid columns x rows (default 4x2)")
    q.add_argument("--monitor", type=int, metavar="M", help="monitor number (default 0)")
    q.add_argument(
        "--timeout",
        type=seconds_arg(),
        default=20.0,
        metavar="S",
        help="seconds to wait for each window (default 20)",
    )
    q.add_argument(
        "--no-hooks",
        action="store_true",
        help="do not install swarm's agent hooks in the agents' workspaces",
    )
    q.add_argument(
        "--headless",
        action="store_true",
        help='no windows, no display: start the tmux sessions only (delivery = "tmux")',
    )
    q.add_argument(
        "--protocol",
        action="store_true",
        help='run the agents over their own protocol, each under a host (delivery = "protocol")',
    )
    q.add_argument("--node", metavar="NAME", help="only the agents with node = NAME")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=up, no_service=True)
    q = dsub.add_parser(
        "status",
        help="each agent's route, window/session/host, process, state, task, uptime, cost today",
        description="Each agent on its route (a window, a tmux session, a protocol host) and "
        "what swarm says of it, then every other session and host of this home, the stray "
        "ones flagged (an agent no longer in the agents file, a session beside a host, an "
        "older swarm's session on your default tmux server). Needs no display: without one "
        "the windows are not seen. Exit 0 when every route that can be told runs, else 1.",
    )
    q.add_argument("--headless", action="store_true", help="do not look for windows")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=status)
    q = dsub.add_parser("down", help="close the windows swarm opened (nothing else)")
    q.add_argument("--headless", action="store_true", help="end the sessions (no display)")
    q.add_argument("--agent", action="append", metavar="A", help="only this agent (repeatable)")
    q.add_argument(
        "--keep-sessions",
        action="store_true",
        help="leave the tmux sessions running (the next up re-attaches them)",
    )
    q.set_defaults(handler=down, no_service=True)
    register_calibrate(dsub)
