"""``swarm desktop up | status | down``: swarm opens, lists and closes the agents' windows."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.output import emit_json
from core.errors import InvalidInput, InvalidState
from core.privacy.files import copy_file, make_dirs
from core.settings import Settings, bundled_agents_file

if TYPE_CHECKING:
    from automation.desktop.session import DesktopSession
    from automation.desktop_config import DesktopConfig
    from core.models import Agent
    from core.service.swarm import SwarmService

# what a running coordinator does with the agents file these commands write
RELOADED = "a running swarm run reloads it within seconds: its log says 'agents file reloaded'"
FIRST_START = "first start: "  # a line of a first-start offer settled (automation.first_start)
ALREADY = ": already installed"  # a hooks line saying the file was left as it was
UP_HELP = """\
Open every agent's window in its cell of the grid: a terminal running the tmux session
swarm-<agent>, which runs the agent's command in its workspace. Run again, it opens only
what is missing: a closed window is opened again on its running session, a session that
ended (a reboot) is started with the resume command. The agents file gets each agent's
input point, input box, watch region, app, paste keys and tmux pane: no calibration.
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


def register(sub: Any) -> None:
    """Add ``swarm desktop`` and its actions."""
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
        type=float,
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
    q.set_defaults(handler=cmd_up, no_service=True)
    q = dsub.add_parser(
        "status",
        help="each agent's route, window/session/host, process, state, task, uptime, cost today",
        description="Each agent on its route (a window, a tmux session, a protocol host) and "
        "what swarm says of it. Needs no display: without one the windows are not seen. "
        "Exit 0 when every route that can be told runs, else 1.",
    )
    q.add_argument("--headless", action="store_true", help="do not look for windows")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_status)
    q = dsub.add_parser("down", help="close the windows swarm opened (nothing else)")
    q.add_argument("--headless", action="store_true", help="end the sessions (no display)")
    q.add_argument("--agent", action="append", metavar="A", help="only this agent (repeatable)")
    q.add_argument(
        "--keep-sessions",
        action="store_true",
        help="leave the tmux sessions running (the next up re-attaches them)",
    )
    q.set_defaults(handler=cmd_down, no_service=True)
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
    q = sub.add_parser(
        "attach",
        help="show an agent's tmux session in this terminal (detach: Ctrl+B then D)",
        description="Attach this terminal to the tmux session swarm-AGENT that swarm desktop "
        "up (with or without --headless) started; detaching leaves the agent running. A "
        'protocol agent (delivery = "protocol") shows its live transcript instead, and '
        "each line typed is sent to it as your message (Ctrl+D leaves it running).",
    )
    q.add_argument("agent", metavar="AGENT")
    q.set_defaults(handler=cmd_attach, no_service=True)


@contextlib.contextmanager
def _session(
    settings: Settings,
    headless: bool = False,
    protocol: Any = None,
    hosted: set[str] | None = None,
) -> Iterator[DesktopSession]:
    """The desktop session on the display; with ``headless``, the sessions only; with
    ``protocol`` (the MCP servers of an agent's session), the ``hosted`` agents' hosts too."""
    from automation.desktop.screen import NoDisplay, open_x_display
    from automation.desktop.session import DesktopSession

    if protocol is not None:
        from automation.protocol.session import ProtocolSession

        hosting = ProtocolSession(
            settings.home, settings.config_path, mcp_for=protocol, only=hosted
        )
        hosting.agent_swarm = settings.agent_swarm
        yield hosting
        return
    if headless:
        from automation.tmux.headless import HeadlessSession

        sessions = HeadlessSession(settings.home, settings.config_path)
        sessions.agent_swarm = settings.agent_swarm
        yield sessions
        return
    try:
        display = open_x_display()
    except NoDisplay as exc:
        raise InvalidState(f"no display to open windows on: {exc}") from None
    try:
        desktop = DesktopSession(settings.home, settings.config_path, display)
        desktop.agent_swarm = settings.agent_swarm
        yield desktop
    finally:
        display.close()


@contextlib.contextmanager
def _seen_session(settings: Settings, headless: bool) -> Iterator[tuple[DesktopSession, bool]]:
    """The desktop session on the display, or (``headless``, or no display to open) the
    sessions only; and whether a display is open (``status`` and ``down`` need none)."""
    from automation.desktop.screen import NoDisplay, open_x_display

    if not headless:
        try:
            display = open_x_display()
        except NoDisplay:
            pass
        else:
            from automation.desktop.session import DesktopSession

            try:
                yield DesktopSession(settings.home, settings.config_path, display), True
            finally:
                display.close()
            return
    from automation.tmux.headless import HeadlessSession

    yield HeadlessSession(settings.home, settings.config_path), False


