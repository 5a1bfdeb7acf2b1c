"""``swarm run`` and ``swarm demo``: the long-running commands."""

from __future__ import annotations

import argparse
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from bot.cli.args import port_arg
from bot.local_discord import DEFAULT_PORT as DEFAULT_LOCAL_PORT
from bot.local_telegram import DEFAULT_PORT as DEFAULT_TELEGRAM_PORT
from bot.slack.local import DEFAULT_PORT as DEFAULT_SLACK_PORT

if TYPE_CHECKING:
    from bot.app import Builder

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add ``run`` and ``demo``."""
    p = sub.add_parser("run", help="run the coordinator: Discord bot, scheduler, delivery")
    p.add_argument(
        "--no-discord",
        action="store_true",
        help="headless: scheduler and delivery only, no Discord bot",
    )
    p.add_argument(
        "--local-discord",
        action="store_true",
        help="the bot on a local Discord in this process, with a page to use it from a "
        "browser: try the bot before creating a Discord application (no token needed)",
    )
    p.add_argument(
        "--local-discord-port",
        type=port_arg,
        default=None,
        metavar="PORT",
        help=f"the local Discord's port on 127.0.0.1 (default {DEFAULT_LOCAL_PORT}; 0: any "
        "free port)",
    )
    p.add_argument(
        "--local-telegram",
        action="store_true",
        help="the Telegram bot on a local Telegram in this process, with a page to use it "
        "from a browser (no BotFather token needed); beside Discord when it is configured",
    )
    p.add_argument(
        "--local-telegram-port",
        type=port_arg,
        default=None,
        metavar="PORT",
        help=f"the local Telegram's port on 127.0.0.1 (default {DEFAULT_TELEGRAM_PORT}; 0: any "
        "free port)",
    )
    p.add_argument(
        "--local-slack",
        action="store_true",
        help="the Slack app on a local Slack in this process, with a page to use it from a "
        "browser: try it before creating a Slack app (no token needed)",
    )
    p.add_argument(
        "--local-slack-port",
        type=port_arg,
        default=None,
        metavar="PORT",
        help=f"the local Slack's port on 127.0.0.1 (default {DEFAULT_SLACK_PORT}; 0: any free "
        "port)",
    )
    p.add_argument(
        "--burst",
        action="store_true",
        help="stop once nothing more can happen now (scripts, tests)",
    )
    p.set_defaults(handler=cmd_run, no_service=True)
    p = sub.add_parser("demo", help="the whole swarm locally: Discord, windows, agents")
    p.add_argument("--keep", action="store_true", help="keep the demo's SWARM_HOME folder")
    p.add_argument(
        "--inbox",
        action="store_true",
        help="deliver to inbox files, even where Xvfb could show real windows",
    )
    p.add_argument(
        "--front-end",
        choices=("discord", "telegram", "slack"),
        default="discord",
        help="the chat the demo plays in, each a local server (default discord)",
    )
    p.set_defaults(handler=cmd_demo, no_service=True)


async def cmd_run(_service: None, args: argparse.Namespace) -> int:
    """``swarm run``; on PostgreSQL, a coordinator that lost the scheduler lock goes back to
    standby (it takes the lock again when it is free: a holder only slow to answer, or alone,
    carries on by itself)."""
    from bot.app import Builder
    from core.logs.setup import log_progress

    log_progress()
    builder = Builder(args.configuration, serve_web=not args.burst)
    _check_flags(args)
    async with contextlib.AsyncExitStack() as local:
        if args.local_slack:
            from bot.slack.local import local_slack

            port = DEFAULT_SLACK_PORT if args.local_slack_port is None else args.local_slack_port
            slack = await local.enter_async_context(local_slack(builder.config.slack, port))
            builder.config = builder.config.replace(slack=slack)
        if args.local_telegram:
            from bot.local_telegram import local_telegram

            port = args.local_telegram_port
            await local.enter_async_context(
                local_telegram(builder, DEFAULT_TELEGRAM_PORT if port is None else port)
            )
        if args.local_discord:
            from bot.local_discord import local_discord

            port = args.local_discord_port
            await local.enter_async_context(
                local_discord(builder, DEFAULT_LOCAL_PORT if port is None else port)
            )
        return await _run_until_stopped(builder, args)


def _check_flags(args: argparse.Namespace) -> None:
    """One line for flags that cannot go together."""
    from core.errors import ConfigError

    if args.local_discord and args.no_discord:
        raise ConfigError("--local-discord runs the bot: leave out --no-discord")
    if args.burst and not args.no_discord:
        raise ConfigError("--burst needs --no-discord")
    if args.local_discord_port is not None and not args.local_discord:
        raise ConfigError("--local-discord-port goes with --local-discord")
    if args.local_telegram and args.no_discord:
        raise ConfigError("--local-telegram runs the bot: leave out --no-discord")
    if args.local_telegram_port is not None and not args.local_telegram:
        raise ConfigError("--local-telegram-port goes with --local-telegram")
    if args.local_slack and args.no_discord:
        raise ConfigError("--local-slack runs the Slack app: leave out --no-discord")
    if args.local_slack_port is not None and not args.local_slack:
        raise ConfigError("--local-slack-port goes with --local-slack")


async def _run_until_stopped(builder: Builder, args: argparse.Namespace) -> int:
    from core.errors import LockLost

    while True:
        try:
            return await _run_once(builder, args)
        except LockLost as lost:
            if args.burst:
                raise
            log.warning("%s; back to standby", lost)


async def _run_once(builder: Builder, args: argparse.Namespace) -> int:
    from bot.app import run_headless, run_with_front_ends

    if not args.no_discord:
        await run_with_front_ends(builder, builder.front_ends())
        return 0
    result = await run_headless(builder, burst=args.burst)
    if result is not None:
        print(
            f"burst: {result.assigned} assigned, {result.delivered} deliveries, "
            f"{result.expired} leases expired"
        )
    return 0


async def cmd_demo(_service: None, args: argparse.Namespace) -> int:
    """``swarm demo``."""
    if args.front_end != "discord":
        from bot.demo_chat import run_chat_demo

        return await run_chat_demo(args.front_end, keep=args.keep, inbox=args.inbox)
    from bot.demo import run_demo

    return await run_demo(keep=args.keep, inbox=args.inbox)
