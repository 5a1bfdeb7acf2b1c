"""Usage from the wire: an agent whose model answers pass through swarm's gateway (sandboxed
with its own network, ``sandbox_network = "model"``, or ``gateway = true``:
``core.costs.usage_place.metered``) has its turns booked from what the
gateway read of each answer (``$SWARM_HOME/gateway/AGENT/records/usage.jsonl``): one ledger
row per answer, source ``wire``, the cost's source of truth for that agent. What its CLI
reports (session files, stream-json result, ACP usage) is kept beside it in
``reported_usage``, not summed; the two are compared once both sides are quiet (a turn's
answers all read, its report in), and a difference beyond rounding is said once per agent
per day (``core.watch.wire_usage``), never silently picked. Turns compared that hold one a
person stopped (``agents stop``, a cancel's withdrawal) differ by design: the gateway counted
the cancelled request (the model was asked), the CLI's report leaves it out; that difference
is logged, not alerted, and the gateway's count is booked all the same. A CLI's side
requests (their requests offer the model no tools: a session's title, Gemini CLI's router)
are in no CLI's report: booked as ``wire_side``, they count like any turn and are left out of
the comparison (an agent could hide a request from it so, never from the ledger).

The records file is swarm's, outside the sandbox, but its numbers come from an upstream
answer: each line is checked (``answer_of``) and a line that is not a record is skipped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.context import Ctx
from core.costs import budgets, ledger
from core.costs import wire_queries as queries
from core.costs.usage import MAX_TOKENS, Usage
from core.store.conn import Conn

WIRE = "wire"  # the ledger's source of a turn booked from the gateway's records
# the ledger's source of a CLI's side request booked from them (its request offered the model
# no tools: a session's title, Gemini CLI's router): counted like any turn, never compared
# with the CLI's report, which leaves it out
WIRE_SIDE = "wire_side"
SETTLE_S = 60.0  # both sides quiet this long: the turns since the last comparison are whole
ROUNDING_TOKENS = 2  # a difference of at most this many tokens of a kind is rounding
ROUNDING_SHARE = 0.005  # or of at most this share of the larger count
MAX_MODEL = 200  # characters of a model's name kept
_KINDS = ("input", "output", "cache_read", "cache_write")
_EPOCH_BOUNDS = (1e9, 1e11)  # a record's times: Unix seconds, 2001 to 5138


@dataclass(frozen=True)
class Answer:
    """One model answer as the gateway read it, checked: its model, tokens (None: unknown),
    HTTP status, when it started and ended; ``side``: its request offered the model no tools
    (a CLI's side request, which the CLI's own report leaves out)."""

    model: str | None
    usage: Usage | None
    status: int
    started: float
    ended: float
    side: bool = False

    @property
    def booked(self) -> bool:
        """Whether it is a turn of the ledger: an answer, or one of unknown usage; an error
        answer that says no usage is none (nothing was generated)."""
        return self.usage is not None or self.status < 400


def answer_of(raw: Any, agent: str) -> Answer | None:
    """A records line's answer, if it is one of ``agent``'s: None for anything else (not a
    mapping, another agent's, a count or time that is no number of its kind)."""
    if not isinstance(raw, Mapping) or raw.get("agent") != agent:
        return None
    status, started, ended = raw.get("status"), _time(raw.get("started")), _time(raw.get("ended"))
    if not isinstance(status, int) or not _whole(status, 100, 599):
        return None
    if started is None or ended is None or ended < started:
        return None
    usage = raw.get("usage")
    counted = _usage(usage) if usage is not None else None
    if usage is not None and counted is None:
        return None
    model = raw.get("model")
    model = model[:MAX_MODEL] if isinstance(model, str) and model.isprintable() else None
    side = raw.get("tools") is False  # a record of before (no "tools") is compared, as then
    return Answer(model or None, counted, status, started, ended, side)


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _time(value: Any) -> float | None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not math.isfinite(value):
        return None
    return float(value) if _EPOCH_BOUNDS[0] <= value <= _EPOCH_BOUNDS[1] else None


def _usage(raw: Any) -> Usage | None:
    """The four counts, each a whole number up to ``MAX_TOKENS``, or none."""
    if not isinstance(raw, Mapping) or set(raw) != set(_KINDS):
        return None
    if not all(_whole(raw[kind], 0, MAX_TOKENS) for kind in _KINDS):
        return None
    return Usage(*(int(raw[kind]) for kind in _KINDS))


def ref_of(agent: str, file: str, offset: int, answer: Answer) -> str:
    """A booked answer's ledger ref: its file, its line's offset, its start."""
    return f"{WIRE}:{agent}:{file}:{offset}:{answer.started:.6f}"


def position(conn: Conn, agent: str) -> tuple[str, int]:
    """The records file (device and inode) and the byte ``agent``'s booking reached
    (``("", 0)``: none yet)."""
    read = queries.read_of(conn, agent)
    return ("", 0) if read is None else (read.file, read.read_to)


def said_beside(conn: Conn, ctx: Ctx, turn: ledger.Turn) -> bool:
    """What a gateway agent's CLI reported of ``turn``, kept beside the ledger (not summed);
    False when it was kept before."""
    usage = turn.usage or Usage()
    return queries.add_said(conn, (
        ctx.now, turn.ref, turn.task_id, turn.agent, turn.model, turn.source,
        int(turn.usage is not None), usage.input, usage.output, usage.cache_read,
        usage.cache_write, turn.cost_usd,
    ))  # fmt: skip


@dataclass(frozen=True)
class Difference:
    """The turns since the last comparison, counted by the gateway and by the CLI (kind ->
    tokens); ``stopped_at``: when a person stopped one of them (a difference then no
    alert)."""

    agent: str
    wire: dict[str, int]
    said: dict[str, int]
    stopped_at: float | None = None

    def text(self) -> str:
        """One line for a person."""
        return (
            f"{self.agent}'s usage differs: swarm's model gateway counted "
            f"{_tokens(self.wire)}, its CLI reported {_tokens(self.said)} for the same "
            "turns; the ledger books the gateway's count (said once a day)"
        )

    def stopped_text(self) -> str:
        """One line for the log: a difference of turns that hold a stopped one."""
        return (
            f"{self.agent}'s usage: swarm's model gateway counted {_tokens(self.wire)}, its "
            f"CLI reported {_tokens(self.said)} for turns that hold one a person stopped (the "
            "cancelled request counted by the gateway, left out by the CLI): no alert; the "
            "ledger books the gateway's count"
        )


def _tokens(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{counts[kind]:,} {kind.replace('_', ' ')}" for kind in _KINDS)


def _of(counted: queries.Counted) -> dict[str, int]:
    return {kind: getattr(counted, kind) for kind in _KINDS}


def differs(wire: Mapping[str, int], said: Mapping[str, int]) -> bool:
    """Whether two counts differ beyond rounding in any kind."""
    for kind in _KINDS:
        high = max(wire[kind], said[kind])
        if abs(wire[kind] - said[kind]) > max(ROUNDING_TOKENS, ROUNDING_SHARE * high):
            return True
    return False


def _settled(
    conn: Conn, agent: str, now: float
) -> tuple[queries.WireRead, queries.Counted, queries.Counted] | None:
    """What is to compare of ``agent``'s: its booking, both sides' rows since the last
    comparison; None until its CLI reported some and both sides were quiet ``SETTLE_S``."""
    read = queries.read_of(conn, agent)
    if read is None:
        return None
    wire = queries.wire_since(conn, agent, WIRE, read.wire_compared)
    said = queries.said_since(conn, agent, read.said_compared)
    last = max(wire.last_at or 0.0, said.last_at or 0.0)
    return None if said.n == 0 or now - last < SETTLE_S else (read, wire, said)


def settled(conn: Conn, agent: str, now: float) -> bool:
    """Whether ``agent``'s turns are to compare now (a read: ``compare`` writes)."""
    return _settled(conn, agent, now) is not None


def compare(conn: Conn, ctx: Ctx, agent: str, stopped_at: float | None = None) -> Difference | None:
    """Compare ``agent``'s turns since the last comparison once its CLI reported some and
    both sides were quiet ``SETTLE_S``; a difference beyond rounding is returned when none
    was said today (the caller says it). Turns of unknown usage on either side are passed
    over, not compared. ``stopped_at``: the agent's latest stop; one since the last
    comparison means these turns hold a stopped one, whose difference is returned with
    its ``stopped_at`` (the caller logs it, no alert) and leaves the day's alert unsaid."""
    found = _settled(conn, agent, ctx.now)
    if found is None:
        return None
    read, wire, said = found
    stopped = stopped_at if stopped_at is not None and stopped_at > read.compared_at else None
    difference = Difference(agent, _of(wire), _of(said), stopped)
    day = ledger.day_of(ctx.now)
    differ = not (wire.unknown or said.unknown) and differs(difference.wire, difference.said)
    say = differ and stopped is None and read.differed_day != day
    wire_to = max(wire.last_id, read.wire_compared)
    said_day = day if say else read.differed_day
    queries.set_compared(conn, agent, wire_to, said.last_id, said_day, ctx.now)
    return difference if say or (differ and stopped is not None) else None


def book(
    conn: Conn,
    ctx: Ctx,
    agent: str,
    seen: tuple[str, int],
    read: tuple[str, int, int],
    answers: Sequence[tuple[str, Answer, int | None]],
) -> int:
    """Book ``answers`` (ref, answer, task) read from ``agent``'s records file between two
    offsets (``read``: the file, from, to), with the new offset, in one transaction, if the
    booking still stands where the reader saw it (``seen``: the file and offset it read
    from the store); -1 when not (another reader's booking: nothing booked), else how many
    were new. The turn's budgets are checked as for any turn."""
    if position(conn, agent) != seen:
        return -1
    file, _, end = read
    new = 0
    for ref, answer, task_id in answers:
        source = WIRE_SIDE if answer.side else WIRE
        turn = ledger.Turn(agent, ref, source, answer.usage, task_id, answer.model)
        if ledger.record(conn, ctx, turn) is not False:
            budgets.after_turn(conn, ctx, agent, task_id)
            new += 1
    queries.set_read(conn, agent, file, end, ctx.now)
    return new
