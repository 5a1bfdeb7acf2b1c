"""``swarm attach AGENT`` (a terminal on an agent's tmux session, or a protocol agent's
transcript) and ``swarm desktop calibrate`` (an editor's layout profile, pointed at)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from automation import tmux_sessions as tmux
from automation.desktop.screen import NoDisplay, open_x_display
from automation.desktop.session import DesktopSession, apply_profile, record_profile
from automation.launch import PROFILE_NAME, TerminalSessions, load_desktop
from automation.protocol.attach import attach
from automation.turn_stop import stop_turn
from bot.cli.desktop_said import RELOADED
from core.agents_file import load_agents, load_team
from core.errors import InvalidInput, InvalidState

if TYPE_CHECKING:
    from core.service.swarm import SwarmService
    from core.settings import Settings


def register(sub: Any) -> None:
    """Add ``swarm attach``."""
    q = sub.add_parser(
        "attach",
        help="show an agent's tmux session in this terminal (detach: Ctrl+B then D)",
        description="Attach this terminal to the tmux session swarm-AGENT that swarm desktop "
        "up (with or without --headless) started, on the home's own tmux server (or the "
        "agents file's tmux_socket); detaching leaves the agent running. A "
        'protocol agent (delivery = "protocol") shows its live transcript instead, and '
        "each line typed is sent to it as your message (Ctrl+D leaves it running).",
    )
    q.add_argument("agent", metavar="AGENT")
    q.set_defaults(handler=cmd_attach, no_service=True)


def register_calibrate(dsub: Any) -> None:
    """Add ``swarm desktop calibrate``."""
    q = dsub.add_parser(
        "calibrate",
        help="record where an editor's chat input sits (once per application)",
        description="Point at the chat input and its box in AGENT's window (opened by swarm "
        "desktop up); the layout profile of APP is saved and applied to every gui agent "
        "with app = APP, now and at every desktop up.",
    )
    q.add_argument("agent", metavar="AGENT", help="a gui agent whose window is open")
    q.add_argument("--app", required=True, metavar="APP", help="the layout profile's name")
    q.set_defaults(handler=cmd_calibrate, no_service=True)


async def cmd_attach(_: SwarmService | None, args: argparse.Namespace) -> int:
    """``swarm attach AGENT``: this terminal becomes a tmux client of the agent's session."""
    settings = args.configuration.core
    agents, parked = load_team(settings.config_path)
    by_lower = {a.id.lower(): a.id for a in [*agents, *parked]}
    agent = by_lower.get(args.agent.lower())
    if agent is None:
        raise InvalidInput(f"unknown agent {args.agent} in {settings.config_path}")
    if {a.id: a.delivery for a in [*agents, *parked]}[agent] == "protocol":
        return await _attach_protocol(args, agent)
    program = tmux.require_tmux()
    name = tmux.session_name(agent)
    server = _server_of(settings, agent)
    if server is None:
        how = "swarm desktop up --headless starts it"
        waiting = [a.id for a in parked]
        if agent in waiting:  # parked (its session may still run): the N that brings it back
            count = len(agents) + waiting.index(agent) + 1
            how = f"it is parked; swarm desktop up --headless --agents {count} starts it"
        raise InvalidState(f"{agent} has no tmux session {name} on this machine: {how}")
    if not sys.stdin.isatty():
        raise InvalidState("swarm attach needs a terminal (run it in one, e.g. over ssh -t)")
    inside = _inside(server)  # inside tmux on that server: switch this client, not nest
    action = "switch-client" if inside else "attach-session"
    argv = [program, *server.args(action, "-t", f"={name}")]
    os.execve(program, argv, dict(os.environ) if inside else tmux.client_env(os.environ))


def _server_of(settings: Settings, agent: str) -> tmux.Server | None:
    """The server ``agent``'s session runs on: its own, else the default one where an older
    swarm started it; None when it runs on neither."""
    sessions = TerminalSessions(settings.home, settings.config_path)
    server = sessions.server(agent)
    if tmux.exists(server, tmux.session_name(agent)):
        return server
    older = sessions.older(agent)
    return older.server if older is not None else None


def _inside(server: tmux.Server) -> bool:
    """Whether this terminal is a client of ``server`` already (``$TMUX`` names its socket)."""
    socket = os.environ.get("TMUX", "").split(",")[0]
    return bool(socket) and tmux.same_server(server, tmux.Server(socket, os.environ))


async def _attach_protocol(args: argparse.Namespace, agent: str) -> int:
    """``swarm attach`` of a protocol agent: its live transcript; a line typed is sent to it
    as this person's message."""
    from core.service.swarm import SwarmService  # (the store: only for this command)

    settings = args.configuration.core
    service = await SwarmService.open(settings)
    try:

        async def send(text: str) -> None:
            message = await service.messages.send(agent, text, args.actor)
            print(f"   (message {message} queued for {agent})", flush=True)

        async def stop() -> str:
            found = service.ctx(args.actor).agent(agent)
            stopped = await stop_turn(settings, found, service.kill_switch)
            if stopped.done:
                await service.roster.stopped(agent, stopped.how, args.actor)
            return stopped.said

        return await attach(settings.home, agent, send, stop)
    finally:
        await service.close()


async def cmd_calibrate(_: SwarmService | None, args: argparse.Namespace) -> int:
    """``swarm desktop calibrate --app APP AGENT``."""
    return await asyncio.to_thread(calibrate_profile, args, args.agent, args.app)


def _ask(question: str) -> None:
    """Print the question; return at Enter (InvalidInput when input is closed)."""
    print(question, flush=True)
    if not sys.stdin.readline():
        raise InvalidInput("standard input closed: nothing saved")


def calibrate_profile(args: argparse.Namespace, name: str, app: str) -> int:
    """Record ``app``'s layout profile on ``name``'s open window; apply it to every gui agent
    with that app (``swarm desktop calibrate`` and ``swarm agents calibrate --app``)."""
    if not PROFILE_NAME.fullmatch(app):
        raise InvalidInput("--app must be a name of letters, digits, '.', '_' or '-'")
    settings = args.configuration.core
    agents = load_agents(settings.config_path)
    by_lower = {a.id.lower(): a.id for a in agents}
    agent = by_lower.get(name.lower())
    if agent is None:
        raise InvalidInput(f"unknown agent {name} in {settings.config_path}")
    config = load_desktop(
        settings.config_path, [a.id for a in agents], args.configuration.user_tables.get("desktop")
    )
    with _desktop(settings) as session:
        try:
            profile = record_profile(session, app, agent, _ask)
        except KeyboardInterrupt:
            raise InvalidState("calibration stopped (Ctrl+C): nothing saved") from None
        same = [a for a, launch in config.launches.items() if launch.app == app]
        written = apply_profile(session, profile, same or [agent])
    print(
        f"layout profile {app} saved; input points written for "
        f"{', '.join(written) or 'no open window'} ({RELOADED})"
    )
    return 0


@contextlib.contextmanager
def _desktop(settings: Settings) -> Iterator[DesktopSession]:
    """The desktop session on the display; InvalidState in one line without one."""
    try:
        display = open_x_display()
    except NoDisplay as exc:
        raise InvalidState(f"no display to open windows on: {exc}") from None
    try:
        yield DesktopSession(settings.home, settings.config_path, display)
    finally:
        display.close()
