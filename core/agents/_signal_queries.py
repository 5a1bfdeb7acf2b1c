"""The statements of the agents' observations and decided states (``core.agents._signals``):
an observation kept (one row per agent and signal), read, dropped; an agent's decided state
read and stored. Each is one named operation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from core.store.conn import Conn, sql, values

INSERT_HEAD = (
    "INSERT INTO agent_signals (agent, signal, state, at, evidence, until, detail, active_at) "
)
# What an observation does to the row already there (also the done's one statement on
# PostgreSQL: ``core.assignment._queries``).
ON_CONFLICT = (
    "ON CONFLICT (agent, signal) DO UPDATE SET "
    "state = excluded.state, at = excluded.at, evidence = excluded.evidence, "
    "until = excluded.until, detail = excluded.detail, "
    "active_at = COALESCE(excluded.active_at, agent_signals.active_at)"
)
# an observation's values, in the order ``upsert`` takes them
SIGNAL_COLUMNS = ("agent", "signal", "state", "at", "evidence", "until", "detail", "active_at")
UPSERT = sql(f"{INSERT_HEAD}VALUES ({', '.join(':' + c for c in SIGNAL_COLUMNS)}) {ON_CONFLICT}")


def upsert(conn: Conn, row: Sequence[Any]) -> None:
    """Keep ``row`` (agent, signal, state, at, evidence, until, detail, active_at) as its
    signal's latest observation of its agent."""
    conn.execute(UPSERT, dict(zip(SIGNAL_COLUMNS, row, strict=True)))


class WorkSeen(NamedTuple):
    """When a signal last saw its agent working."""

    agent: str
    signal: str
    active_at: float


def active_rows(conn: Conn) -> list[WorkSeen]:
    """The observations that saw their agent working."""
    found = conn.execute(
        "SELECT agent, signal, active_at FROM agent_signals WHERE active_at IS NOT NULL"
    )
    return [WorkSeen(*values(row)) for row in found]


class StoredObservation(NamedTuple):
    """An observation's row as stored (read into ``core.agent_state.Observation``, which
    checks it)."""

    agent: str
    signal: str
    state: str
    at: float
    evidence: str
    until: float | None
    detail: str | None
    active_at: float | None


class LookRow(NamedTuple):
    """An agent's decided state beside one of its observations (all None: it has none)."""

    decided: str
    state_since: float | None
    state_signal: str | None
    state_evidence: str | None
    state_until: float | None
    signal: str | None
    state: str | None
    at: float | None
    evidence: str | None
    until: float | None
    detail: str | None
    active_at: float | None


class StoredState(NamedTuple):
    """An agent's decided state as stored: since when, the signal that decided it and what
    it saw, a limit's end."""

    agent: str
    state: str
    state_since: float | None
    state_signal: str | None
    state_evidence: str | None
    state_until: float | None


_OBSERVATIONS = (
    "SELECT agent, signal, state, at, evidence, until, detail, active_at FROM agent_signals"
)
OBSERVATIONS_OF = sql(f"{_OBSERVATIONS} WHERE agent = :agent")
LOOK = sql(
    "SELECT st.state AS decided, st.state_since, st.state_signal, st.state_evidence, "
    "st.state_until, s.signal, s.state, s.at, s.evidence, s.until, s.detail, s.active_at "
    "FROM agent_state st LEFT JOIN agent_signals s ON s.agent = st.id WHERE st.id = :agent"
)
DELETE = sql("DELETE FROM agent_signals WHERE agent = :agent AND signal = :signal")
STATE = sql(
    "SELECT state, state_since, state_signal, state_evidence, state_until FROM agent_state "
    "WHERE id = :agent"
)
# a decided state's values, in the order ``store_state`` takes them
STATE_COLUMNS = ("agent", "state", "since", "signal", "evidence", "until")
STORE_STATE = sql(
    "INSERT INTO agent_state (id, state, state_since, state_signal, state_evidence, "
    "state_until) VALUES (:agent, :state, :since, :signal, :evidence, :until) "
    "ON CONFLICT (id) DO UPDATE SET "
    "state = excluded.state, state_since = excluded.state_since, "
    "state_signal = excluded.state_signal, state_evidence = excluded.state_evidence, "
    "state_until = excluded.state_until"
)


def observation_rows(conn: Conn, agent: str | None = None) -> list[StoredObservation]:
    """Every observation's row, or ``agent``'s."""
    if agent is None:
        rows = conn.execute(_OBSERVATIONS).fetchall()
    else:
        rows = conn.execute(OBSERVATIONS_OF, {"agent": agent}).fetchall()
    return [StoredObservation(*values(row)) for row in rows]


def look_rows(conn: Conn, agent: str) -> list[LookRow]:
    """``agent``'s decided state on each of its observations' rows (one row with no signal
    when it has none): one statement; no row when it has no ``agent_state`` row."""
    return [LookRow(*values(row)) for row in conn.execute(LOOK, {"agent": agent})]


def delete(conn: Conn, agent: str, signal: str) -> None:
    """Drop ``signal``'s observation of ``agent``."""
    conn.execute(DELETE, {"agent": agent, "signal": signal})


def state_rows(conn: Conn) -> list[StoredState]:
    """Every agent's decided state."""
    found = conn.execute(
        "SELECT id, state, state_since, state_signal, state_evidence, state_until FROM agent_state"
    )
    return [StoredState(*values(row)) for row in found]


def state_row(conn: Conn, agent: str) -> StoredState | None:
    """``agent``'s decided state, or None."""
    row = conn.execute(STATE, {"agent": agent}).fetchone()
    return None if row is None else StoredState(agent, *values(row))


def store_state(conn: Conn, row: Sequence[Any]) -> None:
    """Store an agent's decided state, ``row``: (agent, state, since, signal, evidence,
    until); its row is made if it has none."""
    conn.execute(STORE_STATE, dict(zip(STATE_COLUMNS, row, strict=True)))


_LIMITED = (
    "SELECT id, state_since, state_until, state_signal, state_evidence FROM agent_state "
    "WHERE state = 'limited'"
)
LIMITED_OF = sql(f"{_LIMITED} AND id = :agent")


class LimitedState(NamedTuple):
    """An agent's decided usage limit: since when, its end if known, the signal that decided
    it and what it saw."""

    id: str
    state_since: float | None
    state_until: float | None
    state_signal: str | None
    state_evidence: str | None


def limited_states(conn: Conn, agent: str | None = None) -> list[LimitedState]:
    """The decided states that are ``limited``, of every agent or of ``agent``."""
    args = {"agent": agent}
    found = conn.execute(_LIMITED) if agent is None else conn.execute(LIMITED_OF, args)
    return [LimitedState(*values(row)) for row in found]


def limited_agents(conn: Conn) -> set[str]:
    """The agents some signal sees ``limited``."""
    return {
        r["agent"] for r in conn.execute("SELECT agent FROM agent_signals WHERE state = 'limited'")
    }
