"""What ``swarm desktop up`` says: each agent's outcome in a line (or JSON), what was
said of it under it, the agents parked, the agents file written."""

from __future__ import annotations

import argparse

from automation import tmux_sessions as tmux
from automation.launch import Outcome
from automation.launch import hooks as launch_hooks
from automation.launch import up as launch_up
from bot.cli.output import emit_json
from core.formats.text import one_line, shorten
from core.settings import Settings

# what a running coordinator does with the agents file these commands write
RELOADED = "a running swarm run reloads it within seconds: its log says 'agents file reloaded'"


def said(
    args: argparse.Namespace,
    settings: Settings,
    chosen: launch_up.Team,
    done: launch_up.Up,
    left: list[str],
) -> None:
    """Each agent's outcome in a line (or JSON), what was said of it under it."""
    if args.json:
        emit_json(
            [
                {
                    "agent": o.agent,
                    "action": o.action,
                    "window": o.window,
                    "session": o.session,
                    "hooks": done.said.get(o.agent, []),
                    "notes": done.notes.get(o.agent, []),
                    **o.values,
                }
                for o in done.outcomes
            ]
            + [{"agent": a, "action": "parked"} for a in done.parked]
            + [{"agent": a, "action": "not started"} for a in done.unstarted]
        )
        return
    for o in done.outcomes:
        launch = chosen.config.launches[o.agent]
        if launch.kind == "gui" and "input" not in o.values:
            app = launch.app
            print(
                f"{o.agent}: no layout profile {app} yet: swarm agents calibrate --app {app} "
                f"{o.agent}"
            )
        print(f"{o.agent:<12} {o.action:<10} {_where(o)}")
        for line in done.notes.get(o.agent, []):
            print(f"{'':<12} {line}")
        for line in done.said.get(o.agent, []):
            if not line.endswith(launch_hooks.ALREADY):
                print(f"{'':<12} {launch_hooks.shown(line)}")
    for agent in left:
        print(f"{agent:<12} left out: an editor needs a display (swarm desktop up)")
    for agent in done.unstarted:
        print(f"{agent:<12} not started: stopped by Ctrl+C (swarm desktop up starts it)")
    if shown := _attach_lines(done.outcomes):
        print(shown)
    if already := launch_hooks.already_installed(done.said):
        print(already)
    if done.parked:
        print(f"parked {', '.join(done.parked)}: {_parked(args, chosen)}")
    routes = (
        '"protocol" or "tmux"'
        if any(o.session and "host" in o.session for o in done.outcomes)
        else '"tmux"'
    )
    how = f"delivery = {routes}; " if args.headless or args.protocol else ""
    if done.outcomes:
        print(f"agents file written: {settings.config_path} ({how}{RELOADED})")


def _parked(args: argparse.Namespace, chosen: launch_up.Team) -> str:
    """How the parked agents come back, in words."""
    count = len(chosen.everyone)
    if not (args.headless or args.protocol):
        return (
            f"[[parked]] in the agents file, given no tasks, windows closed, tmux sessions "
            f"kept (swarm desktop up --agents {count} opens them again; swarm agents remove "
            "AGENT deletes one)"
        )
    flag = "--protocol" if args.protocol else "--headless"
    return (
        f"[[parked]] in the agents file, given no tasks (swarm desktop up {flag} --agents "
        f"{count} starts them again; swarm agents remove AGENT deletes one)"
    )


def _attach_lines(outcomes: list[Outcome]) -> str:
    """How a person looks at the sessions, on the server they run on (a line a server)."""
    first: dict[str, Outcome] = {}
    for o in outcomes:
        socket = o.values.get("tmux_socket")
        if isinstance(socket, str) and o.session and o.values.get("delivery") != "protocol":
            first.setdefault(socket, o)
    return "\n".join(
        f"to watch {o.agent}: {tmux.attach_line(tmux.Server(socket), str(o.session))} "
        "(or swarm attach AGENT)"
        for socket, o in first.items()
    )


def _where(o: Outcome) -> str:
    """A window's place, a tmux session's pane, or a protocol host."""
    if o.values.get("delivery") == "protocol":
        return f"protocol, {shorten(one_line(o.session or ''), 80)}"  # the agent's words
    if o.window is None:
        return f"tmux {o.values['tmux']}  (swarm attach {o.agent})"
    box = "x".join(map(str, o.box[2:])) + "".join(f"+{n}" for n in o.box[:2]) if o.box else "?"
    return f"window {box:<18} tmux {o.values.get('tmux') or '-'}"
