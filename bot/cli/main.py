"""The ``swarm`` command line: what people and agents type in a terminal.

:data:`GROUPS` lists the command groups, one module each with ``register(sub)``, and the
commands each adds; none of them imports this module. Kept light to start: a command's parser
is its group's alone, and heavy packages (discord, pyautogui) are imported only by the commands
that need them, so ``swarm task done`` answers quickly from an agent's terminal.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Any, NoReturn

from core.errors import InvalidInput
from core.formats.text import one_line
from core.settings import GLOBAL_VALUED

if TYPE_CHECKING:
    from bot.config import Config
    from core.service.swarm import SwarmService

log = logging.getLogger(__name__)
Handler = Callable[["SwarmService", argparse.Namespace], Awaitable[int | None]]

DESCRIPTION = """\
Coordinate a team of AI coding agents: tasks with priorities and dependencies,
messages into the agents' chat windows, and reports back from their terminals.

State lives in $SWARM_HOME (default ~/.swarm); agents are read from --config,
$SWARM_CONFIG, $SWARM_HOME/agents.toml or the bundled agents file.
Agents report back with: swarm task start T-12 / swarm task done T-12 --note "..."
"""


# the command groups (modules of ``bot.cli``), in the order ``swarm --help`` lists their
# commands, each with the commands its ``register`` adds: a command's parser is built from its
# group alone (``swarm task done`` imports and builds the task group, not all 25), so that an
# agent's report answers quickly; ``swarm hook`` (run at every event of an agent's CLI) loads
# its own module alone
GROUPS: dict[str, tuple[str, ...]] = {
    "agents": ("agents",),
    "tasks": ("task",),
    "messages": ("broadcast", "send"),
    "status": ("events", "status"),
    "kill_switch": ("pause", "resume"),
    "gc": ("gc",),
    "questions": ("ask", "reply"),
    "inbox": ("approve", "inbox", "reject"),
    "config_show": ("config",),
    "doctor": ("doctor",),
    "run": ("demo", "run"),
    "node": ("node",),
    "db": ("db",),
    "ai": ("plan", "summary", "usage"),
    "watch": ("alerts", "export", "schedule", "stats"),
    "costs": ("costs",),
    "web": ("web",),
    "mcp": ("mcp",),
    "workflows": ("campaign", "workflow"),
    "workspaces": ("workspaces",),
    "reservations": ("conflicts", "release", "reservations", "reserve"),
    "github": ("github",),
    "desktop_up": ("desktop",),
    "desktop_attach": ("attach",),
    "hook": ("hook",),
    "completion": ("__complete", "completion"),
}
WHOLE_TREE = ("completion",)  # commands that describe the whole tree
GLOBAL_FLAGS = ("-v", "--verbose")


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``swarm: error: ...``, exit 2), like every other error,
    and no abbreviated options: ``--conf`` is not ``--config`` (an option is what it says,
    for a person and for the sandbox's door, which refuses ``--config`` and ``--as``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Print one line and exit 2 (argparse prints its usage block otherwise); a mistyped
        command gets a "did you mean"."""
        self.exit(
            2, f"swarm: error: {one_line(message)}{_suggestion(message)} (see {self.prog} --help)\n"
        )


