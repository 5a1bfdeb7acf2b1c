"""The agent CLIs swarm knows, one folder each (``claude_code``, ``codex``, ``gemini``,
``aider``, ``opencode``), each behind one protocol (``base.AgentCli``): what it is launched
by, how it resumes, its protocol route, its keys, its hook files and what their JSON says,
its MCP file, its rule file and saved real panes, its own logs and session files. Adding a
CLI is one folder here (docs/agents.md, "Adding a CLI"); ``CLIS`` lists them, and every
caller loops over it.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.clis import aider, claude_code, codex, gemini, mistral_vibe, opencode, qwen_code
from core.clis.base import AgentCli

if TYPE_CHECKING:
    from core.hosts.turns import Driver, Launched

CLIS: tuple[AgentCli, ...] = (
    claude_code.CLI,
    codex.CLI,
    gemini.CLI,
    aider.CLI,
    opencode.CLI,
    qwen_code.CLI,
    mistral_vibe.CLI,
)
BY_NAME = {cli.name: cli for cli in CLIS}

__all__ = [
    "BY_NAME", "CLIS", "AgentCli", "by_name", "for_command", "own_driver", "panes",
    "protocol_command", "protocols",
    "sessions_folder", "with_launch_args", "with_report_args",
]  # fmt: skip


def protocols() -> tuple[str, ...]:
    """The protocols the CLIs speak (``"acp"`` and each CLI's own)."""
    return tuple(sorted({cli.protocol for cli in CLIS if cli.protocol}))


def own_driver(protocol: str) -> Callable[[Launched], Driver] | None:
    """The driver of a CLI's own protocol (None: ACP, or a protocol no CLI speaks)."""
    return next((cli.protocol_driver for cli in CLIS
                 if cli.protocol == protocol and cli.protocol_driver), None)  # fmt: skip


def by_name(name: str | None) -> AgentCli | None:
    """The CLI of an agents file's ``cli`` key (None: unknown or not set)."""
    return BY_NAME.get(name) if name else None


def panes(name: str) -> Path:
    """The saved real panes of the CLI named ``name`` (KeyError: no such CLI)."""
    return BY_NAME[name].panes


def for_command(command: str) -> AgentCli | None:
    """The CLI a command line starts (``claude --model x``, ``/opt/bin/codex``, ``env A=1
    gemini``); None when its program is none of them."""
    found = _program(command)
    return found[0] if found else None


def with_launch_args(command: str) -> str:
    """``command`` with its CLI's ``launch_args`` right after the program (Codex: its
    background server off), unless the command has them already or is none of the CLIs'."""
    found = _program(command)
    if found is None or not found[0].launch_args:
        return command
    cli, words, at = found
    if all(arg in words for arg in cli.launch_args):
        return command
    return shlex.join([*words[: at + 1], *cli.launch_args, *words[at + 1 :]])


def with_report_args(command: str, swarm: str, cli: AgentCli | None = None) -> str:
    """``command`` (a CLI's command line) with what lets it run swarm's report commands
    unasked (``AgentCli.report_args``, at its end: an option that takes several values ends
    there), for the agent whose ``swarm`` command is ``swarm``; as it is for a CLI with
    none, or a command swarm cannot read."""
    found = cli or for_command(command)
    if found is None or found.report_args is None:
        return command
    return f"{command} {shlex.join(found.report_args(swarm))}"


def _program(command: str, given: AgentCli | None = None) -> tuple[AgentCli, list[str], int] | None:
    """The CLI of ``command``'s program (``given``: whatever the program is), its words and
    the program's index."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    at = 0
    while at < len(words) and (words[at] == "env" or "=" in words[at]):
        at += 1  # "env A=1 B=2 prog", "A=1 prog"
    if at >= len(words):
        return None
    program = Path(words[at]).name
    cli = given or next((cli for cli in CLIS if program in cli.programs), None)
    return (cli, words, at) if cli else None


def protocol_command(command: str, cli: AgentCli | None = None) -> list[str]:
    """``command`` (the user's, e.g. ``env A=1 gemini --model x``) as the argv that speaks
    its CLI's protocol: the CLI's ``protocol_args`` right after the program, or its program
    replaced by the CLI's adapter (its arguments kept). ValueError in one line when its CLI
    has no protocol route or the command is not one of the CLIs'."""
    found = _program(command)
    if found is None and cli is not None:  # a wrapper script, a binary by another name
        found = _program(command, cli)
    if found is None:
        raise ValueError(f"{command!r} starts none of the agent CLIs swarm knows")
    known, words, at = found
    cli = cli or known
    if not cli.speaks_protocol:
        raise ValueError(f"{cli.title} has no protocol route swarm speaks (use tmux)")
    before, program, after = words[:at], words[at], words[at + 1 :]
    if cli.protocol_adapter:
        program = _beside(program, cli.protocol_adapter)
    elif all(arg in after for arg in cli.protocol_args):
        return words
    else:
        after = [*cli.protocol_args, *after]
    if before and before[0] == "env":
        return [*before, program, *after]
    return ["env", *before, program, *after] if before else [program, *after]


def _beside(program: str, adapter: str) -> str:
    """``adapter`` from the folder of ``program`` when the program is named by a path and the
    adapter is installed there (an npm ``.bin``), else by its name (found on the PATH)."""
    folder = Path(program).parent
    if str(folder) not in ("", ".") and shutil.which(adapter, path=str(folder)):
        return str(folder / adapter)
    return adapter


def sessions_folder(cli: AgentCli, argv: Sequence[str], env: Mapping[str, str]) -> Path | None:
    """``cli``'s own folder (its session files, ``SessionFiles.config_folder``) when
    ``argv`` (``protocol_command``'s) runs in ``env``, with the ``env A=1`` before its
    program; None when it cannot be known: the CLI writes no session files swarm reads, its
    ``env`` has options, or its program is none of the CLI's own (a wrapper may set any
    environment)."""
    if cli.sessions is None or not argv:
        return None
    words = list(argv)
    at = 1 if words[0] == "env" else 0
    given: dict[str, str] = {}
    while at < len(words) and "=" in words[at] and not words[at].startswith("-"):
        name, _, value = words[at].partition("=")
        given[name] = value
        at += 1
    if at >= len(words) or words[at].startswith("-"):
        return None
    if Path(words[at]).name not in (*cli.programs, cli.protocol_adapter):
        return None
    folder = cli.sessions.config_folder({**env, **given})
    return folder if folder is not None and folder.is_absolute() else None
