"""The alerts' and the hook-named sessions' statements run alike on both databases: an
agent's open alerts of some kinds, every alert listed (cleared ones too), a session named
once and the agent's old ones forgotten."""

from __future__ import annotations

import pytest

from core.agents import _alert_queries as alert_queries
from core.agents import _session_queries as session_queries
from core.service.swarm import SwarmService
from core.store.conn import Conn

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


def _alerts(conn: Conn) -> tuple[list[str], list[str], list[str]]:
    for kind in ("stalled", "unreachable", "limited"):
        alert_queries.insert_open(conn, "Agent-1", kind, f"{kind}!", 1.0)
    alert_queries.insert_open(conn, "Agent-2", "stalled", "stalled!", 1.0)
    (stalled,) = alert_queries.open_of(conn, "Agent-1", ("stalled",))
    alert_queries.mark_cleared(conn, stalled.id, 2.0, "working again")
    of = sorted(r.kind for r in alert_queries.open_of(conn, "Agent-1", ("stalled", "limited")))
    every = [r.kind for r in alert_queries.rows(conn, True, 10) if r.agent == "Agent-1"]
    still = [r.kind for r in alert_queries.rows(conn, False, 10) if r.agent == "Agent-1"]
    return of, every, still


async def test_open_alerts_of_kinds_and_every_alert_listed(service: SwarmService) -> None:
    of, every, still = await service.store.update(_alerts)
    assert of == ["limited"]
    assert every == ["limited", "unreachable", "stalled"]  # newest first
    assert still == ["limited", "unreachable"]


def _sessions(conn: Conn) -> dict[str, set[str]]:
    session_queries.name(conn, "Agent-1", "old", 1.0)
    session_queries.name(conn, "Agent-1", "kept", 1.0 + session_queries.KEPT_S)
    session_queries.name(conn, "Agent-1", "kept", 5.0 + session_queries.KEPT_S)  # known
    session_queries.name(conn, "Agent-1", "new", 2.0 + session_queries.KEPT_S)
    session_queries.name(conn, "Agent-2", "x" * 300, 1.0)
    return session_queries.named(conn)


async def test_a_named_session_is_kept_once_and_old_ones_forgotten(
    service: SwarmService,
) -> None:
    assert await service.store.update(_sessions) == {
        "Agent-1": {"kept", "new"},
        "Agent-2": {"x" * session_queries.SESSION_LIMIT},
    }
