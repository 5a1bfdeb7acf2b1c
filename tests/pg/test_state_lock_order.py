"""A node's write of a protocol agent's state and the coordinator's watch tick take the
agent's ``agent_watch`` and ``agent_state`` rows in one order (issue 50's day on the
protocol route: PostgreSQL ended one of the two as a deadlock about every 5 s, and the
node's connection, with every claim behind it, waited a second each time).

The tick writes every agent's stall clock (``agent_watch``) first, then each agent's state
(``agent_state``); a node taking in a journal that ends the agent's wait for a person stored
the state, then restarted the stall clock. Each held the row the other wanted next."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from core.agent_state import AgentState, Signal
from core.agents import _judge as agent_judge
from core.agents import _queries as agent_queries
from core.agents import _signal_queries as signal_queries
from core.coordinator.jobs import Watcher
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch import queries as watch_queries
from core.watch import stalls
from tests.helpers import write_agents
from tests.watch.conftest import watch_settings

pytestmark = [
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
    pytest.mark.timeout(60),
]
AGENT = "P-1"
OVERLAP_S = 0.5  # the node is inside its transaction by then


def _tick(conn: Any, steps: dict[str, threading.Event]) -> None:
    """The watch tick's order: the stall clocks, then (once the node is under way) the
    state."""
    conn.execute("SET LOCAL deadlock_timeout = '20ms'")
    watch_queries.store_watch_clocks(conn, {AGENT: 1.0}, 2.0)
    steps["clocks"].set()
    assert steps["node"].wait(10)
    time.sleep(OVERLAP_S)
    signal_queries.store_state(conn, (AGENT, "waiting", 1.0, "protocol", "still asking", None))


def _node(conn: Any, ctx: Any, steps: dict[str, threading.Event]) -> bool:
    """A node's journal entry that ends the agent's wait: its verdict applied."""
    conn.execute("SET LOCAL deadlock_timeout = '20ms'")
    steps["node"].set()
    verdict = agent_judge.Verdict(AgentState.WORKING, Signal.PROTOCOL, "protocol: answered")
    return agent_judge.apply(conn, ctx, AGENT, verdict)


async def _service(tmp_path: Path, database_url: str, clock: ManualClock) -> SwarmService:
    config = write_agents(
        tmp_path / "agents.toml", [{"id": AGENT, "role": "w", "delivery": "inbox"}]
    )
    settings = Settings.from_env({"SWARM_HOME": str(tmp_path / "home"),
                                  "SWARM_CONFIG": str(config),
                                  "SWARM_DATABASE_URL": database_url})  # fmt: skip
    return await SwarmService.open(settings, clock)


async def test_a_nodes_state_write_and_the_watch_tick_do_not_deadlock(
    tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    from core.store.postgres.store import connect, run_unlocked

    service = await _service(tmp_path, database_url, clock)
    try:
        ctx = service.ctx("test")
        setup = connect(database_url)
        run_unlocked(
            setup, signal_queries.store_state, (AGENT, "waiting", 0.0, "protocol", "asks", None)
        )
        run_unlocked(setup, watch_queries.store_watch_clocks, {AGENT: 0.0}, 0.0)
        setup.raw.close()
        steps = {"clocks": threading.Event(), "node": threading.Event()}
        outcome: dict[str, Any] = {}

        def side(name: str, fn: Any, *args: Any) -> None:
            conn = connect(database_url)
            try:
                outcome[name] = run_unlocked(conn, fn, *args)
            except Exception as exc:  # the server's deadlock, as the store raises it
                outcome[name] = exc
            finally:
                conn.raw.close()

        tick = threading.Thread(target=side, args=("tick", _tick, steps))
        tick.start()
        assert steps["clocks"].wait(10)
        node = threading.Thread(target=side, args=("node", _node, ctx, steps))
        node.start()
        tick.join(30)
        node.join(30)
        errors = {k: v for k, v in outcome.items() if isinstance(v, BaseException)}
        assert errors == {}, {k: f"{type(v).__name__}: {v}" for k, v in errors.items()}
    finally:
        await service.close()


async def test_the_watch_tick_holds_no_stall_clock_while_it_judges(
    tmp_path: Path, database_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tick stores every agent's watch clock in a transaction of its own, before it
    judges: a node restarting an agent's stall clock meanwhile (its wait for a person over)
    does not wait for the tick's commit (the tick runs long on a busy machine: the node's
    connection, and every prompt behind it, waited up to a second)."""
    from core.store.postgres.store import connect, run_unlocked

    service = await _service(tmp_path, database_url, clock)
    try:
        watcher = Watcher(service, watch_settings())
        await watcher.tick()  # the agent's clock row exists
        judging, go_on = threading.Event(), threading.Event()
        verdicts = stalls._verdicts

        def slow(*args: Any) -> Any:
            judging.set()
            assert go_on.wait(10)
            return verdicts(*args)

        monkeypatch.setattr(stalls, "_verdicts", slow)
        clock.advance(1.0)
        ticking = asyncio.create_task(watcher.tick())
        assert await asyncio.to_thread(judging.wait, 10)
        node = connect(database_url)
        try:
            node.raw.execute("SET lock_timeout = '300ms'")
            run_unlocked(node, agent_queries.restart_stall_clock, AGENT, clock.now())
        finally:
            node.raw.close()
            go_on.set()
        await ticking
    finally:
        await service.close()
