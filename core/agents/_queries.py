"""The agents' SQL that other features share: which agents are frozen (their tasks taken back
for a stall, their turn not moved since), read by assignment and by the needs-you list; an
agent's hook's latest word, read by the hook's late writes and the pane's dialogs; the
``agent_state`` rows' own statements (one per agent: its row made, paused, onboarded,
credited) and the fragments of it that other features' statements compose (a scheduling
pass's read of the agents, core.assignment's); the task an agent has in hand (core.tasks')."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from core.accounts.breaker import ANY_NOT_CLOSED
from core.agent_state import AgentState
from core.agents._alerts import HOLDING
from core.costs.budgets import ANY_SPENT
from core.store.conn import Conn, sql, values
from core.tasks import ACTIVE_HOLDS, first_held

# over ``agent_state s``: when the stall rules took the agent's tasks back, while its state
# still reads working or stalled and no signal has seen it work since; else NULL
FROZEN_SINCE = (
    "(SELECT w.taken_back_at FROM agent_watch w WHERE w.agent_id = s.id AND s.state IN "
    "('working', 'stalled') AND NOT EXISTS (SELECT 1 FROM agent_signals g WHERE g.agent = "
    "s.id AND g.active_at > w.taken_back_at))"
)


# A hook's ``Stop`` can be lost (a hook that Claude Code killed at its timeout under load):
# the pane's text seen idle this long after the hook last said mid-turn ends the turn too.
TURN_END_ON_PANE_S = 10.0


def turn_ended_on_pane(agent: str, at: str) -> str:
    """SQL: the pane's text (``agent_signals`` row ``text``) showed ``agent`` idle
    ``TURN_END_ON_PANE_S`` or more after ``at``: a turn under way then is over."""
    return (
        f"EXISTS (SELECT 1 FROM agent_signals p WHERE p.agent = {agent} "
        f"AND p.signal = 'text' AND p.state = 'idle' AND p.at >= {at} + {TURN_END_ON_PANE_S})"
    )


# The agents' part of a scheduling pass's read (core.assignment composes it with each agent's
# load, its tasks counted, between the head and the tail): the columns of ``agent_state s``
# and of the agent's signals and alerts that may hold it.
ASSIGNABLE_HEAD = "SELECT s.id, s.paused, s.score, s.idle_since, s.state, "
ASSIGNABLE_TAIL = (
    "s.state = 'limited' OR EXISTS (SELECT 1 FROM agent_signals g WHERE g.agent = s.id "
    "AND g.state = 'limited') AS limited, EXISTS (SELECT 1 FROM alerts a WHERE a.agent_id = "
    "s.id AND a.kind = 'unjudged' AND a.cleared_at IS NULL) AS unjudged, "
    "EXISTS (SELECT 1 FROM alerts a WHERE a.agent_id = s.id AND a.kind IN "
    f"({', '.join(repr(kind) for kind in HOLDING)}) AND a.cleared_at IS NULL) AS held, "
    "(SELECT max(h.at) FROM agent_signals h WHERE h.agent = s.id AND h.signal = 'hook' "
    "AND h.state IN ('working', 'waiting') AND NOT "
    f"{turn_ended_on_pane('h.agent', 'h.at')}) AS turn_at, "
    f"{FROZEN_SINCE} AS frozen_since, "
    # the same on every row (computed once): whether an account's breaker or a spent budget
    # may hold someone, so a pass with neither reads no more of them
    f"{ANY_NOT_CLOSED} AS breakers, {ANY_SPENT} AS spent"
)
EVERY_AGENT = "FROM agent_state s"  # the rows the columns above are read over
FROZEN = sql(f"SELECT s.id, {FROZEN_SINCE} AS since FROM agent_state s")
HOOK_WORD = sql(
    "SELECT state, evidence, at FROM agent_signals WHERE agent = :agent AND signal = 'hook'"
)
PROTOCOL_DETAIL = sql(
    "SELECT detail FROM agent_signals WHERE agent = :agent AND signal = 'protocol'"
)
INSERT_STATE_ROW = sql(
    "INSERT INTO agent_state (id, idle_since) VALUES (:agent, :now) ON CONFLICT DO NOTHING"
)
STATE_IDS = sql("SELECT id FROM agent_state")
PAUSED = sql("SELECT paused FROM agent_state WHERE id = :agent")
SET_PAUSED = sql("UPDATE agent_state SET paused = :paused WHERE id = :agent")
SET_ONBOARDED = sql("UPDATE agent_state SET onboarded_at = :now WHERE id = :agent")
LAST_REPORTS = sql("SELECT id, last_report_at FROM agent_state")
OPEN_ALERT_TEXT = sql(
    "SELECT text FROM alerts WHERE agent_id = :agent AND kind = :kind AND cleared_at IS NULL"
)
# the open questions on the tasks held now (core.tasks' ``ACTIVE_HOLDS``)
OLDEST_OPEN_QUESTION = sql(
    f"SELECT q.id, q.task_id, q.text FROM questions q JOIN ({ACTIVE_HOLDS}) t "
    "ON t.id = q.task_id WHERE q.answered_at IS NULL AND t.assignee = :agent "
    "ORDER BY q.id LIMIT 1"
)
OPEN_QUESTIONS = sql(
    f"SELECT q.id, q.task_id, q.text, t.assignee FROM questions q JOIN ({ACTIVE_HOLDS}) t "
    "ON t.id = q.task_id WHERE q.answered_at IS NULL ORDER BY q.id"
)
RESTART_STALL_CLOCK = sql(
    "INSERT INTO agent_watch (agent_id, resumed_at) VALUES (:agent, :now) ON CONFLICT(agent_id) "
    "DO UPDATE SET resumed_at = excluded.resumed_at"
)
CREDIT = sql(
    "UPDATE agent_state SET score = score * :kept + :gained, done_count = done_count + :done, "
    "fail_count = fail_count + :failed, last_report_at = CASE WHEN :stamp = 1 THEN :now "
    "ELSE last_report_at END, idle_since = CASE WHEN :stamp = 1 THEN :now ELSE idle_since END "
    "WHERE id = :agent"
)
TOUCH = sql("UPDATE agent_state SET last_report_at = :now WHERE id = :agent")
STATE_ROWS = sql(
    "SELECT id, paused, score, done_count, fail_count, last_report_at FROM agent_state"
)
IN_STATE = sql("SELECT id, state_since, state_evidence FROM agent_state WHERE state = :state")
# a breaker's probe's agent, as core.assignment's read of the probe composes it
PROBE_AGENT_COLUMNS = "s.state, s.state_since, s.state_signal"


def frozen_agents(conn: Conn) -> dict[str, float]:
    """agent -> when its tasks were taken back, for the agents frozen now."""
    rows = conn.execute(FROZEN)
    return {agent: float(since) for agent, since in map(values, rows) if since is not None}


class HookWord(NamedTuple):
    """What an agent's hook said last: its state, in words, and when."""

    state: str
    evidence: str
    at: float