def _agents(settings: Settings) -> list[Agent]:
    from core.agents_file import load_agents

    return load_agents(settings.config_path)


def _team(settings: Settings) -> tuple[list[Agent], list[Agent]]:
    """The agents and the parked agents of the agents file."""
    from core.agents_file import load_team

    return load_team(settings.config_path)


def _own_copy(settings: Settings) -> Settings:
    """The settings on an agents file swarm may write: the bundled one is copied first."""
    from dataclasses import replace

    path = settings.config_path
    if path.resolve() != bundled_agents_file().resolve():
        return settings
    path = settings.home / "agents.toml"
    make_dirs(path.parent)
    copy_file(bundled_agents_file(), path)
    print(f"using a copy of the bundled agents file: {path} (used from now on)")
    return replace(settings, config_path=path)


def _workspace_finder(settings: Settings, agents: list[Agent]) -> Any:
    from core.workspaces import find

    by_id = {agent.id: agent for agent in agents}

    def workspace_of(agent: str) -> Path | None:
        found = find(settings.home, by_id, agent)
        return found.path if found is not None else None

    return workspace_of


async def cmd_up(_: SwarmService | None, args: argparse.Namespace) -> int:
    """``swarm desktop up``."""
    return await asyncio.to_thread(_up, args)


def _up(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from automation.desktop.screen import detect_screens
    from automation.desktop.session import plan
    from automation.desktop_config import load_desktop, parse_layout

    settings = args.configuration.core
    agents, parked = _team(settings)
    team = [*agents, *parked]
    config = load_desktop(
        settings.config_path, [a.id for a in team], args.configuration.user_tables.get("desktop")
    )
    agents = _of_node(settings, agents, args.node)
    _require_sandboxes(agents)
    _refuse_sandboxed_editors(agents, config, args.json)
    if args.headless or args.protocol:
        return _up_headless(args, settings, (agents, parked), config)
    if args.layout is not None:
        config = replace(config, layout=parse_layout(args.layout, "--layout"))
    if args.monitor is not None:
        if args.monitor < 0:
            raise InvalidInput("--monitor must be a whole number from 0")
        config = replace(config, monitor=args.monitor)
    with _session(settings) as session:
        planned = plan(
            team if args.agents is not None else agents,
            config,
            detect_screens(session.desk.display),
            _workspace_finder(settings, team),
            args.agents,
        )
        settings = _own_copy(settings)  # only now: a bad option or no display writes nothing
        session.config_path = settings.config_path
        parking = _park_rest(session, settings, agents, parked, planned, args.agents)
        hooks = {} if args.no_hooks else _install_hooks(settings, args, team, planned)
        _door_commit_checks(settings, team, planned, hooks)
        _settle_first_start(settings, team, planned, hooks)
        started = time.time()  # a fresh session's: a prompt delivered before was the old one's
        outcomes = session.up(planned, timeout=args.timeout)
    _hand_back_fresh(settings, args.actor, outcomes, session.notes, started)
    if args.json:
        emit_json(
            [
                {
                    "agent": o.agent,
                    "action": o.action,
                    "window": o.window,
                    "session": o.session,
                    "hooks": hooks.get(o.agent, []),
                    "notes": session.notes.get(o.agent, []),
                    **o.values,
                }
                for o in outcomes
            ]
            + [{"agent": a, "action": "parked"} for a in parking]
        )
        return 0
    for o in outcomes:
        launch = config.launches[o.agent]
        if launch.kind == "gui" and "input" not in o.values:
            print(
                f"{o.agent}: no layout profile {launch.app} yet: swarm agents calibrate "
                f"--app {launch.app} {o.agent}"
            )
        box = o.box
        where = f"{box.width}x{box.height}+{box.left}+{box.top}" if box else "?"
        print(f"{o.agent:<12} {o.action:<10} window {where:<18} tmux {o.values.get('tmux') or '-'}")
        for line in session.notes.get(o.agent, []):
            print(f"{'':<12} {line}")
        for line in hooks.get(o.agent, []):
            if not line.endswith(ALREADY):
                print(f"{'':<12} {_line(line)}")
    if already := _already_installed(hooks):
        print(already)
    if parking:
        print(
            f"parked {', '.join(parking)}: [[parked]] in the agents file, given no tasks, "
            f"windows closed, tmux sessions kept (swarm desktop up --agents {len(team)} opens "
            "them again; swarm agents remove AGENT deletes one)"
        )
    print(f"agents file written: {settings.config_path} ({RELOADED})")
    return 0


def _require_sandboxes(agents: list[Agent]) -> None:
    """MissingDependency in one line for the first sandboxed agent when bwrap is missing."""
    from automation.sandboxing import require_bwrap

    for agent in agents:
        if agent.sandbox is not None:
            require_bwrap(agent.id)


def _refuse_sandboxed_editors(agents: list[Agent], config: DesktopConfig, quiet: bool) -> None:
    """InvalidInput in one line for an editor agent that asks for a sandbox (its window is
    not wrapped); a line each for one the ``[desktop]`` default left unsandboxed."""
    from automation.sandboxing import editor_lines

    lines = editor_lines(agents, config)
    for refused, line in lines.values():
        if refused:
            raise InvalidInput(line)
    for _, line in lines.values() if not quiet else ():
        print(line)


def _of_node(settings: Settings, agents: list[Agent], node: str | None) -> list[Agent]:
    """The agents of delivery node ``node`` (all when None); InvalidInput when it has none."""
    if node is None:
        return agents
    mine = [agent for agent in agents if agent.node == node]
    if not mine:
        raise InvalidInput(f"no agent has node = {node!r} in {settings.config_path}")
    return mine


def _up_headless(
    args: argparse.Namespace,
    settings: Settings,
    served: tuple[list[Agent], list[Agent]],
    config: Any,
) -> int:
    """``swarm desktop up --headless``: the tmux sessions, no window, no display; with
    ``--agents N`` the others are parked as on a desktop."""
    from automation.tmux.headless import plan

    if args.layout is not None or args.monitor is not None:
        raise InvalidInput("--layout and --monitor place windows: --headless opens none")
    agents, parked = served
    team = [*agents, *parked] if args.agents is not None else agents
    planned, left = plan(team, config, _workspace_finder(settings, team), args.agents)
    if not planned:
        raise InvalidInput(
            f"no terminal agent to start: {', '.join(left)} run in an editor, which needs "
            "a display (swarm desktop up without --headless)"
        )
    settings = _own_copy(settings)
    hosted = _hosted(planned, team, args.protocol)
    typed = [item for item in planned if item.agent not in hosted]
    mcp_for = _mcp_for(settings, args, team) if hosted else None
    with _session(settings, headless=True, protocol=mcp_for, hosted=hosted) as session:
        session.config_path = settings.config_path
        parking = _park_rest(session, settings, agents, parked, planned, args.agents)
        hooks = {} if args.no_hooks else _install_hooks(settings, args, team, typed)
        _door_commit_checks(settings, team, planned, hooks)
        _install_report_rules(settings, team, [i for i in planned if i.agent in hosted])
        _settle_first_start(settings, team, typed, hooks)
        started = time.time()  # a fresh session's: a prompt delivered before was the old one's
        outcomes = session.up(planned)
    _hand_back_fresh(settings, args.actor, outcomes, session.notes, started)
    if args.json:
        emit_json(
            [
                {
                    "agent": o.agent,
                    "action": o.action,
                    "session": o.session,
                    "hooks": hooks.get(o.agent, []),
                    "notes": session.notes.get(o.agent, []),
                    **o.values,
                }
                for o in outcomes
            ]
            + [{"agent": a, "action": "parked"} for a in parking]
        )
        return 0
    for o in outcomes:
        if o.values.get("delivery") == "protocol":
            print(f"{o.agent:<12} {o.action:<10} protocol, {o.session}")
        else:
            print(f"{o.agent:<12} {o.action:<10} tmux {o.values['tmux']}  (swarm attach {o.agent})")
        for line in session.notes.get(o.agent, []):
            print(f"{'':<12} {line}")
        for line in hooks.get(o.agent, []):
            if not line.endswith(ALREADY):
                print(f"{'':<12} {_line(line)}")
    for agent in left:
        print(f"{agent:<12} left out: an editor needs a display (swarm desktop up)")
    if already := _already_installed(hooks):
        print(already)
    if parking:
        print(
            f"parked {', '.join(parking)}: [[parked]] in the agents file, given no tasks "
            f"(swarm desktop up {'--protocol' if args.protocol else '--headless'} --agents "
            f"{len(team)} starts them again; swarm "
            "agents remove AGENT deletes one)"
        )
    routes = '"protocol" or "tmux"' if hosted else '"tmux"'
    print(f"agents file written: {settings.config_path} (delivery = {routes}; {RELOADED})")
    return 0


def _hosted(planned: list[Any], team: list[Agent], protocol: bool) -> set[str]:
    """The planned agents that get a host, not a pane: with ``--protocol`` each whose CLI
    speaks a protocol; without, those of them the agents file says ``delivery =
    "protocol"`` of (a mixed fleet: ``--headless`` keeps each agent's own route)."""
    from automation.protocol.session import protocol_cli

    speaks = {item.agent for item in planned if protocol_cli(item) is not None}
    return speaks if protocol else speaks & {a.id for a in team if a.delivery == "protocol"}


def _mcp_for(settings: Settings, args: argparse.Namespace, agents: list[Agent]) -> Any:
    """agent -> the MCP servers its protocol session gets: swarm's, for ``mcp = true``
    (passed with the session: no file written, no dialog asking to trust it)."""
    from bot.cli.agent_mcp import server
    from core.clis.mcp_files import NAME

    by_id = {agent.id: agent for agent in agents}

    def servers(agent: str) -> list[dict[str, Any]]:
        if not _wants_mcp(by_id[agent], by_id[agent].cli):
            return []
        return [{"name": NAME, **server(settings, args, agent).entry()}]

    return servers


def _park_rest(
    session: DesktopSession,
    settings: Settings,
    agents: list[Agent],
    parked: list[Agent],
    planned: list[Any],
    count: int | None,
) -> list[str]:
    """With ``--agents N``: the agents not planned become ``[[parked]]`` (their windows
    closed, their sessions kept), the parked ones planned ``[[agent]]`` again; the parked."""
    from automation.agents_file_writer import move_agents

    if count is None:
        return []
    chosen = {item.agent for item in planned}
    park = [a.id for a in agents if a.id not in chosen]
    unpark = [a.id for a in parked if a.id in chosen]
    if park or unpark:
        move_agents(settings.config_path, park=park, unpark=unpark)
    if park:
        session.down(park, keep_sessions=True)
    return park


def _already_installed(hooks: dict[str, list[str]]) -> str:
    """One line for every file that had swarm's hooks (or MCP server) already, not one each."""
    agents = [agent for agent, lines in hooks.items() if any(x.endswith(ALREADY) for x in lines)]
    files = sum(line.endswith(ALREADY) for lines in hooks.values() for line in lines)
    if not files:
        return ""
    return f"hooks: already installed ({files} files in the workspaces of {', '.join(agents)})"


def _install_hooks(
    settings: Settings, args: argparse.Namespace, agents: list[Agent], planned: list[Any]
) -> dict[str, list[str]]:
    """swarm's hooks (and, for an agent with ``mcp = true``, its MCP server) in the workspace
    of each agent about to be opened that has one of its own (an agent without one starts in
    the current folder, which it may share: none there), before its CLI starts and reads
    them."""
    from bot.cli.agent_hooks import install, said
    from bot.cli.agent_mcp import SAID, server
    from core.agents import workspace_files

    workspace_of = _workspace_finder(settings, agents)
    by_id = {agent.id: agent for agent in agents}
    done: dict[str, list[str]] = {}
    hooked: list[str] = []
    for item in planned:
        folder = workspace_of(item.agent)
        if folder is None:
            continue
        fenced = by_id[item.agent].sandbox is not None
        changes = install(settings, args, item.agent, folder, item.cli, fenced)
        lines = [f"{c.path}: {said(c)}" for c in changes]
        reads_mcp = bool(workspace_files.mcp_files(item.cli))
        if _wants_mcp(by_id[item.agent], item.cli) and reads_mcp:
            serve = server(settings, args, item.agent, fenced)
            mcp = workspace_files.install_mcp(settings.home, folder, item.cli, serve)
            lines += [f"{c.path}: {SAID[c.what]}" for c in mcp]
        done[item.agent] = lines
        if any(c.what in ("added", "already installed") for c in changes):
            hooked.append(item.agent)
    _mark_hooked(settings, hooked)
    return done


def _door_commit_checks(
    settings: Settings, agents: list[Agent], planned: list[Any], said: dict[str, list[str]]
) -> None:
    """The reservations' check of each sandboxed agent about to start, written before it
    went through the door, rewritten to (``automation.sandboxing.stale_commit_checks``);
    each rewrite said with that agent's hook lines."""
    from automation.sandboxing import commit_checks_through_door

    by_id = {agent.id: agent for agent in agents}
    for item in planned:
        lines = commit_checks_through_door(settings.home, by_id[item.agent])
        if lines:
            said.setdefault(item.agent, []).extend(lines)


def _install_report_rules(settings: Settings, agents: list[Agent], planned: list[Any]) -> None:
    """The rules that spare protocol agents' reports a person's approval, in their
    workspaces (a typed agent's come with its hooks: ``agent_hooks.install``)."""
    from core.agents import workspace_files
    from core.sandbox import swarm_for

    workspace_of = _workspace_finder(settings, agents)
    by_id = {agent.id: agent for agent in agents}
    for item in planned:
        folder = workspace_of(item.agent)
        if folder is not None:
            swarm = swarm_for(by_id[item.agent], settings.agent_swarm)
            workspace_files.install_report_rules(folder, item.cli, swarm)


def _wants_mcp(agent: Agent, cli: str | None) -> bool:
    """Whether the agent gets swarm's MCP server: ``mcp = true``, or a CLI whose agents
    report through it by default (Codex CLI: its sandboxed shell may not reach swarm's
    home), its agents-file entry not known yet (the cli only this up names)."""
    from core.clis import by_name

    known = by_name(cli)
    return agent.mcp or (known is not None and known.reports_by_mcp)


def _mark_hooked(settings: Settings, agents: list[str]) -> None:
    """``hooks = true`` for ``agents`` in the agents file: their hooks are now installed, so
    a prompt that reaches one with no hook event after is an alert."""
    from automation.agents_file_writer import write_agent_values

    if agents:
        write_agent_values(settings.config_path, {agent: {"hooks": True} for agent in agents})


def _line(line: str) -> str:
    """A hooks line as printed (a first-start setting's says so itself)."""
    return line if line.startswith(FIRST_START) else f"hooks: {line}"


def _settle_first_start(
    settings: Settings, agents: list[Agent], planned: list[Any], said: dict[str, list[str]]
) -> None:
    """Each CLI's first-start offers settled in the workspace of each agent about to be
    opened that has one of its own, before its CLI starts (``automation.first_start``; an
    agent without one starts in the current folder, which it may share: nothing there, its
    offer is read as a dialog); a line for each file written, with its hooks' lines."""
    from automation.first_start import settle

    workspace_of = _workspace_finder(settings, agents)
    for item in planned:
        folder = workspace_of(item.agent)
        lines = settle(item.cli, folder) if folder is not None else []
        if lines:
            said.setdefault(item.agent, []).extend(f"{FIRST_START}{x}" for x in lines)


async def cmd_status(service: SwarmService, args: argparse.Namespace) -> int:
    """``swarm desktop status``: 0 when every agent's route runs (``desktop_status``)."""
    from bot.cli import desktop_status

    settings = args.configuration.core
    agents = _agents(settings)

    def read() -> tuple[dict[str, Any], bool]:
        with _seen_session(settings, args.headless) as (session, display):
            return {row.agent: row for row in session.status([a.id for a in agents])}, display

    places, display = await asyncio.to_thread(read)
    rows = await desktop_status.rows(service, agents, places, display)
    if args.json:
        emit_json([row.to_json() for row in rows])
    else:
        if not display and not args.headless:
            print("(no display: the windows are not seen; the sessions and hosts are)")
        print(desktop_status.HEADER)
        print("\n".join(desktop_status.line(row) for row in rows))
    return 0 if desktop_status.healthy(rows) else 1


async def cmd_down(_: SwarmService | None, args: argparse.Namespace) -> int:
    """``swarm desktop down [--agent A]``: the parked agents' sessions too."""
    settings = args.configuration.core
    ids = [a.id for group in _team(settings) for a in group]
    chosen = ids
    if args.agent:
        by_lower = {i.lower(): i for i in ids}
        missing = [a for a in args.agent if a.lower() not in by_lower]
        if missing:
            raise InvalidInput(f"unknown agent(s) {', '.join(missing)} in {settings.config_path}")
        chosen = [by_lower[a.lower()] for a in args.agent]

    def close() -> list[str]:
        from automation.protocol.session import stop_hosts
        from automation.sandboxing import close_doors

        with _seen_session(settings, args.headless) as (session, _):
            return [
                *session.down(chosen, keep_sessions=args.keep_sessions),
                *stop_hosts(settings.home, chosen),
                *([] if args.keep_sessions else close_doors(settings.home, chosen)),
            ]

    lines = await asyncio.to_thread(close)
    if not args.keep_sessions:
        lines += await asyncio.to_thread(_hand_back_ended, settings, args.actor, chosen, lines)
    print("\n".join(lines) if lines else "nothing of swarm's was open")
    return 0


def _hand_back_ended(
    settings: Settings, actor: str, chosen: list[str], closed: list[str]
) -> list[str]:
    """The tasks of the agents whose session or host ``down`` ended, back in the queue."""
    from bot.cli.desktop_handback import hand_back

    ended = [a for a in chosen if any(line.startswith(f"{a}: ") for line in closed)]
    why = "its session was ended by swarm desktop down"
    return [f"{a}: {line}" for a, line in hand_back(settings, actor, ended, why).items()]


def _hand_back_fresh(
    settings: Settings,
    actor: str,
    outcomes: list[Any],
    notes: dict[str, list[str]],
    started: float,
) -> None:
    """What the agents whose CLI ``up`` started anew (from ``started`` on) held, back in the
    queue: the tasks whose prompt their old session had (in ``notes``, the lines said under
    each agent)."""
    from bot.cli.desktop_handback import FRESH, hand_back

    fresh = [o.agent for o in outcomes if o.action in FRESH]
    why = "swarm desktop up started a new session of its agent"
    for agent, line in hand_back(settings, actor, fresh, why, before=started).items():
        notes.setdefault(agent, []).append(line)


async def cmd_attach(_: SwarmService | None, args: argparse.Namespace) -> int:
    """``swarm attach AGENT``: this terminal becomes a tmux client of the agent's session."""
    import os
    import sys

    from automation import tmux_sessions as tmux

    settings = args.configuration.core
    agents, parked = _team(settings)
    by_lower = {a.id.lower(): a.id for a in [*agents, *parked]}
    agent = by_lower.get(args.agent.lower())
    if agent is None:
        raise InvalidInput(f"unknown agent {args.agent} in {settings.config_path}")
    if {a.id: a.delivery for a in [*agents, *parked]}[agent] == "protocol":
        return await _attach_protocol(args, agent)
    program = tmux.require_tmux()
    name = tmux.session_name(agent)
    if not tmux.exists(os.environ, name):
        how = "swarm desktop up --headless starts it"
        waiting = [a.id for a in parked]
        if agent in waiting:  # parked (its session may still run): the N that brings it back
            count = len(agents) + waiting.index(agent) + 1
            how = f"it is parked; swarm desktop up --headless --agents {count} starts it"
        raise InvalidState(f"{agent} has no tmux session {name} on this machine: {how}")
    if not sys.stdin.isatty():
        raise InvalidState("swarm attach needs a terminal (run it in one, e.g. over ssh -t)")
    inside = "TMUX" in os.environ  # inside tmux: switch this client instead of nesting
    argv = [program, "switch-client" if inside else "attach-session", "-t", f"={name}"]
    os.execve(program, argv, dict(os.environ) if inside else tmux.client_env(os.environ))


async def _attach_protocol(args: argparse.Namespace, agent: str) -> int:
    """``swarm attach`` of a protocol agent: its live transcript; a line typed is sent to it
    as this person's message."""
    from automation.protocol.attach import attach
    from core.service.swarm import SwarmService

    settings = args.configuration.core
    service = await SwarmService.open(settings)
    try:

        async def send(text: str) -> None:
            message = await service.messages.send(agent, text, args.actor)
            print(f"   (message {message} queued for {agent})", flush=True)

        async def stop() -> str:
            from automation.turn_stop import stop_turn

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
    import sys

    print(question, flush=True)
    if not sys.stdin.readline():
        raise InvalidInput("standard input closed: nothing saved")


def calibrate_profile(args: argparse.Namespace, name: str, app: str) -> int:
    """Record ``app``'s layout profile on ``name``'s open window; apply it to every gui agent
    with that app (``swarm desktop calibrate`` and ``swarm agents calibrate --app``)."""
    from automation.desktop.session import apply_profile, record_profile
    from automation.desktop_config import PROFILE_NAME, load_desktop

    if not PROFILE_NAME.fullmatch(app):
        raise InvalidInput("--app must be a name of letters, digits, '.', '_' or '-'")
    settings = args.configuration.core
    agents = _agents(settings)
    by_lower = {a.id.lower(): a.id for a in agents}
    agent = by_lower.get(name.lower())
    if agent is None:
        raise InvalidInput(f"unknown agent {name} in {settings.config_path}")
    config = load_desktop(
        settings.config_path, [a.id for a in agents], args.configuration.user_tables.get("desktop")
    )
    with _session(settings) as session:
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
