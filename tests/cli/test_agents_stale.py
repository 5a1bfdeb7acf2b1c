"""``swarm agents`` while no coordinator runs (issue 64, item 3): each agent's state is the
one swarm last saw, and it says how old it is (before: a protocol agent whose turn
ended while ``swarm run`` was down read ``working`` as if now)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from core.agent_state import AgentState, Observation, Signal
from core.agents import _signals as agent_signals
from core.coordinator.home_lock import CoordinatorLock
from core.service.swarm import SwarmService
from tests.helpers import run_cli


async def test_agents_says_how_old_each_state_is_while_no_coordinator_runs(
    home: Path, service: SwarmService
) -> None:
    said = Observation("Agent-1", Signal.PROTOCOL, AgentState.WORKING, time.time() - 600, "x")
    await service.store.write("test", lambda conn, ctx: agent_signals.set_state(
        conn, "Agent-1", AgentState.WORKING, said.at, Signal.PROTOCOL, "protocol: answering"
    ))  # fmt: skip
    stopped = run_cli(home, "agents")
    assert stopped.code == 0, stopped.err
    assert "working (as of 10m ago)" in stopped.out
    assert "unknown (as of" not in stopped.out  # an agent never seen: no age to say
    rows = json.loads(run_cli(home, "agents", "--json").out)
    assert rows and all(row["stale"] is True for row in rows)
    with CoordinatorLock(home):
        running = run_cli(home, "agents")
        assert "(as of" not in running.out
        rows = json.loads(run_cli(home, "agents", "--json").out)
        assert all("stale" not in row for row in rows)
