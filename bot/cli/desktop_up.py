"""``swarm desktop up | status | down``: a thin command over ``automation.launch`` (an agent's
start: its workspace made ready, its window, tmux session or protocol host started by its
route's launcher); ``attach`` and ``calibrate`` are ``bot.cli.desktop_attach``'s."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import threading
from typing import TYPE_CHECKING, Any

from automation import launchers
from automation.desktop.screen import detect_screens
from automation.desktop.session import plan as desktop_plan
from automation.launch import hooks as launch_hooks
from automation.launch import parse_layout
from automation.launch import up as launch_up
from automation.tmux.headless import plan as headless_plan
from bot.cli import desktop_args, desktop_said, desktop_status
from bot.cli.agent_hooks import reach
from bot.cli.ctrl_c import CtrlC
from bot.cli.desktop_handback import FRESH, hand_back
from bot.cli.output import emit_json
from core.agents_file import load_team
from core.errors import InvalidInput
from core.privacy.files import copy_file, make_dirs
from core.settings import Settings, bundled_agents_file

if TYPE_CHECKING:
    from core.service.swarm import SwarmService


def register(sub: Any) -> None:
    """Add ``swarm desktop`` and its actions (``bot.cli.desktop_args``)."""
    desktop_args.register(sub, cmd_up, cmd_status, cmd_down)


async def cmd_up(_: SwarmService | None, args: argparse.Namespace) -> int:
    """``swarm desktop up``: the agents started (``automation.launch._up``), then said; a
    Ctrl+C stops it after the agent being started, exit status 130."""
    ctrl_c = CtrlC(
        "swarm desktop up",
        "stopping once the agent being started is up",
        "the agent being started may run on (swarm desktop status shows it)",
    )
    with ctrl_c.installed() as stop:
        return await asyncio.to_thread(_up, args, stop)


def _up(args: argparse.Namespace, stop: threading.Event) -> int:
    settings = args.configuration.core
    desktop = args.configuration.user_tables.get("desktop")
    chosen = launch_up.team(settings.config_path, desktop, args.node)
    for line in [] if args.json else launch_up.editor_notes(chosen):
        print(line)
    headless = args.headless or args.protocol
    up = _headless if headless else _desktop
    done, left, settings = up(args, settings, chosen, stop)
    priced = launch_up.price_notes(done.outcomes, chosen, os.environ, settings.prices_file)
    for agent, line in priced.items():
        done.notes.setdefault(agent, []).append(line)
    fresh = [o.agent for o in done.outcomes if o.action in FRESH]
    why = "swarm desktop up started a new session of its agent"
    for agent, line in hand_back(settings, args.actor, fresh, why, done.started).items():
        done.notes.setdefault(agent, []).append(line)
    desktop_said.said(args, settings, chosen, done, left)
    return 130 if done.unstarted else 0


def _desktop(
    args: argparse.Namespace, settings: Settings, chosen: launch_up.Team, stop: threading.Event
) -> tuple[launch_up.Up, list[str], Settings]:
    """The windows on the display, each in its cell of the grid."""
    config = chosen.config
    if args.layout is not None:
        config = dataclasses.replace(config, layout=parse_layout(args.layout, "--layout"))
    if args.monitor is not None and args.monitor < 0:
        raise InvalidInput("--monitor must be a whole number from 0")
    if args.monitor is not None:
        config = dataclasses.replace(config, monitor=args.monitor)
    team = chosen.everyone if args.agents is not None else chosen.agents
    with launchers.display() as display:
        finder = launch_up.workspace_finder(settings.home, team)
        planned = desktop_plan(team, config, detect_screens(display), finder, args.agents)
        settings = _own_copy(settings)  # only now: a bad option or no display writes nothing
        shown = launchers.windows(
            settings.home, settings.config_path, display, settings.agent_swarm
        )
        to, with_hooks = reach(settings, args), not args.no_hooks
        done = launch_up.start(shown, to, settings.config_path, chosen, planned, args.agents,
                               None, with_hooks, args.timeout, stop, _said)  # fmt: skip
    return done, [], settings


def _headless(
    args: argparse.Namespace, settings: Settings, chosen: launch_up.Team, stop: threading.Event
) -> tuple[launch_up.Up, list[str], Settings]:
    """The tmux sessions and protocol hosts, no window; the editors left out."""
    if args.layout is not None or args.monitor is not None:
        raise InvalidInput("--layout and --monitor place windows: --headless opens none")
    team = chosen.everyone if args.agents is not None else chosen.agents
    finder = launch_up.workspace_finder(settings.home, team)
    planned, left = headless_plan(team, chosen.config, finder, args.agents)
    if not planned:
        raise InvalidInput(
            f"no terminal agent to start: {', '.join(left)} run in an editor, which needs "
            "a display (swarm desktop up without --headless)"
        )
    settings = _own_copy(settings)
    to = reach(settings, args)
    hosted = launch_up.hosted(planned, chosen, args.protocol, launchers.speaks_protocol)
    mcp_for = launch_hooks.mcp_for(to, team)
    fleet = launchers.headless(settings.home, settings.config_path, hosted, mcp_for,
                               settings.agent_swarm)  # fmt: skip
    done = launch_up.start(fleet, to, settings.config_path, chosen, planned, args.agents, hosted,
                           not args.no_hooks, stop=stop, said=_said)  # fmt: skip
    return done, left, settings


def _own_copy(settings: Settings) -> Settings:
    """The settings on an agents file swarm may write: the bundled one is copied first."""
    if settings.config_path.resolve() != bundled_agents_file().resolve():
        return settings
    path = settings.home / "agents.toml"
    make_dirs(path.parent)
    copy_file(bundled_agents_file(), path)
    print(f"using a copy of the bundled agents file: {path} (used from now on)")
    return dataclasses.replace(settings, config_path=path)


async def cmd_status(service: SwarmService, args: argparse.Namespace) -> int:
    """``swarm desktop status``: 0 when every agent's route runs (``desktop_status``)."""
    settings = args.configuration.core
    agents, parked = load_team(settings.config_path)
    known = {a.id for a in [*agents, *parked]}

    def read() -> tuple[dict[str, Any], bool, desktop_status.Found]:
        found = desktop_status.find(settings.home, settings.config_path)
        with launchers.seen(settings.home, settings.config_path, args.headless) as seen:
            launcher, display = seen
            places = {row.agent: row for row in launcher.status([a.id for a in agents])}
            return places, display, found

    places, display, found = await asyncio.to_thread(read)
    rows = await desktop_status.rows(service, agents, places, display)
    rows = desktop_status.flag(rows, found, known)
    if args.json:
        emit_json([row.to_json() for row in rows])
        return 0 if desktop_status.healthy(rows) else 1
    if not display and not args.headless:
        print("(no display: the windows are not seen; the sessions and hosts are)")
    print("\n".join([desktop_status.HEADER, *map(desktop_status.line, rows)]))
    return 0 if desktop_status.healthy(rows) else 1


