"""``swarm workspaces init|list|show|sync|remove``: one git worktree per agent."""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli import format as fmt
from bot.cli.output import emit_json
from core.errors import InvalidInput, InvalidState

if TYPE_CHECKING:
    from core.service.swarm import SwarmService


def register(sub: Any) -> None:
    """Add the ``workspaces`` group."""
    p = sub.add_parser("workspaces", help="one git worktree per agent (init, list, sync, ...)")
    wsub = p.add_subparsers(dest="workspaces_command", metavar="ACTION", required=True)
    q = wsub.add_parser("init", help="a worktree and branch swarm/<agent> per agent")
    q.add_argument("repo", type=Path, help="the git repository")
    q.add_argument("--base", help="branch to start from (default: the one checked out)")
    q.add_argument(
        "--agents", nargs="+", default=[], metavar="AGENT", help="only these agents (default all)"
    )
    q.add_argument("--setup", metavar="CMD", help="shell command run in each new worktree")
    q.add_argument(
        "--copy",
        nargs="+",
        default=[],
        metavar="FILE",
        help="untracked files copied into each worktree (e.g. .env)",
    )
    q.set_defaults(handler=cmd_init)
    q = wsub.add_parser(
        "repair",
        help="clean what an interrupted init or task merge left; "
        "prune worktrees whose folder is gone",
    )
    q.set_defaults(handler=cmd_repair)
    q = wsub.add_parser("list", help="every workspace with its branch and state")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_list)
    for name, helptext in (
        ("show", "one agent's workspace"),
        ("sync", "rebase the agent branch onto the base (agent idle)"),
        ("remove", "remove the agent's worktree (its branch is kept)"),
    ):
        q = wsub.add_parser(name, help=helptext)
        q.add_argument("agent")
        q.add_argument("--repo", help="which repository, when the agent has several")
        q.set_defaults(handler={"show": cmd_show, "sync": cmd_sync, "remove": cmd_remove}[name])
        if name == "show":
            q.add_argument("--json", action="store_true")
        if name == "sync":
            q.add_argument(
                "--merge", action="store_true", help="merge the base in instead of rebasing"
            )
        if name == "remove":
            q.add_argument(
                "--delete-branch",
                action="store_true",
                help="also delete the branch (only when merged into the base)",
            )


def register_agents(asub: Any) -> None:
    """Add ``agents onboard`` and ``agents reset`` under ``swarm agents``."""
    q = asub.add_parser("onboard", help="send the role template (who you are, how to report)")
    q.add_argument("agent", nargs="?", help="one agent (or --all)")
    q.add_argument("--all", action="store_true", help="every agent")
    q.set_defaults(handler=cmd_onboard)
    q = asub.add_parser("reset", help="clear an agent's conversation, then onboard it again")
    q.add_argument("agent")
    q.set_defaults(handler=cmd_reset)


