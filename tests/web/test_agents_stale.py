"""The dashboard while no coordinator runs (``swarm web`` alone): each agent's state is the
one swarm last saw, and the agents page, an agent's page and ``GET /api/v1/agents`` say how
old it is, as ``swarm agents`` does (one reading: ``core/coordinator/watched.py``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from core.agent_state import AgentState, Signal
from core.agents import _signals as agent_signals
from core.context import Ctx
from core.coordinator import db_lock
from core.coordinator.home_lock import CoordinatorLock
from core.service.swarm import SwarmService
from core.store.conn import Conn
from tests.web.conftest import bearer
from tests.web.test_pages import login

pytestmark = pytest.mark.both_databases
STATE = '<p class="state">working <span class="stale"'


@contextlib.asynccontextmanager
async def coordinator_running(service: SwarmService, url: str | None) -> AsyncIterator[None]:
    """What ``swarm run`` holds while it runs: the home's lock file (SQLite), the scheduler
    lock (PostgreSQL)."""
    if url is None:
        with CoordinatorLock(service.settings.home):
            yield
        return
    async with db_lock.hold(url, 5.0):
        yield


async def test_the_agents_views_say_how_old_a_state_is_while_no_coordinator_runs(
    client: httpx.AsyncClient,
    service: SwarmService,
    viewer_token: str,
    database_url: str | None,
) -> None:
    seen_at = service.clock.now() - 600

    def working(conn: Conn, ctx: Ctx) -> None:
        agent_signals.set_state(
            conn, "Agent-1", AgentState.WORKING, seen_at, Signal.PROTOCOL, "protocol: answering"
        )

    await service.store.write("test", working)
    await login(client, viewer_token)
    agents = (await client.get("/agents")).text
    card = agents.split('id="agent-Agent-1"', 1)[1].split("</article>", 1)[0]
    assert STATE in card and ">(as of 10 min ago)</span>" in card
    page = (await client.get("/agents/Agent-1")).text
    assert ">(as of 10 min ago)</span>" in page
    rows = (await client.get("/api/v1/agents", headers=bearer(viewer_token))).json()
    assert rows and all(row["stale"] is True for row in rows)
    never_seen = agents.split('id="agent-Agent-2"', 1)[1].split("</article>", 1)[0]
    assert "as of" not in never_seen  # an agent never seen: no age to say

    async with coordinator_running(service, database_url):
        assert "as of" not in (await client.get("/agents")).text
        assert "as of" not in (await client.get("/agents/Agent-1")).text
        rows = (await client.get("/api/v1/agents", headers=bearer(viewer_token))).json()
        assert rows and all("stale" not in row for row in rows)
