"""The statements of assignment that span features, each composed of its owners' fragments
(no table is named here): the done (core.tasks' row updated, with core.delivery's queued
notes; on PostgreSQL core.agents' credit and report signal in the same statement), the
leases run out beside their holders' state, a scheduling pass's take-and-queue (core.tasks'
take, core.delivery's prompts queued) and the next deadline of both.

Why the done is one statement on PostgreSQL, and why its dependents are held in a statement
of their own after it: docs/decisions/0005-lifecycles-hot-path-in-postgresqls-own.md; the
races they close are in ``tests/store/test_write_races.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from core.agent_state import AgentState, Observation, Signal
from core.agents import queries as agent_queries
from core.agents import signal_queries
from core.agents import signals as agent_signals
from core.delivery import QUEUE_PROMPTS_OF_TAKEN, QUEUED_DUE, message_queries
from core.models import task_ref
from core.store.conn import Conn, Pair, listed, sql, values
from core.tasks import (
    DEADLINE_COLUMNS,
    DONE_RETURNING,
    LEASES_RUN_OUT,
    SHOWN,
    TAKE_READY_PG,
    picked,
)

# The done task's row, updated where it is still active: its holder, its campaign, whether
# any reservation was taken for it and whether a note about it waits in its holder's queue
# (a nudge to report it: core.delivery's ``DONE_QUEUED_NOTES``) come back with it.
_DONE = f"{DONE_RETURNING}{message_queries.DONE_QUEUED_NOTES}"
# PostgreSQL: the done in one statement (data-modifying CTEs, all from the row ``t`` the
# update returns, so nothing is written when the task was not active): the holder credited
# (``credit``: ``:kept`` the score kept, ``:gained`` the score a success adds) and the report
# signal's observation of it stored (``:signal``, ``:evidence`` before the agent's id, which
# ``AGENT_ID`` keeps short and free of control characters, ``:state``: what
# ``agent_signals.record`` would store; its upsert is that module's, so the two never
# differ). Its dependents are read in statements of their own
# (``graph_queries.hold_dependents``), and only
# when the row says it has any (``has_dependents``: a writer adding a dependent updates the
# row, so a done that waited for it reads the flag from the version it updated): a
# statement's snapshot is taken when it starts, so a read here that waited for a writer
# holding the task (a task created after it) would not see that writer's new dependent.
DONE_AT_ONCE = sql(
    f"WITH t AS ({_DONE}), "
    f"{agent_queries.CREDIT_DONE}"
    f"s AS ({signal_queries.INSERT_HEAD}SELECT t.assignee, CAST(:signal AS TEXT), "
    "CAST(:state AS TEXT), :now, CAST(:evidence AS TEXT) || t.assignee, "
    "CAST(NULL AS DOUBLE PRECISION), CAST(NULL AS TEXT), CAST(NULL AS DOUBLE PRECISION) FROM t "
    "WHERE t.assignee IS NOT NULL AND t.assignee = CAST(:reporter AS TEXT) "
    f"{signal_queries.ON_CONFLICT}) "
    "SELECT assignee, campaign_id, has_dependents, reserved, queued_notes FROM t"
)
DONE = sql(_DONE)


class DoneRow(NamedTuple):
    """A task just marked done: its holder, its campaign (None: none), whether it has
    dependents, took a reservation, and has a note waiting in its holder's queue."""

    assignee: str | None
    campaign_id: int | None
    has_dependents: bool
    reserved: bool
    queued_notes: bool


def _done_row(row: Any) -> DoneRow | None:
    """``DONE``'s row (flags 0/1 on SQLite), or None."""
    if row is None:
        return None
    assignee, campaign_id, has_dependents, reserved, queued_notes = values(row)
    return DoneRow(assignee, campaign_id, bool(has_dependents), bool(reserved), bool(queued_notes))


def _done_words(task_id: int) -> str:
    """The report signal's evidence of a done, before the agent's id."""
    return f"report: {task_ref(task_id)} done by "


def _done_at_once(
    conn: Conn, task_id: int, note: str, now: float, window: float, reporter: str | None
) -> DoneRow | None:
    """PostgreSQL: ``DONE_AT_ONCE``, one statement."""
    params = {
        "note": note or None,
        "now": now,
        "task_id": task_id,
        "kept": 1 - window,
        "gained": window,
        "signal": Signal.REPORT.value,
        "evidence": _done_words(task_id),
        "state": AgentState.IDLE.value,
        "reporter": reporter,
    }
    return _done_row(conn.execute(DONE_AT_ONCE, params).fetchone())


