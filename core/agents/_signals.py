"""Rows of agent state: each signal's latest observation of an agent, and the state decided.

``record`` keeps one row per (agent, signal): the newest observation replaces the last, and
the time of the latest ``working`` one is kept as the signal's ``active_at`` (the stall clock's
evidence: a later ``idle`` reading does not erase when the agent was last seen working).
``set_state`` stores the combined state with the signal and evidence that decided it, and
writes an ``agent.state`` event when the state changes (not when only the evidence does).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.agent_state import AgentState, Observation, Signal, believable_until
from core.agents import _signal_queries as signal_queries
from core.event_kinds import EventKind
from core.formats.text import flat, shorten
from core.store.conn import Conn
from core.store.tables import insert_event

EVIDENCE_LIMIT = 500  # characters of evidence kept per observation
SIGNALS = frozenset(s.value for s in Signal)
STATES = frozenset(s.value for s in AgentState)


@dataclass(frozen=True)
class StateRow:
    """An agent's decided state: since when, which signal decided it and what it saw."""

    agent: str
    state: AgentState
    since: float | None
    signal: Signal | None
    evidence: str
    until: float | None = None  # a usage limit's reset, when its state is ``limited``

    def to_json(self) -> dict[str, Any]:
        """A plain dict (``swarm agents --json``, the dashboard)."""
        return {
            "state": self.state.value,
            "since": self.since,
            "signal": self.signal.value if self.signal else None,
            "evidence": self.evidence,
        }


def stored_evidence(evidence: str) -> str:
    """``evidence`` as an observation or a decided state keeps it: one line, cut."""
    return shorten(flat(evidence), EVIDENCE_LIMIT)


def record(conn: Conn, obs: Observation) -> Observation:
    """Keep ``obs`` as its signal's latest observation of its agent; it as read back."""
    evidence = stored_evidence(obs.evidence)
    detail = json.dumps(dict(obs.detail)) if obs.detail else None
    active = obs.at if obs.state is AgentState.WORKING and obs.work else None
    state = obs.state.value
    row = (obs.agent, obs.signal.value, state, obs.at, evidence, obs.until, detail, active)
    signal_queries.upsert(conn, row)
    return _observation(*row)


@dataclass
class Look:
    """An agent's decided state and its signals' latest observations, read in one statement
    (a protocol journal's take-in, ``core.agents._protocol_events``, judges on them);
    ``unreadable``: why a row was left out (a judgement then reads the rows itself, and
    says so)."""

    decided: StateRow
    seen: dict[Signal, Observation]
    unreadable: str | None = None
    judged: bool = False  # judged since ``decided`` was read: it may be another now

    def observed(self, obs: Observation) -> None:
        """``obs`` was recorded: it is its signal's latest."""
        self.seen[obs.signal] = obs


def look(conn: Conn, agent: str) -> Look:
    """``agent``'s :class:`Look` now (an agent with no ``agent_state`` row: none decided,
    its observations read on their own)."""
    rows = signal_queries.look_rows(conn, agent)
    if not rows:
        unreadable: dict[str, str] = {}
        seen = observations(conn, [agent], unreadable).get(agent, {})
        return Look(no_state(agent), seen, unreadable.get(agent))
    first = rows[0]
    decided = (first.decided, first.state_since, first.state_signal, first.state_evidence)
    found = Look(_state_of(agent, *decided, first.state_until), {})
    for row in rows:
        if row.signal is None:
            continue  # no observation
        try:
            # an observation's state and evidence are NOT NULL columns
            found.observed(_observation(agent, row.signal, str(row.state), row.at,
                                        row.evidence or "", row.until, row.detail,
                                        row.active_at))  # fmt: skip
        except (ValueError, TypeError, OverflowError) as exc:
            found.unreadable = f"its {row.signal!r} signal row cannot be read ({exc})"
    return found


def active_times(conn: Conn) -> dict[str, dict[Signal, float]]:
    """agent -> signal -> when that signal last saw the agent working."""
    out: dict[str, dict[Signal, float]] = {}
    for agent, signal, active in signal_queries.active_rows(conn):
        if signal in SIGNALS:  # another row is no evidence (its agent's judgement says why)
            out.setdefault(agent, {})[Signal(signal)] = float(active)
    return out


