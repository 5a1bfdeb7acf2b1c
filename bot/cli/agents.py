"""``swarm agents``: list agents, pause or resume one or all, stop one's running turn, remove some;
:mod:`bot.cli.desktop` and :mod:`bot.cli.workspaces` add their agent actions."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli import agent_hooks, agent_mcp, desktop, workspaces
from bot.cli import format as fmt
from bot.cli.args import only_reads
from bot.cli.output import emit_json
from bot.cli.style import painter
from core.coordinator import watched
from core.errors import InvalidInput
from core.models import ACTIVE

if TYPE_CHECKING:
    from core.models import Task
    from core.service.swarm import SwarmService

REMOVE_HELP = """\
Delete agents from the agents file (an [[agent]] table or a [[parked]] one, with its
[desktop.agent.NAME] section): atomically, the file 0600, the previous one kept as .bak,
comments and other agents as they were. A running swarm run reloads it within seconds.
An agent holding a task is refused unless --hand-on puts its tasks back in the queue for
another agent; the last agent is never removed. Its window and tmux session are left as
they are (close them first: swarm desktop down --agent AGENT)."""

STOP_HELP = """\
Stop the agent's running turn now, its task left as it is (it stays the agent's; swarm task
cancel or swarm task assign take it away, and stop the turn too). On the protocol route
it is the host's cancel (ACP session/cancel, Claude Code's interrupt): the turn ends with
the stop reason cancelled and the agent's next prompt goes. In a tmux pane it is the CLI's
own interrupt keys (Escape; twice for opencode; one Ctrl+C for Aider), unless its pane
reads idle, and the pane is read until it is idle again. A desktop window with no tmux
pane, or inbox files, cannot be stopped from swarm: said so, nothing done. Works with or
without swarm run (run it on the agent's machine); recorded as an agent.stopped event
(swarm events)."""


def register(sub: Any) -> None:
    """Add ``agents`` and its actions (the desktop's and the workspaces' too)."""
    p = sub.add_parser("agents", help="list agents; pause, resume, check or calibrate them")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_agents)
    asub = p.add_subparsers(dest="agents_command", metavar="ACTION")
    for name, paused in (("pause", True), ("resume", False)):
        what = "no new tasks" if paused else "take tasks again"
        q = asub.add_parser(name, help=f"{name} one agent or --all ({what})")
        q.add_argument("agent", nargs="?", help="the agent (or --all)")
        q.add_argument("--all", action="store_true", help=f"{name} every agent of the file")
        q.set_defaults(handler=cmd_agent_pause, paused=paused)
        if not paused:  # anyone may stop an agent; only a person undoes it
            q.set_defaults(person_only="resuming a paused agent")
    q = asub.add_parser(
        "stop",
        help="stop an agent's running turn now (its task stays)",
        description=STOP_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument("agent", metavar="AGENT", help="the agent whose turn to stop")
    q.set_defaults(handler=cmd_agent_stop, person_only="stopping an agent's turn")
    q = asub.add_parser(
        "remove",
        help="delete agents from the agents file",
        description=REMOVE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument("agents", nargs="+", metavar="AGENT")
    q.add_argument(
        "--hand-on",
        action="store_true",
        help="put the tasks they hold back in the queue for another agent",
    )
    q.set_defaults(handler=cmd_agent_remove, person_only="removing an agent")
    desktop.register(asub)
    workspaces.register_agents(asub)
    agent_hooks.register_agents(asub)
    agent_mcp.register_agents(asub)


@only_reads
async def cmd_agents(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm agents``."""
    rows = await watched.agent_rows(service)  # no coordinator: each state as last seen
    emit_json(rows) if args.json else print(fmt.agents_table(rows, painter()))


async def cmd_agent_pause(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm agents pause|resume A`` or ``--all``."""
    word = "paused" if args.paused else "resumed"
    if args.all == (args.agent is not None):
        verb = "pause" if args.paused else "resume"
        raise InvalidInput(f"name one agent or --all (swarm agents {verb} Agent-3)")
    if not args.all:
        changed = await service.roster.set_paused(args.agent, args.paused, args.actor)
        agent = service.ctx(args.actor).agent(args.agent).id
        print(f"{agent} {word}" if changed else f"{agent} was already {word}")
        return
    done = 0
    for agent in list(service.agents):
        done += await service.roster.set_paused(agent, args.paused, args.actor)
    already = len(service.agents) - done
    were = "were already paused" if args.paused else "were not paused"
    print(f"{word} {done} of {len(service.agents)} agents ({already} {were})")


async def cmd_agent_stop(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm agents stop A``."""
    from automation.turn_stop import stop_and_record

    agent, stop = await stop_and_record(service, args.agent, args.actor, on_coordinator=False)
    print(f"{agent.id}: {stop.said}")


async def cmd_agent_remove(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm agents remove AGENT... [--hand-on]``."""
    from automation.agents_file_writer import move_agents
    from core.agents_file import load_team

    path = service.settings.config_path
    agents, parked = load_team(path)
    by_lower = {a.id.lower(): a.id for a in [*agents, *parked]}
    unknown = [name for name in args.agents if name.lower() not in by_lower]
    if unknown:
        raise InvalidInput(f"unknown agent(s) {', '.join(unknown)} in {path}: nothing removed")
    chosen = list(dict.fromkeys(by_lower[name.lower()] for name in args.agents))
    if all(a.id in chosen for a in agents):
        raise InvalidInput(f"{path} would have no agent left: nothing removed")
    held = await _held_tasks(service, chosen)
    if held and not args.hand_on:
        which = ", ".join(f"{t.agent} holds {t.ref} ({t.status})" for t in held)
        raise InvalidInput(
            f"{which}: nothing removed (--hand-on puts the tasks back in the queue for "
            "another agent)"
        )
    path = _own_copy(service, path)
    for task in held:
        await service.tasks.requeue(task.id, args.actor)
    backup = move_agents(path, remove=chosen)
    handed = f"; {', '.join(t.ref for t in held)} back in the queue" if held else ""
    print(f"removed {', '.join(chosen)} from {path} (the file before: {backup}){handed}")


async def _held_tasks(service: SwarmService, agents: list[str]) -> list[Task]:
    """The active tasks the agents hold (a parked agent's too), oldest first."""
    tasks = await service.tasks.newest(open_only=True, limit=100_000)
    return [t for t in reversed(tasks) if t.status in ACTIVE and t.agent in agents]


def _own_copy(service: SwarmService, path: Path) -> Path:
    """The agents file to write: the bundled one is copied to the home first."""
    from core.privacy.files import copy_file, make_dirs
    from core.settings import bundled_agents_file

    if path.resolve() != bundled_agents_file().resolve():
        return path
    own = service.settings.home / "agents.toml"
    make_dirs(own.parent)
    copy_file(bundled_agents_file(), own)
    print(f"using a copy of the bundled agents file: {own} (used from now on)")
    return own
