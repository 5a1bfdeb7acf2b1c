"""File reservations' transactions: reserve, release, what paths touch, and the release when
a task leaves its agent (:func:`task_ended`).

A reserve decides its overlaps before the write transaction, against the live reservations
as they were read (:func:`others_live`, :func:`check`: bounded by ``MAX_STEPS``, outside any
lock); the transaction then holds the reservations' lock and re-checks only the rows that
are not the ones checked (:func:`reserve`, within ``LOCKED_STEPS``), so of two agents racing
for overlapping globs exactly one wins, and no check of many wildcards holds the writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.context import Ctx
from core.errors import InvalidInput, ReservationConflict, TooComplex
from core.event_kinds import EventKind
from core.models import task_ref
from core.reservations import _queries as rows
from core.reservations._patterns import Budget, matches, normalise, overlap
from core.reservations._queries import Reservation
from core.store.conn import Conn
from core.store.row_locks import hold_key
from core.store.tables import insert_event

MAX_TTL_S = 7 * 24 * 3600.0
MAX_PATTERNS = 200
# overlap work one call may do (a step: one pair of automaton edges compared): 0.6-1.1 s of a
# core (docs/reservations.md); bench/reservations.py's 4 globs against 8 agents x 50 take 1 %
MAX_STEPS = 1_000_000
# what the re-check inside the write transaction may do (10-16 ms): beyond it, check outside
LOCKED_STEPS = 10_000
TRIES = 5  # checks outside the lock before a reserve gives up on reservations that keep changing


class Stale(Exception):
    """Reservations made since the check need more re-checking than the write transaction
    may do: check again outside it (the transaction rolls back)."""


@dataclass(frozen=True)
class Conflict:
    """A path or pattern (as given, normalised) and a live reservation it touches."""

    given: str
    reservation: Reservation

    def describe(self) -> str:
        """``src/api/x.py touches Agent-2's exclusive reservation src/api/** (T-7)``."""
        return f"{self.given} touches {self.reservation.describe()}"

    def to_json(self) -> dict[str, Any]:
        """The conflict as ``--json`` shows it."""
        return {"given": self.given, **self.reservation.to_json()}


def patterns_of(given: Sequence[str]) -> list[str]:
    """``given`` normalised, each once, in order; InvalidInput (one line) for a bad one or
    none at all."""
    if not given:
        raise InvalidInput("name at least one path or glob (src/api/**)")
    if len(given) > MAX_PATTERNS:
        raise InvalidInput(f"at most {MAX_PATTERNS} patterns at once, not {len(given)}")
    return list(dict.fromkeys(normalise(p) for p in given))


def check_ttl(ttl_s: float | None) -> None:
    """InvalidInput (one line) for a TTL out of range."""
    if ttl_s is not None and not 0 < ttl_s <= MAX_TTL_S:
        raise InvalidInput(
            f"a reservation's TTL must be more than 0 and at most 7 days, not {ttl_s:g} s"
        )


def others_live(conn: Conn, now: float, agent: str) -> list[Reservation]:
    """The live reservations of every agent but ``agent``: what its reserve checks."""
    return [r for r in rows.live(conn, now) if r.agent != agent]


def check(wanted: Sequence[str], exclusive: bool, others: Sequence[Reservation]) -> None:
    """ReservationConflict naming the first of ``others`` a pattern of ``wanted`` may not
    overlap (any, exclusive; an exclusive one, shared); TooComplex (one line) when deciding
    takes more than ``MAX_STEPS``. Pure: run it outside any transaction."""
    try:
        _check(wanted, exclusive, others, Budget(MAX_STEPS))
    except TooComplex:
        raise _too_complex(
            wanted, others, "reserve fewer or plainer patterns (src/api/**)"
        ) from None


def _check(
    wanted: Sequence[str], exclusive: bool, others: Sequence[Reservation], budget: Budget
) -> None:
    for pattern in wanted:
        for other in others:
            if (exclusive or other.exclusive) and overlap(pattern, other.pattern, budget):
                mode = "exclusive" if exclusive else "shared"
                raise ReservationConflict(
                    f"{pattern} ({mode}) overlaps {other.describe()}: nothing reserved"
                )


def _too_complex(wanted: Sequence[str], others: Sequence[Reservation], remedy: str) -> TooComplex:
    return TooComplex(
        f"checking {len(wanted)} {'pattern' if len(wanted) == 1 else 'patterns'} against "
        f"{len(others)} live reservations takes more than {MAX_STEPS:,} steps (patterns with "
        f"many wildcards): nothing reserved; {remedy}"
    )