def _suggestion(message: str) -> str:
    """``; did you mean 'status'?`` for argparse's "invalid choice: 'staus'" errors."""
    import difflib
    import re

    found = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if found is None:
        return ""
    choices = re.findall(r"'?([\w-]+)'?", found.group(2))
    close = difflib.get_close_matches(found.group(1), choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move ``--as NAME``, ``--config FILE`` and ``-v`` given after the subcommand to the
    front, where argparse reads global options (``swarm task done T-1 --as Agent-2``), and
    ``--json`` given before it to the subcommand, which reads it (``swarm --json status``).
    Arguments after ``--`` are left alone."""
    front: list[str] = []
    rest: list[str] = []
    late: list[str] = []  # --json before the subcommand: it belongs to the subcommand
    args = iter(argv)
    for arg in args:
        if arg == "--":
            rest += [*late, arg, *args]
            late = []
            break
        if arg == "--json" and not any(not a.startswith("-") for a in rest):
            late.append(arg)
            continue
        name = arg.split("=", 1)[0]
        if name in GLOBAL_VALUED and "=" in arg:
            front.append(arg)
        elif arg in GLOBAL_VALUED:
            value = next(args, None)
            if value is None:  # left in place: argparse says "expected one argument"
                rest.append(arg)
            else:
                front += [arg, value]
        elif arg in GLOBAL_FLAGS:
            front.append(arg)
        else:
            rest.append(arg)
    return front + rest + late


def build_parser(command: str | None = None, groups: bool = True) -> argparse.ArgumentParser:
    """The command tree: ``command``'s group alone when it names a command, else the whole
    tree (``swarm --help``, a mistyped command, ``swarm completion``); the root alone when
    not ``groups`` (``swarm --version``); ``args.parser`` is the parser itself (``swarm
    completion`` describes it)."""
    parser = Parser(
        prog="swarm", description=DESCRIPTION, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--config", metavar="FILE", help="agents file (default: see above)")
    parser.add_argument(
        "--as",
        dest="actor",
        metavar="NAME",
        help="who is acting, recorded in events (default: $SWARM_AGENT or 'cli')",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output")
    parser.add_argument("--version", action=VersionAction)
    parser.set_defaults(parser=parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    whole = command is None or command in WHOLE_TREE
    group = None if whole else next((g for g, words in GROUPS.items() if command in words), None)
    for name in (GROUPS if group is None else (group,)) if groups else ():
        import_module(f"bot.cli.{name}").register(sub)
    return parser


def command_word(argv: Sequence[str]) -> str | None:
    """The command ``argv`` (global options hoisted to the front) names, or None when a
    help or version flag comes first."""
    args = iter(argv)
    for arg in args:
        if arg in GLOBAL_VALUED:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
        elif arg not in GLOBAL_FLAGS and arg.split("=", 1)[0] not in GLOBAL_VALUED:
            return None
    return None


def asks_version(argv: Sequence[str]) -> bool:
    """Whether ``argv`` (global options hoisted to the front) asks ``--version`` before any
    command or help: argparse answers it from the root alone."""
    args = iter(argv)
    for arg in args:
        if arg in GLOBAL_VALUED:
            next(args, None)
        elif arg == "--version":
            return True
        elif arg not in GLOBAL_FLAGS and arg.split("=", 1)[0] not in GLOBAL_VALUED:
            return False
    return False


class VersionAction(argparse.Action):
    """``--version``: the installed version, looked up only when asked (the lookup imports
    ``importlib.metadata`` and reads the installed packages: ~15 ms of every command)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        from core.version import swarm_version

        print(f"swarm {swarm_version()}")
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``swarm`` console script; returns the exit status.

    Every failure the user can do something about ends as one line ``swarm: error: ...`` and
    exit 2 (see :func:`bot.errors.describe`); a closed stdout (``| head``) ends quietly.
    """
    from bot.cli.errors import quiet_broken_pipe
    from bot.errors import describe

    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["hook"] and not {"-h", "--help"} & set(raw):  # light, never a failure
        from bot.cli import hook

        return hook.run(raw[1:])
    try:
        args = _parse(argv)
        from bot.cli import sandbox

        return sandbox.run(_run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return quiet_broken_pipe()
    except Exception as exc:
        message = describe(exc)
        if message is None:
            raise
        from bot.cli.sandbox import explained

        print(f"swarm: error: {explained(message)}", file=sys.stderr)
        return 2


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse ``argv``; set up logging and the actor. SwarmError on text that is not UTF-8."""
    from core.context import check_chars
    from core.logs.setup import configure_logging

    raw = list(sys.argv[1:] if argv is None else argv)
    for index, arg in enumerate(raw, 1):
        if any(0xD800 <= ord(c) <= 0xDFFF for c in arg):  # undecodable bytes (surrogateescape)
            raise InvalidInput(f"argument {index} is not valid UTF-8 text")
    hoisted = hoist_global_options(raw)
    parser = build_parser(command_word(hoisted), groups=not asks_version(hoisted))
    args = parser.parse_args(hoisted)
    args.actor_flag = args.actor is not None
    args.argv = raw  # as typed (a refused command is recorded with it)
    args.configuration = _configuration(args)
    configure_logging(args.configuration.env, verbose=args.verbose)
    args.actor = check_chars((args.actor or args.configuration.actor).strip(), "--as / SWARM_AGENT")
    if not args.actor or len(args.actor) > 100:
        raise InvalidInput("--as / SWARM_AGENT must be a name of 1 to 100 characters")
    return args


async def _run(args: argparse.Namespace) -> int:
    handler: Handler = args.handler
    if getattr(args, "no_service", False):
        return int(await handler(None, args) or 0)  # type: ignore[arg-type]
    from bot.app import Builder
    from bot.cli import trust
    from bot.cli.args import reads_only
    from core.errors import MissingDependency, UnknownTask

    service = await Builder(args.configuration).service(reads_only=reads_only(handler))
    if service.read_only is not None:
        print(
            f"swarm: warning: cannot write the database ({service.read_only}: is the "
            "disk full?), so it is shown read-only: free some space to change anything",
            file=sys.stderr,
        )
    try:
        await trust.check(service, args)  # a person's decisions: never an agent's terminal
        return int(await handler(service, args) or 0)
    except (UnknownTask, MissingDependency) as exc:  # the wrong SWARM_HOME is the usual cause
        raise type(exc)(f"{exc} (in {service.settings.database_shown})") from None
    finally:
        await service.close()


def _configuration(args: argparse.Namespace) -> Config:
    """The environment and ``.env``, read once for the whole command."""
    from bot.config import Config

    return Config.load(args.config)


if __name__ == "__main__":
    sys.exit(main())
