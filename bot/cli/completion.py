"""``swarm completion bash|zsh|fish``: shell completion generated from the real argparse tree.

The script holds the tree as tables (subcommands, options, what each argument takes); task
and agent ids come from the hidden ``swarm __complete tasks|agents`` when Tab is pressed.

Why not argcomplete (3.7, measured): set up to pass ``tests/cli/test_cli_completion.py`` in
bash, zsh and fish (options only after ``-``, nothing where no kind is known, the global
options on every subcommand, ids by completers), it does; and ``swarm --help`` costs the
same when it is imported only under ``_ARGCOMPLETE``. But every Tab then starts Python and
builds the whole command tree: a command's or an option's Tab took ~0.7 s where these
tables take ~10 ms (an id's, 1.2 s against 0.7 s; medians on a busy two-core machine),
and its bash registration (``-o default``) offers file names where nothing is to be typed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.completion_scripts import Node, render

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

SHELLS = ("bash", "zsh", "fish")
ID_KINDS = ("tasks", "agents")
ID_LIMIT = 200  # the newest task ids a Tab offers
TASK_DESTS = frozenset({"task", "tasks", "after"})
AGENT_DESTS = frozenset({"agent", "agents"})
NOT_TASK_IDS = ("schedule", "campaign")  # their ``id`` is S-3 / C-3
FILE_METAVARS = frozenset({"FILE", "PNG"})


def register(sub: Any) -> None:
    """Add ``completion`` and the hidden ``__complete``."""
    p = sub.add_parser(
        "completion", help='print a shell completion script: eval "$(swarm completion bash)"'
    )
    p.add_argument("shell", choices=SHELLS)
    p.set_defaults(handler=cmd_completion, no_service=True)
    p = sub.add_parser("__complete")  # no help: not listed
    p.add_argument("kind", choices=ID_KINDS)
    p.set_defaults(handler=cmd_complete, no_service=True)


def command_tree(parser: argparse.ArgumentParser) -> dict[str, Node]:
    """Every command path (``""``, ``"task"``, ``"task add"`` ...) with its node; the global
    options are valid everywhere (they may follow the subcommand)."""
    nodes: dict[str, Node] = {}
    _walk(parser, "", nodes)
    root = nodes[""]
    for path, node in nodes.items():
        if path:
            node.options += [o for o in root.options if o not in ("--version", "-h", "--help")]
            node.valued |= root.valued
    return nodes


def _walk(parser: argparse.ArgumentParser, path: str, nodes: dict[str, Node]) -> None:
    node = nodes[path] = Node()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if not name.startswith("_"):
                    node.subcommands.append(name)
                    _walk(sub, f"{path} {name}".strip(), nodes)
        elif action.option_strings:
            node.options += action.option_strings
            if action.nargs != 0:
                node.valued |= dict.fromkeys(action.option_strings, _kind(action, path))
        else:
            node.arguments.append(_kind(action, path))
            node.repeats = action.nargs in ("+", "*")


def _kind(action: argparse.Action, path: str) -> str:
    """What an argument takes: ``tasks``, ``agents``, ``files``, ``a|b`` (choices) or ``-``."""
    if action.choices:
        return "|".join(str(c) for c in action.choices)
    dest = action.dest
    if dest in AGENT_DESTS:
        return "agents"
    if dest in TASK_DESTS or (dest == "id" and not path.startswith(NOT_TASK_IDS)):
        return "tasks"
    if action.type is Path or action.metavar in FILE_METAVARS or dest == "config":
        return "files"
    return "-"


async def cmd_completion(_: SwarmService | None, args: argparse.Namespace) -> None:
    """``swarm completion bash|zsh|fish``: the tree of ``args.parser``, the whole command's
    parser (set by :func:`bot.cli.main.build_parser`, which imports this module)."""
    print(render(args.shell, command_tree(args.parser)), end="")


async def cmd_complete(_: SwarmService | None, args: argparse.Namespace) -> None:
    """``swarm __complete tasks|agents``: ids, one a line; nothing when there is no SQLite
    file (Tab never creates one). Tasks are read through the store alone, not the whole
    service (each Tab is a new process: half its imports)."""
    settings = args.configuration.core
    if args.kind == "agents":
        from core.agents_file import load_agents

        print("\n".join(a.id for a in load_agents(settings.config_path)))
        return
    from core.tasks import newest_refs

    refs = await newest_refs(settings, ID_LIMIT)
    if refs:
        print("\n".join(refs))