def observations(
    conn: Conn, agents: Iterable[str] | None = None, unreadable: dict[str, str] | None = None
) -> dict[str, dict[Signal, Observation]]:
    """agent -> signal -> its latest observation (of ``agents``, or of all).

    A limit's ``until`` that cannot be believed (``believable_until``: infinite, or more than
    ``LIMIT_MAX_S`` after the observation, as rows written before that cap hold) reads as
    None. A row that cannot be read at all (a state or signal swarm does not know, a detail
    that is not JSON) raises ``UnreadableRow`` naming its agent, or, given ``unreadable``,
    is left out and noted there (agent -> why): one agent's row never spoils another's.
    """
    wanted = set(agents) if agents is not None else None
    only = next(iter(wanted)) if wanted is not None and len(wanted) == 1 else None
    rows = signal_queries.observation_rows(conn, only)
    out: dict[str, dict[Signal, Observation]] = {}
    for cells in rows:
        agent, signal = cells.agent, cells.signal
        if wanted is not None and agent not in wanted:
            continue
        try:
            obs = _observation(*cells)
        except (ValueError, TypeError, OverflowError) as exc:
            why = f"its {signal!r} signal row cannot be read ({type(exc).__name__}: {exc})"
            if unreadable is None:
                raise UnreadableRow(f"{agent}: {why}") from exc
            unreadable.setdefault(agent, why)
            continue
        out.setdefault(agent, {})[obs.signal] = obs
    return out


class UnreadableRow(ValueError):
    """A stored observation swarm cannot read (the message names the agent)."""


def _observation(
    agent: str,
    signal: str,
    state: str,
    at: Any,
    evidence: str,
    until: Any,
    detail: Any,
    active_at: Any = None,
) -> Observation:
    seen_at = float(at)
    seen_state = AgentState(state)
    return Observation(
        agent=agent,
        signal=Signal(signal),
        state=seen_state,
        at=seen_at,
        evidence=evidence,
        until=believable_until(float(until), seen_at) if until is not None else None,
        detail=json.loads(detail) if detail else {},
        # a working row whose active time is not its own was not work (``record``)
        work=seen_state is not AgentState.WORKING or active_at == at,
    )


def forget(conn: Conn, agent: str, signal: Signal) -> None:
    """Drop ``signal``'s observation of ``agent`` (the signal is gone: a tmux pane closed)."""
    signal_queries.delete(conn, agent, signal.value)


def get_state(conn: Conn, agent: str) -> StateRow:
    """``agent``'s decided state; ``UNKNOWN`` when none was ever decided, or when the stored
    one cannot be read (its evidence says what was found: the next decision replaces it)."""
    row = signal_queries.state_row(conn, agent)
    return no_state(agent) if row is None else _state_of(*row)


def get_states(conn: Conn) -> dict[str, StateRow]:
    """agent -> its decided state, as :func:`get_state` reads it, for every agent with a
    row (an agent with none: ``no_state``)."""
    return {row.agent: _state_of(*row) for row in signal_queries.state_rows(conn)}


def no_state(agent: str) -> StateRow:
    """The state of an agent none was ever decided for."""
    return StateRow(agent, AgentState.UNKNOWN, None, None, "")


def _state_of(
    agent: str, state: Any, since: Any, signal: Any, evidence: Any, until: Any
) -> StateRow:
    if state not in STATES:
        return StateRow(agent, AgentState.UNKNOWN, None, None, f"stored state {state!r} unknown")
    return StateRow(
        agent,
        AgentState(state),
        stored_time(since),
        Signal(signal) if signal in SIGNALS else None,
        evidence or "",
        stored_time(until),
    )


def stored_time(value: Any) -> float | None:
    """A stored time as a float; None when there is none or it is not a number."""
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def set_state(
    conn: Conn,
    agent: str,
    state: AgentState,
    now: float,
    signal: Signal | None,
    evidence: str,
    *,
    until: float | None = None,
    before: StateRow | None = None,
) -> bool:
    """Store ``agent``'s decided state (``until``: a limit's reset), written only when it
    differs from the one on record (``before``, read when not given); an ``agent.state``
    event when the state changed (True)."""
    evidence = stored_evidence(evidence)
    before = before or get_state(conn, agent)
    changed = before.state is not state
    since = now if changed or before.since is None else before.since
    decided = StateRow(agent, state, since, signal, evidence, until)
    if decided != before:
        signal_queries.store_state(
            conn, (agent, state.value, since, signal.value if signal else None, evidence, until)
        )
    if changed:
        insert_event(
            conn,
            now,
            EventKind.AGENT_STATE,
            f"{agent} is {state.value} ({evidence})" if evidence else f"{agent} is {state.value}",
            agent=agent,
            data={"from": before.state.value, "to": state.value, "signal": signal and signal.value},
        )
    return changed