async def cmd_down(_: SwarmService | None, args: argparse.Namespace) -> int:
    """``swarm desktop down [--agent A]``: the parked agents' sessions too; the tasks of
    the agents whose session or host ended back in the queue."""
    settings = args.configuration.core
    ids = [a.id for group in load_team(settings.config_path) for a in group]
    by_lower = {i.lower(): i for i in ids}
    if missing := [a for a in args.agent or () if a.lower() not in by_lower]:
        raise InvalidInput(f"unknown agent(s) {', '.join(missing)} in {settings.config_path}")
    chosen = [by_lower[a.lower()] for a in args.agent] if args.agent else ids

    def close(stop: threading.Event) -> list[str] | None:
        with launchers.seen(settings.home, settings.config_path, args.headless) as (launcher, _):
            return launch_up.down(launcher, settings.home, chosen, args.keep_sessions, _said, stop)

    with CtrlC("swarm desktop down", "stopping: at once if it still waits for another up or "
               "down, else once what is open has ended and its tasks are back in the queue",
               "what was being ended may run on").installed() as stop:  # fmt: skip
        lines = await asyncio.to_thread(close, stop)
        if lines is None:
            _said("stopped while waiting: nothing was ended")
            return 130
        if not args.keep_sessions:
            ended = [a for a in chosen if any(line.startswith(f"{a}: ") for line in lines)]
            why = "its session was ended by swarm desktop down"
            handed = await asyncio.to_thread(hand_back, settings, args.actor, ended, why)
            lines += [f"{a}: {line}" for a, line in handed.items()]
    print("\n".join(lines) if lines else "nothing of swarm's was open")
    return 0


def _said(line: str) -> None:
    print(f"swarm desktop: {line}", file=sys.stderr, flush=True)