def hook_word(conn: Conn, agent: str) -> HookWord | None:
    """``agent``'s hook observation on record, or None."""
    row = conn.execute(HOOK_WORD, {"agent": agent}).fetchone()
    return None if row is None else HookWord(*values(row))


def protocol_cursor(conn: Conn, agent: str) -> tuple[int, int]:
    """The host (its pid) and the last journal entry of it that ``agent``'s protocol
    observation on record took in; (0, 0) when there is none."""
    row = conn.execute(PROTOCOL_DETAIL, {"agent": agent}).fetchone()
    try:
        detail = json.loads(row["detail"]) if row is not None and row["detail"] else {}
    except (TypeError, ValueError):
        return 0, 0
    return cursor_of(detail)


def cursor_of(detail: Any) -> tuple[int, int]:
    """The (host, last entry) a protocol observation's ``detail`` holds; (0, 0): none."""
    try:
        return int(detail.get("host") or 0), int(detail.get("seq") or 0)
    except (TypeError, ValueError, AttributeError):
        return 0, 0


def ensure_rows(conn: Conn, agents: Iterable[str], now: float) -> None:
    """Give each of ``agents`` its ``agent_state`` row (idle since ``now``) if it has none."""
    conn.executemany(INSERT_STATE_ROW, [{"agent": a, "now": now} for a in agents])


def known_ids(conn: Conn) -> set[str]:
    """The agents that have an ``agent_state`` row."""
    return {r["id"] for r in conn.execute(STATE_IDS)}


def is_paused(conn: Conn, agent: str) -> bool:
    """Whether ``agent`` is paused (its row must exist)."""
    row = conn.execute(PAUSED, {"agent": agent}).fetchone()
    return bool(row["paused"])


def set_paused(conn: Conn, agent: str, paused: bool) -> None:
    """Pause or resume ``agent``."""
    conn.execute(SET_PAUSED, {"paused": int(paused), "agent": agent})


def set_onboarded(conn: Conn, agent: str, now: float) -> None:
    """``agent`` was onboarded at ``now``."""
    conn.execute(SET_ONBOARDED, {"now": now, "agent": agent})


def last_reports(conn: Conn) -> dict[str, float | None]:
    """agent -> when it last reported through the CLI."""
    return dict(map(values, conn.execute(LAST_REPORTS)))


def open_alert_text(conn: Conn, agent: str, kind: str) -> str | None:
    """The text of ``agent``'s open alert of ``kind``, or None."""
    row = conn.execute(OPEN_ALERT_TEXT, {"agent": agent, "kind": kind}).fetchone()
    return None if row is None else str(row["text"])


