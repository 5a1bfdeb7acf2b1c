"""The observations' and decided states' statements run alike on both databases: an agent's
look (its decided state on each observation's row), an observation dropped, an agent's
decided limit read on its own."""

from __future__ import annotations

import pytest

from core.agents import _signal_queries as signal_queries
from core.service.swarm import SwarmService
from core.store.conn import Conn

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


def _observed(conn: Conn) -> None:
    for signal, state in (("hook", "working"), ("pane", "limited")):
        signal_queries.upsert(conn, ("Agent-1", signal, state, 1.0, "seen", None, None, None))
    signal_queries.store_state(conn, ("Agent-1", "limited", 1.0, "pane", "limit", 9.0))
    signal_queries.store_state(conn, ("Agent-2", "limited", 2.0, "pane", "limit", None))


def _look(conn: Conn) -> list[tuple[str, str | None, str | None]]:
    return sorted((r.decided, r.signal, r.state) for r in signal_queries.look_rows(conn, "Agent-1"))


async def test_a_look_an_observation_dropped_and_one_agent_s_limit(
    service: SwarmService,
) -> None:
    await service.store.update(_observed)
    assert await service.store.read(_look) == [
        ("limited", "hook", "working"),
        ("limited", "pane", "limited"),
    ]
    await service.store.update(signal_queries.delete, "Agent-1", "hook")
    assert await service.store.read(_look) == [("limited", "pane", "limited")]
    rows = await service.store.read(signal_queries.limited_states, "Agent-1")
    assert [(r.id, r.state_until) for r in rows] == [("Agent-1", 9.0)]
    assert await service.store.read(signal_queries.look_rows, "nobody") == []