async def cmd_onboard(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm agents onboard AGENT|--all``."""
    if bool(args.agent) == bool(args.all):
        raise InvalidInput("name one agent or give --all")
    chosen = list(service.agents) if args.all else [service.ctx(args.actor).agent(args.agent).id]
    for agent in chosen:
        message_id = await service.messages.onboard(agent, args.actor)
        print(f"onboarding of {agent} queued (message {message_id})")


async def cmd_reset(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm agents reset AGENT``."""
    agent = service.ctx(args.actor).agent(args.agent)
    message_id = await service.messages.reset(agent.id, args.actor)
    print(
        f"reset of {agent.id} queued (message {message_id}: {' then '.join(agent.reset)}), "
        "then its onboarding"
    )


def register_task(tsub: Any) -> None:
    """Add ``task diff`` and ``task merge`` under ``swarm task``."""
    q = tsub.add_parser("diff", help="the diff of a task's commits in its agent's workspace")
    q.add_argument("id")
    q.set_defaults(handler=cmd_task_diff)
    q = tsub.add_parser(
        "merge",
        help="merge a task's commits (fast-forward or merge commit); a task with a GitHub "
        "PR: merged on GitHub when its checks pass and a review approves",
    )
    q.add_argument("id")
    q.add_argument("--into", metavar="BRANCH", help="target branch (default: the base)")
    q.set_defaults(handler=cmd_task_merge, person_only="merging an agent's work")


async def cmd_task_diff(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task diff T-3``: the agent's bytes with their control characters shown
    escaped (an escape sequence in a diff would hide a line from its reviewer)."""
    from core.formats.text import MULTI_LINE, escape_controls

    sys.stdout.write(escape_controls(await service.workspaces.diff(args.id), keep=MULTI_LINE))


async def cmd_task_merge(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task merge T-3 [--into BRANCH]``: a task with a GitHub PR is merged there
    (checks green, a review approves, no conflict); any other locally."""
    if args.into is None:
        from core.github_loop.merge import merge_if_pull

        said = await merge_if_pull(service, args.configuration.github, args.id, args.actor)
        if said is not None:
            print(said)
            return
    print(await service.workspaces.merge(args.id, args.actor, args.into))


async def cmd_init(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm workspaces init REPO``."""
    from bot.cli.reservations import hook_command
    from core.workspaces import InitRequest, configured_over, init

    request = InitRequest(
        args.repo,
        tuple(args.agents),
        args.base,
        args.setup,
        tuple(args.copy),
        hook_command=hook_command(service, args),
    )
    stop = threading.Event()
    try:
        record = await asyncio.to_thread(init, service.settings.home, service.agents, request, stop)
    except asyncio.CancelledError:  # Ctrl+C: the thread removes what it made, then we exit
        stop.set()
        raise
    made = [record.workspaces[a] for a in _chosen(service, args.agents, record.workspaces)]
    for space in made:
        state = f"broken: {space.reason}" if space.reason else "ready"
        print(f"{space.agent}  {space.branch}  {space.path}  {state}")
        note = configured_over(service.agents[space.agent], space)
        if note:
            print(f"  {note}")
    broken = sum(1 for s in made if s.reason)
    print(f"{len(made) - broken} workspace(s) ready, {broken} broken, based on {record.base}")


def _chosen(service: SwarmService, names: list[str], made: dict[str, Any]) -> list[str]:
    from core.workspaces import resolve_agent

    ids = [resolve_agent(service.agents, n).id for n in names] if names else list(service.agents)
    return [a for a in dict.fromkeys(ids) if a in made]


async def cmd_repair(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm workspaces repair``."""
    from core.workspaces import repair_all

    folders = [Path(a.workspace) for a in service.agents.values() if a.workspace]
    done = await asyncio.to_thread(repair_all, service.settings.home, folders)
    print("\n".join(done) if done else "nothing to repair")


async def cmd_list(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm workspaces list``."""
    from core.workspaces import list_all

    rows = await asyncio.to_thread(list_all, service.settings.home, service.agents)
    if args.json:
        emit_json(rows)
        return
    print(
        fmt.table(
            ("agent", "repo", "branch", "state", "ahead", "behind", "changed", "path"),
            [
                (
                    r["agent"],
                    r["repo"] or "-",
                    r["branch"] or "-",
                    r["status"],
                    _num(r["ahead"]),
                    _num(r["behind"]),
                    _num(r["changed"]),
                    r["path"],
                )
                for r in rows
            ],
        )
        if rows
        else "no workspaces: swarm workspaces init REPO"
    )


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)


async def cmd_show(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm workspaces show AGENT``."""
    from core.workspaces import describe, require

    place = require(service.settings.home, service.agents, args.agent, args.repo)
    row = await asyncio.to_thread(describe, place)
    if args.json:
        emit_json(row)
        return
    for key in (
        "agent",
        "repo",
        "path",
        "branch",
        "base",
        "status",
        "reason",
        "ahead",
        "behind",
        "changed",
        "log",
    ):
        if row[key] is not None:
            print(f"{key + ':':9}{row[key]}")


async def cmd_sync(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm workspaces sync AGENT [--merge]``: only while the agent holds no task."""
    from core.workspaces import require, sync

    place = require(service.settings.home, service.agents, args.agent, args.repo)
    row = next(r for r in await service.roster.rows() if r["id"] == place.agent)
    if row["tasks"]:
        raise InvalidState(
            f"{place.agent} is working on {', '.join(row['tasks'])}: sync when "
            "it is idle (nothing changed)"
        )
    print(await asyncio.to_thread(lambda: sync(place, merge=args.merge)))


async def cmd_remove(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm workspaces remove AGENT [--delete-branch]``."""
    from core.workspaces import remove, require

    home = service.settings.home
    place = require(home, service.agents, args.agent, args.repo)
    print(await asyncio.to_thread(lambda: remove(home, place, delete_branch=args.delete_branch)))
