"""``swarm reserve|release|conflicts|reservations``: file reservations, the CLI twins of the
agents' MCP tools, and ``swarm reservations check-commit``, what the pre-commit hook runs.

Who is asking: ``--agent A``, else ``--as`` / ``SWARM_AGENT`` (what an agent's terminal
has); one-line errors otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli import format as fmt
from bot.cli.args import only_reads
from bot.cli.output import emit_json
from core.errors import InvalidInput, ReservationConflict
from core.formats.timetext import local_text
from core.reservations import released_text
from core.settings import AGENT, CONFIG

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

WHO = "say which agent you are: --agent A (or SWARM_AGENT=A in the agent's terminal)"
SHOWN_CONFLICTS = 5


def register(sub: Any) -> None:
    """Add ``reserve``, ``release``, ``conflicts`` and ``reservations``."""
    q = sub.add_parser(
        "reserve",
        help="reserve paths or globs for your task (exclusive unless --shared)",
        description="Reserve files (paths or globs relative to the repository root: "
        "src/api/**, *.md, src/x.py) for your current task: held until the task ends or "
        "the --ttl runs out. Refused, naming the holder and task, when another agent holds "
        "an overlapping exclusive reservation (or any, for an exclusive one).",
    )
    q.add_argument("patterns", nargs="+", metavar="PATTERN")
    q.add_argument("--shared", action="store_true", help="others may reserve shared too")
    q.add_argument("--ttl", metavar="AGE", help="release after AGE (90, 20s, 30m, 2h)")
    _agent_option(q)
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_reserve)
    q = sub.add_parser("release", help="release your reservations (all, or these patterns)")
    q.add_argument("patterns", nargs="*", metavar="PATTERN")
    _agent_option(q)
    q.set_defaults(handler=cmd_release)
    q = sub.add_parser("conflicts", help="whose reservations these paths or globs touch")
    q.add_argument("paths", nargs="+", metavar="PATH")
    q.add_argument("--agent", help="leave this agent's own out (default: $SWARM_AGENT)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_conflicts)
    p = sub.add_parser("reservations", help="live file reservations (every agent's)")
    p.add_argument("--agent", help="only this agent's")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)
    rsub = p.add_subparsers(
        dest="reservations_command", metavar="ACTION", help="none: list the reservations"
    )
    q = rsub.add_parser(
        "check-commit",
        help="refuse a commit touching another agent's exclusive reservation (the "
        "pre-commit hook runs it; git commit --no-verify skips it)",
    )
    _agent_option(q)
    q.add_argument(
        "--index",
        help="the index file to read the staged files from (the hook passes git's "
        "GIT_INDEX_FILE when the check runs through a sandbox's door)",
    )
    q.set_defaults(handler=cmd_check_commit)
    q = rsub.add_parser(
        "install-hook",
        help="install the pre-commit hook in agents' worktrees made before it existed "
        "(workspaces init installs it)",
    )
    q.add_argument("--agent", help="only this agent's worktrees (default: every agent's)")
    q.set_defaults(handler=cmd_install_hook)


def _agent_option(parser: Any) -> None:
    parser.add_argument("--agent", help="who you are (default: $SWARM_AGENT or --as)")


def caller(service: SwarmService, args: argparse.Namespace) -> str:
    """The configured agent asking: ``--agent``, else ``--as`` / ``SWARM_AGENT``."""
    name = args.agent
    if not name and (args.actor_flag or AGENT.read(args.configuration.env)):
        name = args.actor
    if not name:
        raise InvalidInput(WHO)
    return service.resolve_agent(name).id


def ttl_seconds(raw: str | None) -> float | None:
    """``--ttl`` in seconds (None without one)."""
    if raw is None:
        return None
    from core.schedules.timing import parse_every

    return parse_every(raw)


async def cmd_reserve(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm reserve PATTERN... [--shared] [--ttl 30m]``."""
    agent = caller(service, args)
    made = await service.reservations.reserve(
        agent, args.patterns, exclusive=not args.shared, ttl_s=ttl_seconds(args.ttl)
    )
    if args.json:
        emit_json([r.to_json() for r in made])
        return
    for r in made:
        print(r.reserved_text())