class OpenQuestion(NamedTuple):
    """An unanswered question on a task its agent holds."""

    id: int
    task_id: int
    text: str


def oldest_open_question(conn: Conn, agent: str) -> OpenQuestion | None:
    """The oldest unanswered question on a task ``agent`` holds, or None."""
    row = conn.execute(OLDEST_OPEN_QUESTION, {"agent": agent}).fetchone()
    return None if row is None else OpenQuestion(*values(row))


def oldest_open_questions(conn: Conn) -> dict[str, OpenQuestion]:
    """agent -> its oldest unanswered question on a task it holds, for every agent that has
    one."""
    oldest: dict[str, OpenQuestion] = {}
    for question_id, task_id, text, assignee in map(values, conn.execute(OPEN_QUESTIONS)):
        oldest.setdefault(assignee, OpenQuestion(question_id, task_id, text))
    return oldest


def restart_stall_clock(conn: Conn, agent: str, now: float) -> None:
    """``agent``'s stall clock starts again at ``now`` (``agent_watch.resumed_at``)."""
    conn.execute(RESTART_STALL_CLOCK, {"agent": agent, "now": now})


def task_in_hand(conn: Conn, agent: str) -> int | None:
    """The agent's task in hand (its oldest assigned or in progress), or None: what its
    hook's prompts, its protocol turns and its transcript are of."""
    return first_held(conn, agent)


# The ``agent_state`` fragments other features' statements compose (the table is the agents'
# alone); each is spliced into one statement, so no round trip is added.

# 1 when the agent of delivery ``d`` was never onboarded, else 0
FRESH_AGENT_OF_DELIVERY = (
    "(SELECT count(*) FROM agent_state a WHERE a.id = d.agent_id AND a.onboarded_at IS NULL) "
)
# 1 when agent ``:agent`` was never onboarded, else 0
FRESH_AGENT_PARAM = "(SELECT count(*) FROM agent_state WHERE id = :agent AND onboarded_at IS NULL) "
# each agent's row as ``a``, to join its other rows to
EACH_AGENT = "FROM agent_state a "
# the state row ``s`` of task ``t``'s holder, when it has one
HOLDER_STATE = "LEFT JOIN agent_state s ON s.id = t.assignee "


def stalled(agent: str) -> str:
    """True when the agent ``agent`` (a column or a parameter) is decided stalled."""
    return (
        f"(SELECT 1 FROM agent_state j WHERE j.id = {agent} AND j.state = '{AgentState.STALLED}')"
    )


# The done's credit as one CTE over the done task's row ``t`` (PostgreSQL, in
# core.assignment._queries' done statement): ``:kept`` the score kept, ``:gained`` the score a
# success adds, ``:reporter`` the agent whose report is stamped ``:now``
CREDIT_DONE = (
    "c AS (UPDATE agent_state SET score = score * :kept + :gained, "
    "done_count = done_count + 1, "
    "last_report_at = CASE WHEN t.assignee = :reporter THEN :now ELSE last_report_at END, "
    "idle_since = CASE WHEN t.assignee = :reporter THEN :now ELSE idle_since END "
    "FROM t WHERE agent_state.id = t.assignee), "
)


def credit(
    conn: Conn, agent: str | None, *, success: bool, now: float, window: float, stamp: bool = True
) -> None:
    """Count a finished task to ``agent`` (its success score, over ``window``) and, with
    ``stamp`` (the agent reported it), stamp its report; nothing for no agent."""
    if not agent:
        return
    conn.execute(
        CREDIT,
        {
            "kept": 1 - window,
            "gained": window if success else 0.0,
            "done": int(success),
            "failed": int(not success),
            "stamp": int(stamp),
            "now": now,
            "agent": agent,
        },
    )


def touch_agent(conn: Conn, agent: str, now: float) -> None:
    """Stamp ``agent``'s last report now."""
    conn.execute(TOUCH, {"now": now, "agent": agent})


@dataclass(frozen=True)
class AgentRecord:
    """An agent's record: paused or not, its success score, its tasks done and failed, when
    it last reported."""

    id: str
    paused: int
    score: float
    done_count: int
    fail_count: int
    last_report_at: float | None


def state_rows_by_id(conn: Conn) -> dict[str, AgentRecord]:
    """Each agent's record by its id."""
    found = (AgentRecord(*values(row)) for row in conn.execute(STATE_ROWS))
    return {row.id: row for row in found}


class InState(NamedTuple):
    """An agent in a decided state: since when, and what was seen."""

    id: str
    state_since: float | None
    state_evidence: str | None


def agents_in_state(conn: Conn, state: str) -> list[InState]:
    """The agents whose decided state is ``state``."""
    return [InState(*values(row)) for row in conn.execute(IN_STATE, {"state": state})]
