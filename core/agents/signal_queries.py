"""The statements of the agents' observations and decided states (``core.agents.signals``):
an observation kept (one row per agent and signal), read, dropped; an agent's decided state
read and stored. Each is one named operation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.store.conn import Conn

INSERT_HEAD = (
    "INSERT INTO agent_signals (agent, signal, state, at, evidence, until, detail, active_at) "
)
# What an observation does to the row already there (also the done's one statement on
# PostgreSQL: ``core.tasks.queries``).
ON_CONFLICT = (
    "ON CONFLICT (agent, signal) DO UPDATE SET "
    "state = excluded.state, at = excluded.at, evidence = excluded.evidence, "
    "until = excluded.until, detail = excluded.detail, "
    "active_at = COALESCE(excluded.active_at, agent_signals.active_at)"
)
_UPSERT = f"{INSERT_HEAD}VALUES ($1, $2, $3, $4, $5, $6, $7, $8) {ON_CONFLICT}"


def upsert(conn: Conn, row: Sequence[Any]) -> None:
    """Keep ``row`` (agent, signal, state, at, evidence, until, detail, active_at) as its
    signal's latest observation of its agent."""
    conn.execute(_UPSERT, row)


def active_rows(conn: Conn) -> Any:
    """The observations that saw their agent working (``agent``, ``signal``, ``active_at``)."""
    return conn.execute(
        "SELECT agent, signal, active_at FROM agent_signals WHERE active_at IS NOT NULL"
    )


def observation_rows(conn: Conn) -> list[Any]:
    """Every observation's row (agent, signal, state, at, evidence, until, detail,
    active_at: in this order)."""
    rows: list[Any] = conn.execute(
        "SELECT agent, signal, state, at, evidence, until, detail, active_at FROM agent_signals"
    ).fetchall()
    return rows


def delete(conn: Conn, agent: str, signal: str) -> None:
    """Drop ``signal``'s observation of ``agent``."""
    conn.execute("DELETE FROM agent_signals WHERE agent = $1 AND signal = $2", (agent, signal))


def state_row(conn: Conn, agent: str) -> Any:
    """``agent``'s decided state (``state``, ``state_since``, ``state_signal``,
    ``state_evidence``), or None."""
    return conn.execute(
        "SELECT state, state_since, state_signal, state_evidence FROM agent_state WHERE id = $1",
        (agent,),
    ).fetchone()


def store_state(
    conn: Conn, agent: str, state: str, since: float, signal: str | None, evidence: str
) -> None:
    """Store ``agent``'s decided state (its row made first if it has none)."""
    conn.execute("INSERT INTO agent_state (id) VALUES ($1) ON CONFLICT (id) DO NOTHING", (agent,))
    conn.execute(
        "UPDATE agent_state SET state = $1, state_since = $2, state_signal = $3, "
        "state_evidence = $4 WHERE id = $5",
        (state, since, signal, evidence, agent),
    )


def limited_states(conn: Conn) -> Any:
    """The decided states that are ``limited`` (``id``, ``state_since``, ``state_until``,
    ``state_signal``, ``state_evidence``)."""
    return conn.execute(
        "SELECT id, state_since, state_until, state_signal, state_evidence FROM agent_state "
        "WHERE state = 'limited'"
    )


def set_state_until(conn: Conn, agent: str, until: float | None) -> None:
    """Until when ``agent``'s decided state holds (a usage limit's reset), or None."""
    conn.execute("UPDATE agent_state SET state_until = $1 WHERE id = $2", (until, agent))


def limited_agents(conn: Conn) -> set[str]:
    """The agents some signal sees ``limited``."""
    return {
        r["agent"] for r in conn.execute("SELECT agent FROM agent_signals WHERE state = 'limited'")
    }