async def cmd_release(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm release [PATTERN...]``."""
    agent = caller(service, args)
    count = await service.reservations.release(agent, args.patterns or None)
    print(released_text(agent, count))


@only_reads
async def cmd_conflicts(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm conflicts PATH...``."""
    mine = args.agent or AGENT.read(args.configuration.env)
    found = await service.reservations.conflicts(args.paths, agent=mine)
    if args.json:
        emit_json([c.to_json() for c in found])
        return
    if not found:
        print("no reservation touches " + ", ".join(args.paths))
    for c in found:
        print(c.describe())


@only_reads
async def cmd_list(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm reservations [--agent A] [--json]``."""
    rows = await service.reservations.held(args.agent)
    if args.json:
        emit_json([r.to_json() for r in rows])
        return
    if not rows:
        print("no file reservations")
        return
    print(
        fmt.table(
            ("agent", "pattern", "mode", "task", "since", "expires"),
            [
                (
                    r.agent,
                    r.pattern,
                    r.mode,
                    r.task or "-",
                    local_text(r.created_at, "%H:%M:%S"),
                    local_text(r.expires_at, "%H:%M:%S")
                    if r.expires_at
                    else "with the task"
                    if r.task
                    else "-",
                )
                for r in rows
            ],
        )
    )


@only_reads
async def cmd_check_commit(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm reservations check-commit --agent A``: ReservationConflict (exit 2, one line)
    when the staged files touch another agent's exclusive reservation."""
    from core.workspaces import GitFailed, staged_files

    agent = caller(service, args)
    try:
        files = await asyncio.to_thread(staged_files, Path.cwd(), args.index)
    except GitFailed as exc:
        raise InvalidInput(f"not in a git worktree: {exc.output.strip()}") from None
    found = await service.reservations.files_touching(files, agent)
    if not found:
        return
    shown = "; ".join(c.describe() for c in found[:SHOWN_CONFLICTS])
    more = f" (and {len(found) - SHOWN_CONFLICTS} more)" if len(found) > SHOWN_CONFLICTS else ""
    raise ReservationConflict(
        f"commit refused: {shown}{more}. Leave those files alone, ask the holder, "
        "or commit with --no-verify (recorded at merge)"
    )


async def cmd_install_hook(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm reservations install-hook [--agent A]``: in every swarm worktree of the agents."""
    wanted = service.resolve_agent(args.agent).id if args.agent else None
    command = hook_command(service, args)
    done = await asyncio.to_thread(_install_hooks, service.settings.home, wanted, command)
    if not done:
        raise InvalidInput(
            "no swarm worktree" + (f" of {wanted}" if wanted else "") + ": swarm workspaces init"
        )
    print("\n".join(done))


def _install_hooks(home: Path, wanted: str | None, command: list[str]) -> list[str]:
    from core.workspaces import GitFailed, manifest, reservation_hook

    done = []
    for record in manifest.load_all(home):
        for space in record.workspaces.values():
            if wanted not in (None, space.agent) or not Path(space.path).is_dir():
                continue
            try:
                folder = reservation_hook.install(Path(space.path), command, space.agent)
            except (GitFailed, OSError) as exc:
                done.append(f"{space.agent}: {space.path}: not installed: {exc}")
            else:
                done.append(f"{space.agent}: {space.path}: pre-commit hook in {folder}")
    return done


def hook_command(service: SwarmService, args: argparse.Namespace) -> list[str]:
    """How the pre-commit hook runs ``swarm``: ``[SWARM_HOME=...] /path/python -m
    bot.cli.main`` (never a database URL: it may hold a password)."""
    words = []
    if service.settings.custom_home is not None:
        words.append(f"SWARM_HOME={service.settings.custom_home}")
    if args.config or CONFIG.read(args.configuration.env):
        words.append(f"SWARM_CONFIG={service.settings.config_path.absolute()}")
    return [*words, sys.executable, "-I", "-m", "bot.cli.main"]
