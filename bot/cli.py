"""The ``swarm`` command line: what people and agents type in a terminal.

Kept light to start: heavy packages (discord, pyautogui) are imported only by the
commands that need them, so ``swarm task done`` answers quickly from an agent's terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from core.errors import SwarmError

if TYPE_CHECKING:
    from bot.config import Config
    from core.service import SwarmService

log = logging.getLogger(__name__)
Handler = Callable[["SwarmService", argparse.Namespace], Awaitable[int | None]]

DESCRIPTION = """\
Coordinate a team of AI coding agents: tasks with priorities and dependencies,
messages into the agents' chat windows, and reports back from their terminals.

State lives in $SWARM_HOME (default ~/.swarm); agents are read from --config,
$SWARM_CONFIG, $SWARM_HOME/agents.toml or the bundled agents file.
Agents report back with: swarm task start T-12 / swarm task done T-12 --note "..."
"""


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    from bot import cli_commands

    parser = argparse.ArgumentParser(
        prog="swarm", description=DESCRIPTION, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--config", metavar="FILE", help="agents file (default: see above)")
    parser.add_argument(
        "--as", dest="actor", metavar="NAME",
        help="who is acting, recorded in events (default: $SWARM_AGENT or 'cli')",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    cli_commands.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``swarm`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        args.configuration = _configuration(args)
        args.actor = args.actor or args.configuration.actor
        return asyncio.run(_run(args))
    except SwarmError as exc:
        print(f"swarm: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


async def _run(args: argparse.Namespace) -> int:
    handler: Handler = args.handler
    if getattr(args, "no_service", False):
        return int(await handler(None, args) or 0)  # type: ignore[arg-type]
    from bot.app import Builder

    service = await Builder(args.configuration).service()
    try:
        return int(await handler(service, args) or 0)
    finally:
        await service.close()


def _configuration(args: argparse.Namespace) -> Config:
    """The environment and ``.env``, read once for the whole command."""
    from bot.config import Config

    return Config.load(args.config)


if __name__ == "__main__":
    sys.exit(main())
