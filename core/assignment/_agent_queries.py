"""A scheduling pass's read of the agents (``core.assignment._passes``): each agent's row as
core.agents gives it (its fragments: the head, the tail and the rows read over), with its
load, the tasks it holds counted (core.tasks' fragment), between them; and, in the same
statement, whether any assigned task's lease ran out; a breaker's probe as seen (its
agent's state, its task's). The agents' tables are named in core.agents only, the tasks' in
core.tasks only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from core.agents import ASSIGNABLE_HEAD, ASSIGNABLE_TAIL, EVERY_AGENT, PROBE_AGENT_COLUMNS
from core.store.conn import Conn, Row, sql, values
from core.tasks import ANY_LEASE_RUN_OUT, HELD_COUNT, HOLDS

_ASSIGNABLE = f"{ASSIGNABLE_HEAD}{HELD_COUNT} AS load, {ASSIGNABLE_TAIL}"
ASSIGNABLE = sql(f"{_ASSIGNABLE} {EVERY_AGENT}")
# The agents' read of a scheduling round's first pass also says whether any lease ran out
# (the same on every row: a subquery of no row, computed once), so a round with none costs
# no read of its own.
ASSIGNABLE_AND_EXPIRY = sql(f"{_ASSIGNABLE}, {ANY_LEASE_RUN_OUT} AS expired {EVERY_AGENT}")
# a breaker's probe: its agent (None when it has no row) and its task
PROBE_VIEW = sql(
    f"SELECT {PROBE_AGENT_COLUMNS}, t.status, t.assignee {EVERY_AGENT} "
    f"LEFT JOIN ({HOLDS}) t ON t.id = :task_id WHERE s.id = :agent"
)


@dataclass(frozen=True)
class AssignableAgent:
    """An agent as a scheduling pass reads it: its load, what may hold it, its hook's turn;
    the same on every row: whether a breaker or a spent budget may hold anyone, and whether
    a lease ran out (False when not asked)."""

    id: str
    paused: bool
    score: float
    idle_since: float
    state: str
    load: int
    limited: bool
    unjudged: bool
    held: bool
    turn_at: float | None
    frozen_since: float | None
    breakers: bool
    spent: bool
    expired: bool = False


def _assignable(row: Row) -> AssignableAgent:
    """A row of ``ASSIGNABLE`` (or ``ASSIGNABLE_AND_EXPIRY``): SQLite's 0/1 as booleans."""
    (agent, paused, score, idle_since, state, load, limited, unjudged, held, turn_at,
     frozen_since, breakers, spent, *expired) = values(row)  # fmt: skip
    return AssignableAgent(
        agent, bool(paused), score, idle_since, state, int(load), bool(limited),
        bool(unjudged), bool(held), turn_at, frozen_since, bool(breakers), bool(spent),
        bool(expired and expired[0]),
    )  # fmt: skip


def assignable_rows(conn: Conn, expired_by: float | None = None) -> list[AssignableAgent]:
    """Every agent as a scheduling pass reads it (``core.assignment._passes``); with
    ``expired_by``, also whether any assigned task's lease ran out by then (``expired``)."""
    if expired_by is None:
        rows = conn.execute(ASSIGNABLE).fetchall()
    else:
        rows = conn.execute(ASSIGNABLE_AND_EXPIRY, {"expired_by": expired_by}).fetchall()
    return [_assignable(row) for row in rows]


class ProbeSeen(NamedTuple):
    """A breaker's probe as seen: its agent's state, since when and by which signal; its
    task's status and assignee (None: no such task)."""

    state: str
    state_since: float | None
    state_signal: str | None
    status: str | None
    assignee: str | None


def probe_view(conn: Conn, task: int | None, agent: str | None) -> ProbeSeen | None:
    """A breaker's probe (``core.accounts.breaker``): its agent's state, since when and its
    signal, its task's status and assignee; None when the agent has no row."""
    row = conn.execute(PROBE_VIEW, {"task_id": task, "agent": agent}).fetchone()
    return None if row is None else ProbeSeen(*values(row))
