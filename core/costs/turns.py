"""A turn's usage into the ledger, and the budgets it counts against checked, in the
transaction that records the turn: the protocol route's ``turn_end`` and ``turn_error``
(``core.agents.protocol_events``) and the CLIs' own files (``core.clis``' readers)."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.clis import by_name
from core.context import Ctx
from core.costs import budgets, ledger
from core.models import Agent
from core.store.conn import Conn
from core.workspaces.manifest import worktree_of

PROTOCOL = "protocol"


class UsageSource(enum.Enum):
    """Where a protocol agent's turns' usage is read (its CLI's ``protocol_usage``)."""

    TURN_END = "its protocol's turn ends"
    SESSIONS = "its CLI's session files"
    UNKNOWN = "nowhere"


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
        return UsageSource.TURN_END, "from its protocol's turn ends"
    assert agent is not None
    if not agent.cli_dir:
        return UsageSource.UNKNOWN, f"unknown: {cli.title} says no turn usage over its protocol, " + (
            _NO_CLI_DIR if agent.cli_dir is None else unknown_folder(cli.title)
        )
    if workspace_of(agent, home) is None:
        return UsageSource.UNKNOWN, f"unknown: {cli.title} says no turn usage over its protocol, " + (
            NO_WORKSPACE
        )
    return UsageSource.SESSIONS, f"from {cli.title}'s session files in {agent.cli_dir}"


_NO_CLI_DIR = (
    "and the agents file names no cli_dir (the folder of its session files, which swarm "
    "desktop up --protocol writes)"
)
NO_WORKSPACE = (
    "and the folder it works in is not known (no workspace = in the agents file, and swarm "
    "workspaces init made no worktree for it, or several): its session files cannot be told "
    "from other folders'"
)


def unknown_folder(title: str) -> str:
    """Why the folder of ``title``'s session files is not known (``cli_dir = ""``)."""
    return (
        f"and where it writes its session files is not known: its command is no {title} "
        "program of its own (a wrapper script, or env with options, may set any environment): "
        f'set cli_dir = "/the/folder" in its [[agent]] table (where {title} keeps its files, '
        "e.g. its HOME's)"
    )


def usage_said(agent: Agent, cli_dirs: Mapping[str, Path], home: Path | None = None) -> str | None:
    """Where ``agent``'s turns' usage comes from, in words (``swarm agents explain``); None
    for an agent of no CLI swarm reads usage from. A folder that is named but not there
    reads nothing, so it says so (a moved HOME, a host on another machine)."""
    if agent.delivery == "protocol":
        source, said = protocol_usage(agent, home)
        missing = source is UsageSource.SESSIONS and not Path(agent.cli_dir or "").is_dir()
        return f"none read: {agent.cli_dir} (its cli_dir) is not a folder here" if missing else said
    cli = by_name(agent.cli)
    if cli is None or cli.sessions is None or agent.delivery not in ("tmux", "gui"):
        return None
    folder = terminal_folder(agent, cli_dirs)
    if agent.cli_dir == "":
        return f"unknown: {cli.title}'s turns are not read, " + unknown_folder(cli.title)
    if folder is None:
        return f"unknown: the folder of {cli.title}'s session files is not known (no HOME)"
    if workspace_of(agent, home) is None:
        return f"unknown: {cli.title}'s turns are not read, " + NO_WORKSPACE
    if not folder.is_dir():
        return f"none read: {cli.title}'s session folder {folder} is not a folder here"
    return f"from {cli.title}'s session files in {folder}"


def terminal_folder(agent: Agent, cli_dirs: Mapping[str, Path]) -> Path | None:
    """The folder of a tmux or desktop agent's CLI's session files: its ``cli_dir`` (which
    ``swarm desktop up`` writes), else the one of swarm's environment; None: not known
    (``cli_dir = ""``: its command is a wrapper)."""
    if agent.cli_dir is not None:
        return Path(agent.cli_dir) if agent.cli_dir else None
    return cli_dirs.get(agent.cli or "")


def usage_unknown(agent: Agent, cli_dirs: Mapping[str, Path], home: Path | None) -> bool:
    """Whether ``agent``'s turns' usage cannot be read (``usage_said`` says "unknown")."""
    said = usage_said(agent, cli_dirs, home)
    return said is not None and said.startswith("unknown")


def record_protocol_turn(
    conn: Conn, ctx: Ctx, agent: str, task_id: int | None, entry: Mapping[str, Any]
) -> None:
    """The usage of a protocol agent's turn (its journal's ``turn_end`` or ``turn_error``
    entry: ``usage``, ``cost_usd``, ``meta.model``), once per entry; none when its CLI's
    session files count it (``protocol_usage``); a turn whose usage is known from neither
    is a turn of unknown usage and cost (never of none)."""
    source, _ = protocol_usage(ctx.agents.get(agent), ctx.settings.home)
    if source is UsageSource.SESSIONS:
        return
    usage = ledger.Usage.from_wire(entry.get("usage")) if source is UsageSource.TURN_END else None
    cost = ledger.given_cost(entry.get("cost_usd"))
    meta = entry.get("meta")
    model = meta.get("model") if isinstance(meta, Mapping) else None
    ref = f"{PROTOCOL}:{agent}:{entry.get('delivery')}:{entry.get('seq')}:{entry.get('type')}"
    if usage is None and cost is not None:  # a cost said alone: its tokens none said
        usage = ledger.Usage()
    turn = ledger.Turn(
        agent, ref, PROTOCOL, usage, task_id,
        str(model)[:200] if isinstance(model, str) else None, cost,
    )  # fmt: skip
    take(conn, ctx, turn)


def take(conn: Conn, ctx: Ctx, turn: ledger.Turn) -> bool:
    """Record ``turn`` and check its budgets; False when it was recorded before."""
    if ledger.record(conn, ctx, turn) is False:
        return False
    budgets.after_turn(conn, ctx, turn.agent, turn.task_id)
    return True


TRANSCRIPT = "transcript"


def record_transcript_turns(
    conn: Conn, ctx: Ctx, agent: str, turns: Sequence[tuple[Any, int | None]]
) -> int:
    """The turns a CLI's own files told (``core.clis``' readers: ``ref``, ``model``,
    ``usage``, ``cost_usd``), each with the task it was spent for, each once; how many were
    new."""
    new = 0
    for turn, task_id in turns:
        usage = ledger.Usage.from_wire(turn.usage) or ledger.Usage()
        cost = ledger.given_cost(turn.cost_usd)
        new += take(conn, ctx, ledger.Turn(agent, turn.ref, TRANSCRIPT, usage, task_id,
                                           turn.model, cost))  # fmt: skip
    return new