def reserve(
    conn: Conn,
    ctx: Ctx,
    agent: str,
    wanted: Sequence[str],
    exclusive: bool,
    ttl_s: float | None,
    checked: Sequence[Reservation],
) -> list[Reservation]:
    """Reserve the normalised patterns ``wanted`` for ``agent`` (its current task's, when it
    holds one), all or nothing, ``checked`` being the reservations :func:`check` found no
    conflict with: only the live ones not among them are checked here, within
    ``LOCKED_STEPS`` (ReservationConflict naming the first holder; Stale beyond it)."""
    who = ctx.agent(agent).id
    # overlap is an invariant over the whole table (no one row to hold): one reserver at a time
    hold_key(conn, "reservations")
    rows.purge(conn, ctx.now)  # what expired or lost its task: gone before the check
    seen = set(checked)
    new = [r for r in others_live(conn, ctx.now, who) if r not in seen]
    try:
        _check(wanted, exclusive, new, Budget(LOCKED_STEPS))
    except TooComplex:
        raise Stale(f"{len(new)} reservations made since the check") from None
    return made(conn, ctx, who, wanted, exclusive, ttl_s, rows.current_task(conn, who))


def check_locked(conn: Conn, ctx: Ctx, agent: str, wanted: Sequence[str]) -> None:
    """Check exclusive ``wanted`` against every live reservation of the others, holding the
    reservations' lock (a person's approval: one request, checked where it is written);
    ReservationConflict, or TooComplex beyond ``LOCKED_STEPS``."""
    hold_key(conn, "reservations")
    rows.purge(conn, ctx.now)
    _check(wanted, True, others_live(conn, ctx.now, agent), Budget(LOCKED_STEPS))


def made(
    conn: Conn,
    ctx: Ctx,
    who: str,
    wanted: Sequence[str],
    exclusive: bool,
    ttl_s: float | None,
    task_id: int | None,
) -> list[Reservation]:
    """Store ``who``'s reservations of ``wanted`` (checked already) with their event."""
    expires = ctx.now + ttl_s if ttl_s is not None else None
    rows_made = [rows.put(conn, who, task_id, p, exclusive, ctx.now, expires) for p in wanted]
    mode = "exclusive" if exclusive else "shared"
    until = f", for {ttl_s:g} s" if ttl_s is not None else ""
    insert_event(
        conn,
        ctx.now,
        EventKind.RESERVATION_MADE,
        f"{who} reserved {', '.join(wanted)} ({mode}, {task_ref(task_id) if task_id else 'no task'}"
        f"{until})",
        task_id=task_id,
        agent=who,
        actor=ctx.actor,
        data={"patterns": list(wanted), "mode": mode, "ttl_s": ttl_s},
    )
    return rows_made


def release(conn: Conn, ctx: Ctx, agent: str, patterns: Sequence[str] | None) -> int:
    """Release ``agent``'s reservations of ``patterns`` (None: all of them); how many."""
    who = ctx.agent(agent).id
    wanted = patterns_of(patterns) if patterns is not None else None
    gone = rows.delete(conn, who, wanted)
    rows.purge(conn, ctx.now)
    if gone:
        insert_event(
            conn,
            ctx.now,
            EventKind.RESERVATION_RELEASED,
            f"{who} released {', '.join(gone)}",
            agent=who,
            actor=ctx.actor,
            data={"patterns": gone},
        )
    return len(gone)


def task_ended(conn: Conn, ctx: Ctx, task_id: int, agent: str | None, how: str) -> None:
    """The task left its agent (``how``: done, failed, cancelled, back in the queue): the
    reservations taken for it are released, with an event when there were any."""
    gone = rows.delete_task(conn, task_id)
    if not gone:
        return
    holder = agent or gone[0][0]
    patterns = [p for _, p in gone]
    insert_event(
        conn,
        ctx.now,
        EventKind.RESERVATION_RELEASED,
        f"{holder} released {', '.join(patterns)}: {task_ref(task_id)} {how}",
        task_id=task_id,
        agent=holder,
        actor=ctx.actor,
        data={"patterns": patterns, "why": how},
    )


def conflicts(
    given: Sequence[str], found: Sequence[Reservation], agent: str | None = None
) -> list[Conflict]:
    """Each of the live reservations ``found`` that a path or pattern of ``given`` touches
    (not ``agent``'s own); TooComplex (one line) beyond ``MAX_STEPS``. Pure: run it outside
    any transaction."""
    wanted = patterns_of(given)
    others = [r for r in found if r.agent != agent]
    budget = Budget(MAX_STEPS)
    try:
        return [Conflict(p, r) for p in wanted for r in others if overlap(p, r.pattern, budget)]
    except TooComplex:
        raise _too_complex(wanted, others, "ask about fewer or plainer patterns") from None


def files_touching(
    conn: Conn, now: float, files: Sequence[str], agent: str | None
) -> list[Conflict]:
    """Each of another agent's live exclusive reservations that a changed file (a path as
    git names it, taken literally) falls under: what a commit or a merge must not touch."""
    found = [r for r in rows.live(conn, now) if r.exclusive and r.agent != agent]
    if not found:
        return []
    return [Conflict(f, r) for f in dict.fromkeys(files) for r in found if matches(r.pattern, f)]


def held(conn: Conn, now: float, agent: str | None = None) -> list[Reservation]:
    """Live reservations (of ``agent``, or everyone's)."""
    return rows.live(conn, now, agent)
