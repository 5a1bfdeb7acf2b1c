"""``swarm node --name NAME``: run one desktop's delivery node (PostgreSQL). Which agents it
serves is fixed while it runs (its claims, its agents' channels and watches); when its
agents file gives it others (``swarm desktop up --node NAME`` adding one), it ends what it
has under way and starts again in the same process, serving them."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from typing import Any

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add ``node``."""
    p = sub.add_parser(
        "node",
        help="deliver to this desktop's agents (their node = NAME); needs SWARM_DATABASE_URL",
    )
    p.add_argument("--name", required=True, help="the node's name, as in the agents file")
    p.add_argument(
        "--lease",
        type=float,
        default=None,
        metavar="S",
        help="seconds a claimed delivery stays this node's (default 60, or 25 more than one "
        "delivery's time limit when that is longer: 90 with windows); after that another "
        "node may send it again, marked as a retry",
    )
    p.add_argument(
        "--timings",
        action="store_true",
        help="log each delivery's steps with their times (claim, prompt, send, receipt)",
    )
    p.set_defaults(handler=cmd_node, no_service=True)


async def cmd_node(_service: None, args: argparse.Namespace) -> int:
    """``swarm node``."""
    from bot.app import Builder, serve_hooks
    from bot.run_stop import on_signals
    from core.coordinator.jobs import Watcher
    from core.coordinator.node import DeliveryNode
    from core.coordinator.prompt_keys import KeyPresser, PromptKeys
    from core.errors import ConfigError
    from core.logs.setup import log_progress

    if args.lease is not None and not 0 < args.lease <= 3600:
        raise ConfigError(f"--lease must be between 0 and 3600 seconds, got {args.lease:g}")
    log_progress()
    if args.timings:  # the node's and its deliverer's "timing:" lines
        for name in (
            "core.coordinator.node",
            "core.coordinator.scheduler",
            "core.workspaces",
            "core.store.postgres.store",
        ):
            logging.getLogger(name).setLevel(logging.DEBUG)
    builder = Builder(args.configuration)
    settings = builder.config.core
    if not settings.database_url:
        raise ConfigError(
            "swarm node needs SWARM_DATABASE_URL: the PostgreSQL database that swarm run uses"
        )
    service = await builder.service(readers=0)  # its reads share its write connection
    hooks = None
    try:
        hooks = await serve_hooks(service, builder.config)  # this machine's agents' hooks
        deliverer = builder.deliverer(service)
        text = builder.text(service, node=args.name)  # its tmux agents' panes
        watcher = Watcher(
            service, builder.config.watch, builder.frames(), node=args.name, text=text
        )
        keys = None
        if isinstance(deliverer, KeyPresser):  # its desktop driver types prompts' answers
            keys = PromptKeys(service, deliverer, text, node=args.name)
        stop, again, signalled = asyncio.Event(), list[str](), list[int]()

        def serve_again(named: list[str]) -> None:  # again: the agents to serve anew
            if not again and not signalled:
                again.append(", ".join(named) or "no agent")
                stop.set()

        def stop_signal() -> None:  # a person's stop wins over starting again
            signalled.append(1)
            again.clear()
            stop.set()

        reload = builder.agents_reload(service, deliverer, node=args.name, serve_again=serve_again)
        try:
            node = DeliveryNode(
                service,
                deliverer,
                args.name,
                lease_s=args.lease,
                watcher=watcher,
                keys=keys,
                protocol=builder.protocol_watch(service, node=args.name),
                timers=[
                    builder.gateway_watch(service, node=args.name),
                    builder.store_folds(service, node=args.name),
                    reload,
                ],
                before_claim=reload.current,
            )
            started = time.monotonic()
            with on_signals(stop_signal):
                log.info("node %s started on %s", args.name, settings.database_shown)
                await node.run(stop)
            log.info(
                "node %s stopped after %.1f s: %d delivered",
                args.name,
                time.monotonic() - started,
                node.delivered,
            )
        finally:
            await watcher.close()
            deliverer.close()
    finally:
        if hooks is not None:
            await hooks.close()
        await service.close()
    if again:
        _start_again(args.name, again[0])
    return 0


def _start_again(name: str, agents: str) -> None:
    """This process replaced by the same ``swarm node`` command, to serve ``agents``."""
    text = f"node {name} starts again to serve {agents}, as its agents file gives it"
    log.warning("%s", text)
    print(f"swarm node: {text}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "bot.cli.main", *sys.argv[1:]])


def nodes_text(rows: list[dict[str, Any]], now: float) -> str:
    """The nodes part of ``swarm status``: name, agents, last heartbeat, in flight."""
    lines = ["nodes:"]
    for row in rows:
        ago = now - float(row["heartbeat_at"])
        lines.append(
            f"  {row['name']:<12} {len(row['agents'])} agents "
            f"({', '.join(row['agents'])}); heartbeat {ago:.0f} s ago on "
            f"{row['host']} pid {row['pid']}; {row['in_flight']} in flight"
        )
    return "\n".join(lines)
