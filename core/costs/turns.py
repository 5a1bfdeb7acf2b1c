"""A turn's usage into the ledger, and the budgets it counts against checked, in the
transaction that records the turn: the protocol route's ``turn_end`` and ``turn_error``
(``core.agents.protocol_events``) and the CLIs' own files (``core.clis``' readers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.context import Ctx
from core.costs import budgets, ledger
from core.store.conn import Conn

PROTOCOL = "protocol"


def record_protocol_turn(
    conn: Conn, ctx: Ctx, agent: str, task_id: int | None, entry: Mapping[str, Any]
) -> None:
    """The usage of a protocol agent's turn (its journal's ``turn_end`` or ``turn_error``
    entry: ``usage``, ``cost_usd``, ``meta.model``), once per entry; a turn that says no
    usage and no cost adds no row (nothing was counted)."""
    usage = ledger.Usage.from_wire(entry.get("usage"))
    cost = ledger.given_cost(entry.get("cost_usd"))
    if usage is None and cost is None:
        return
    meta = entry.get("meta")
    model = meta.get("model") if isinstance(meta, Mapping) else None
    ref = f"{PROTOCOL}:{agent}:{entry.get('delivery')}:{entry.get('seq')}:{entry.get('type')}"
    turn = ledger.Turn(
        agent, ref, PROTOCOL, usage or ledger.Usage(), task_id,
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
