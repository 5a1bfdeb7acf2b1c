"""A turn's usage into the ledger, and the budgets it counts against checked, in the
transaction that records the turn: the protocol route's ``turn_end`` and ``turn_error``
(``core.agents._protocol_events``) and the CLIs' own files (``core.clis``' readers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.context import Ctx
from core.costs import budgets, ledger, wire
from core.costs.usage import Usage
from core.costs.usage_place import (
    NO_WORKSPACE,
    UsageSource,
    cli_folder,
    followable,
    metered,
    protocol_usage,
    running_total,
    terminal_folder,
    unknown_folder,
    usage_said,
    usage_unknown,
    workspace_of,
)
from core.hosts.entries import Entry, TurnEnd, TurnError
from core.store.conn import Conn

__all__ = [  # where a turn's usage is read (core.costs.usage_place), as callers know it
    "NO_WORKSPACE", "UsageSource", "cli_folder", "followable", "metered", "protocol_usage",
    "record_protocol_turn", "record_transcript_turns", "take", "terminal_folder",
    "unknown_folder", "usage_said", "usage_unknown", "workspace_of",
]  # fmt: skip
PROTOCOL = "protocol"
CANCELLED = "cancelled"  # a turn end's stop reason when a stop (or a withdrawal) cut it


def record_protocol_turn(
    conn: Conn, ctx: Ctx, agent: str, task_id: int | None, entry: Entry
) -> None:
    """The usage of a protocol agent's turn (its journal's ``turn_end`` or ``turn_error``
    entry: ``usage``, ``cost_usd``, ``meta.model``), once per entry; none when its CLI's
    session files count it (``protocol_usage``); a turn whose usage is known from neither
    (or whose ``usage`` is its session's running total: ``running_total``) is a turn of
    unknown usage and cost (never of none). A turn a stop cut (``cancelled``) is of unknown
    usage and cost in the ledger: the request it cancelled was asked of the model, and its
    CLI's report leaves it out (measured with Claude Code: 0 tokens for a cancelled turn the
    model server counted 4,516 input tokens of); a gateway agent's report is kept as said,
    beside the gateway's count."""
    source, _ = protocol_usage(ctx.agents.get(agent), ctx.settings.home)
    if source is UsageSource.SESSIONS:
        return
    end = entry.body if isinstance(entry.body, TurnEnd) else None
    cut = end is not None and end.stop_reason == CANCELLED and not metered(ctx.agents.get(agent))
    taken = source is UsageSource.TURN_END and not running_total(ctx.agents.get(agent), end)
    taken = taken and not cut
    usage = Usage.from_wire(end.usage) if taken and end is not None else None
    cost = ledger.given_cost(end.cost_usd if end is not None and not cut else None)
    model = end.model if end is not None else None
    delivery = entry.body.delivery if isinstance(entry.body, TurnEnd | TurnError) else None
    ref = f"{PROTOCOL}:{agent}:{delivery}:{entry.seq}:{entry.type}"
    if usage is None and cost is not None:  # a cost said alone: its tokens none said
        usage = Usage()
    turn = ledger.Turn(
        agent, ref, PROTOCOL, usage, task_id,
        model, cost,
    )  # fmt: skip
    take(conn, ctx, turn)


def take(conn: Conn, ctx: Ctx, turn: ledger.Turn) -> bool:
    """Record ``turn`` and check its budgets; False when it was recorded before. A gateway
    agent's turn as its CLI reported it is kept beside the ledger instead: the gateway's
    count is booked (``core.costs.wire``)."""
    if metered(ctx.agents.get(turn.agent)):
        return wire.said_beside(conn, ctx, turn)
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
    new. A turn whose ``usage`` names no count (its reader could not read it whole: a
    stopped opencode turn) is a turn of unknown usage and cost, never of none."""
    new = 0
    for turn, task_id in turns:
        usage = Usage.from_wire(turn.usage)
        cost = ledger.given_cost(turn.cost_usd)
        new += take(conn, ctx, ledger.Turn(agent, turn.ref, TRANSCRIPT, usage, task_id,
                                           turn.model, cost))  # fmt: skip
    return new
