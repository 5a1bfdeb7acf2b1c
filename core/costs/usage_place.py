"""Where an agent's turns' usage is read, and why it cannot be (``swarm agents explain``):
its protocol's turn ends, its CLI's session files (in its ``cli_dir``, or for a wrapper
script the folder its running CLI's process names: ``core.costs.followed``; for the
workspace swarm knows), or nowhere."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from core.clis import by_name
from core.costs import followed
from core.models import Agent
from core.workspaces import worktree_of

if TYPE_CHECKING:
    from core.hosts.entries import TurnEnd


class UsageSource(enum.Enum):
    """Where a protocol agent's turns' usage is read (its CLI's ``protocol_usage``)."""

    TURN_END = "its protocol's turn ends"
    SESSIONS = "its CLI's session files"
    UNKNOWN = "nowhere"


USAGE_FILE = "usage.jsonl"  # a gateway's usage records, in its agent's records folder
WIRE_SAID = (
    "from the wire: swarm's model gateway's count of each answer (what its CLI reports is "
    "kept beside it and compared)"
)


def metered(agent: Agent | None) -> bool:
    """Whether ``agent``'s model answers pass through swarm's gateway, its turns booked from
    the gateway's records (``core.costs.wire``): sandboxed with a network of its own, said
    (``"model"``) or its CLI's default (a gateway set-up), or unsandboxed with ``gateway =
    true``; on this machine (a node's agent's gateway writes its records on the node's: its
    CLI's reports stay its count)."""
    if agent is None or agent.node is not None:
        return False
    if agent.sandbox is None:
        return agent.gateway  # (the agents file takes it only for a CLI with a gateway set-up)
    network, cli = agent.sandbox.network, by_name(agent.cli)
    return network == "model" or (network == "" and cli is not None and cli.model_wire is not None)


def usage_file(home: Path, agent: str) -> Path:
    """Where ``agent``'s gateway writes its usage records."""
    return home / "gateway" / agent / "records" / USAGE_FILE


def workspace_of(agent: Agent, home: Path | None) -> str | None:
    """The folder ``agent`` works in, as swarm knows it: ``workspace`` in the agents file,
    else the worktree ``swarm workspaces init`` made for it (under ``home``); None: neither."""
    if agent.workspace:
        return agent.workspace
    return worktree_of(home, agent.id) if home is not None else None


def protocol_usage(agent: Agent | None, home: Path | None = None) -> tuple[UsageSource, str]:
    """Where ``agent``'s protocol turns' usage comes from, and in words: its protocol's turn
    end (Claude Code's), its CLI's session files in its ``cli_dir`` (the CLI's
    ``protocol_usage = "sessions"``: Codex, Gemini CLI, opencode; read by
    ``core.watch.usage_files``, for its workspace: ``workspace_of``), or nowhere: that
    folder or that workspace is not known (its turns are counted of unknown usage and
    cost). An agent off the protocol route has no host: an entry said of it is taken at its
    word."""
    cli = by_name(agent.cli) if agent is not None else None
    off_route = agent is None or agent.delivery != "protocol"
    if cli is None or cli.protocol_usage == "turn_end" or off_route:
        added = " (what each added to its session's running total)"
        said = added if cli is not None and cli.cumulative_usage and not off_route else ""
        return UsageSource.TURN_END, f"from its protocol's turn ends{said}"
    assert agent is not None
    why = f"unknown: {cli.title} says no turn usage over its protocol, "
    folder = cli_folder(agent, home)
    if folder is None:
        return UsageSource.UNKNOWN, why + (
            _NO_CLI_DIR if agent.cli_dir is None else unknown_folder(cli.title, agent, home)
        )
    if workspace_of(agent, home) is None:
        return UsageSource.UNKNOWN, why + NO_WORKSPACE
    return UsageSource.SESSIONS, f"from {cli.title}'s session files in {folder}" + _how(agent, home)


def cli_folder(agent: Agent, home: Path | None) -> str | None:
    """The folder of ``agent``'s CLI's files as known: its ``cli_dir``; for a wrapper
    (``cli_dir = ""``, unsandboxed) the one its running CLI's process names
    (``core.costs.followed``); None: neither."""
    if agent.cli_dir:
        return agent.cli_dir
    found = followed.running(home, agent.id) if followable(agent) else None
    return found.folder if found is not None else None


def followable(agent: Agent) -> bool:
    """Whether ``agent``'s CLI's folder is looked for in its running process: its command
    a wrapper (``cli_dir = ""``), on this machine, not sandboxed (a sandbox's folder is its
    own copy, known), of a CLI whose session files swarm reads."""
    cli = by_name(agent.cli)
    return (
        agent.cli_dir == "" and agent.sandbox is None and agent.node is None
        and cli is not None and cli.sessions is not None
    )  # fmt: skip


def _how(agent: Agent, home: Path | None) -> str:
    """`` (followed from its CLI's process ...)`` for a wrapper's folder, else nothing."""
    found = followed.running(home, agent.id) if followable(agent) else None
    return f" ({found.said()})" if found is not None else ""


def running_total(agent: Agent | None, end: TurnEnd | None) -> bool:
    """Whether a protocol turn end's ``usage`` is its session's running total as ``agent``'s
    CLI said it (``cumulative_usage``), not the turn's: journaled by a host started without
    ``--cumulative-usage`` (before it was given), with no ``session_usage`` beside it."""
    cli = by_name(agent.cli) if agent is not None and agent.delivery == "protocol" else None
    said = end is not None and end.session_usage is not None
    return cli is not None and cli.cumulative_usage and not said


_NO_CLI_DIR = (
    "and the agents file names no cli_dir (the folder of its session files, which swarm "
    "desktop up --protocol writes)"
)
NO_WORKSPACE = (
    "and the folder it works in is not known (no workspace = in the agents file, and swarm "
    "workspaces init made no worktree for it, or several): its session files cannot be told "
    "from other folders'"
)


def unknown_folder(title: str, agent: Agent | None = None, home: Path | None = None) -> str:
    """Why the folder of ``title``'s session files is not known (``cli_dir = ""``), with
    why its running process could not be followed when a look said so."""
    why = followed.why_not(home, agent.id) if agent is not None and followable(agent) else None
    return (
        f"and where it writes its session files is not known: its command is no {title} "
        "program of its own (a wrapper script, or env with options, may set any environment)"
        + (f" and its process could not be followed ({why})" if why else "")
        + f': set cli_dir = "/the/folder" in its [[agent]] table (where {title} keeps its '
        "files, e.g. its HOME's)"
    )


def usage_said(agent: Agent, cli_dirs: Mapping[str, Path], home: Path | None = None) -> str | None:
    """Where ``agent``'s turns' usage comes from, in words (``swarm agents explain``); None
    for an agent of no CLI swarm reads usage from. A folder that is named but not there
    reads nothing, so it says so (a moved HOME, a host on another machine). A gateway
    agent's is the gateway's count (``metered``)."""
    if metered(agent):
        return WIRE_SAID
    if agent.delivery == "protocol":
        source, said = protocol_usage(agent, home)
        known = cli_folder(agent, home) or ""
        missing = source is UsageSource.SESSIONS and not Path(known).is_dir()
        return f"none read: {known} (its cli_dir) is not a folder here" if missing else said
    cli = by_name(agent.cli)
    if cli is None or cli.sessions is None or agent.delivery not in ("tmux", "gui"):
        return None
    folder = terminal_folder(agent, cli_dirs, home)
    if agent.cli_dir == "" and folder is None:
        return f"unknown: {cli.title}'s turns are not read, " + unknown_folder(
            cli.title, agent, home
        )
    if folder is None:
        return f"unknown: the folder of {cli.title}'s session files is not known (no HOME)"
    if workspace_of(agent, home) is None:
        return f"unknown: {cli.title}'s turns are not read, " + NO_WORKSPACE
    if not folder.is_dir():
        return f"none read: {cli.title}'s session folder {folder} is not a folder here"
    return (
        f"from {cli.title}'s session files in {folder}{_how(agent, home)}, for its workspace "
        "(of the sessions its hooks named, once they name one)"
    )


def terminal_folder(
    agent: Agent, cli_dirs: Mapping[str, Path], home: Path | None = None
) -> Path | None:
    """The folder of a tmux or desktop agent's CLI's session files: its ``cli_dir`` (which
    ``swarm desktop up`` writes), else the one of swarm's environment; for a wrapper
    (``cli_dir = ""``) the one its running CLI's process names (``cli_folder``); None: not
    known."""
    if agent.cli_dir is not None:
        known = cli_folder(agent, home)
        return Path(known) if known else None
    return cli_dirs.get(agent.cli or "")


def usage_unknown(agent: Agent, cli_dirs: Mapping[str, Path], home: Path | None) -> bool:
    """Whether ``agent``'s turns' usage cannot be read (``usage_said`` says "unknown")."""
    said = usage_said(agent, cli_dirs, home)
    return said is not None and said.startswith("unknown")
