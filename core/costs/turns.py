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

PROTOCOL = "protocol"


class UsageSource(enum.Enum):
    """Where a protocol agent's turns' usage is read (its CLI's ``protocol_usage``)."""

    TURN_END = "its protocol's turn ends"
    SESSIONS = "its CLI's session files"
    UNKNOWN = "nowhere"


def protocol_usage(agent: Agent | None) -> tuple[UsageSource, str]:
    """Where ``agent``'s protocol turns' usage comes from, and in words: its protocol's turn
    end (Claude Code's), its CLI's session files in its ``cli_dir`` (the CLI's
    ``protocol_usage = "sessions"``: Codex, Gemini CLI, opencode; read by
    ``core.watch.usage_files``, for its ``workspace``), or nowhere: those files' folder
    or workspace is not known (its turns are counted of unknown cost). An agent off the
    protocol route has no host: an entry said of it is taken at its word."""
    cli = by_name(agent.cli) if agent is not None else None
    off_route = agent is None or agent.delivery != "protocol"
    if cli is None or cli.protocol_usage == "turn_end" or off_route:
        return UsageSource.TURN_END, "from its protocol's turn ends"
    if agent is not None and agent.cli_dir and agent.workspace:
        return UsageSource.SESSIONS, f"from {cli.title}'s session files in {agent.cli_dir}"
    return UsageSource.UNKNOWN, (
        f"unknown: {cli.title} says no turn usage over its protocol and its session files "
        "cannot be read (no cli_dir, which swarm desktop up --protocol writes, or no workspace)"
    )


def usage_said(agent: Agent, cli_dirs: Mapping[str, Path]) -> str | None:
    """Where ``agent``'s turns' usage comes from, in words (``swarm agents explain``); None
    for an agent of no CLI swarm reads usage from. A folder that is named but not there
    reads nothing, so it says so (a moved HOME, a host on another machine)."""
    if agent.delivery == "protocol":
        source, said = protocol_usage(agent)
        missing = source is UsageSource.SESSIONS and not Path(agent.cli_dir or "").is_dir()
        return f"none read: {agent.cli_dir} (its cli_dir) is not a folder here" if missing else said
    cli = by_name(agent.cli)
    if cli is None or cli.sessions is None or agent.delivery not in ("tmux", "gui"):
        return None
    folder = cli_dirs.get(cli.name)
    if folder is None:
        return f"unknown: the folder of {cli.title}'s session files is not known (no HOME)"
    if not folder.is_dir():
        return f"none read: {cli.title}'s session folder {folder} is not a folder here"
    return f"from {cli.title}'s session files in {folder}"


def record_protocol_turn(
    conn: Conn, ctx: Ctx, agent: str, task_id: int | None, entry: Mapping[str, Any]
) -> None:
    """The usage of a protocol agent's turn (its journal's ``turn_end`` or ``turn_error``
    entry: ``usage``, ``cost_usd``, ``meta.model``), once per entry; none when its CLI's
    session files count it (``protocol_usage``); a turn whose usage is known from neither
    is a turn of unknown usage and cost (never of none)."""
    source, _ = protocol_usage(ctx.agents.get(agent))
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