def _done_apart(
    conn: Conn, task_id: int, note: str, now: float, window: float, reporter: str | None
) -> DoneRow | None:
    """SQLite (no data-modifying CTEs): the update, then the credit and the signal in
    statements of their own, when it was done."""
    row = _done_row(
        conn.execute(DONE, {"note": note or None, "now": now, "task_id": task_id}).fetchone()
    )
    agent = row.assignee if row is not None else None
    if agent:
        own = agent == reporter
        agent_queries.credit(conn, agent, success=True, now=now, window=window, stamp=own)
        if own:
            words = _done_words(task_id) + agent
            obs = Observation(agent, Signal.REPORT, AgentState.IDLE, now, words)
            agent_signals.record(conn, obs)
    return row


_MarkDone = Callable[[Conn, int, str, float, float, str | None], DoneRow | None]
_MARK_DONE: Pair[_MarkDone] = Pair(sqlite=_done_apart, postgres=_done_at_once)


def mark_done(
    conn: Conn, *, task_id: int, note: str, now: float, window: float, reporter: str | None
) -> DoneRow | None:
    """Mark the task done where it is still active, credit its holder (a success over
    ``window``) and, when the holder is the ``reporter`` (the acting agent; None: a person),
    stamp its report and store the report signal's observation of it (idle): a person's
    done is not the agent's report. The task's row, or None when it was not active
    (nothing written)."""
    return _MARK_DONE.on(conn)(conn, task_id, note, now, window, reporter)


# The assigned tasks whose lease ran out, with their holder's state (None: not judged) and
# whether "Needs you" shows something about the task or its agent.
EXPIRED_LEASES = sql(
    f"SELECT t.id, t.assignee, t.attempts, t.max_attempts, s.state, {SHOWN} AS shown "
    f"FROM ({LEASES_RUN_OUT}) t {agent_queries.HOLDER_STATE}"
)


class ExpiredLease(NamedTuple):
    """An assigned task whose lease ran out: its holder, attempts, the holder's state
    (None: not judged) and whether "Needs you" shows something about the task or its
    agent."""

    id: int
    assignee: str
    attempts: int
    max_attempts: int
    state: str | None
    shown: bool


def expired_leases(conn: Conn, now: float) -> list[ExpiredLease]:
    """The assigned tasks whose lease ran out by ``now``."""
    rows = conn.execute(EXPIRED_LEASES, {"now": now})
    return [_expired(*values(row)) for row in rows]


def _expired(
    task_id: int, assignee: str, attempts: int, most: int, state: str | None, shown: object
) -> ExpiredLease:
    """``EXPIRED_LEASES``' row (``shown`` 0/1 on SQLite)."""
    return ExpiredLease(task_id, assignee, attempts, most, state, bool(shown))


# PostgreSQL: a pass's writes as one statement (data-modifying CTEs): the picked tasks still
# ready taken (``t``), a prompt queued for each of those (``m``, in the order of the picks,
# ``v``: a JSON list of rows) and its delivery (``d``, in message order: the claims take the
# oldest first); the message of each task taken comes back. No agent row is written: a pass
# that stamped its agents (``last_assigned_at``, read by nothing) locked several
# ``agent_state`` rows in its scan's order, and deadlocked with a node's receipts onboarding
# the same agents in its deliveries' order (each such deadlock cost PostgreSQL's 1 s
# ``deadlock_timeout`` and a retry, at a fleet's start).
TAKE_AND_QUEUE = sql(
    f"WITH t AS ({TAKE_READY_PG}), {QUEUE_PROMPTS_OF_TAKEN} SELECT id, task_id FROM m"
)


def take_and_queue(
    conn: Conn,
    picks: Sequence[tuple[int, str, str, int]],
    actor: str,
    now: float,
    lease: float,
) -> dict[int, int]:
    """core.tasks' ``take_ready`` for the picks (task id, agent, prompt text, priority), and
    a prompt queued for each task taken, in one statement: task id -> message id of those
    taken."""
    prompts = listed(
        {"n": n, "task_id": task_id, "agent": agent, "text": text, "priority": priority}
        for n, (task_id, agent, text, priority) in enumerate(picks)
    )
    taken = picked([(task_id, agent) for task_id, agent, _, _ in picks])
    params = {**taken, "prompts": prompts, "actor": actor, "now": now, "lease": lease}
    return {int(r["task_id"]): int(r["id"]) for r in conn.execute(TAKE_AND_QUEUE, params)}


NEXT_DEADLINE = sql(f"SELECT {DEADLINE_COLUMNS}, ({QUEUED_DUE}) AS due")


def next_deadline(conn: Conn, now: float) -> float | None:
    """The earliest future moment when something becomes due (lease, backoff, delivery):
    one statement (the scheduler asks at every pass)."""
    candidates = values(conn.execute(NEXT_DEADLINE, {"now": now}).fetchone())
    due = [c for c in candidates if c is not None]
    return min(due) if due else None
