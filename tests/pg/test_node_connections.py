"""What a delivery node costs the server: its connections, the notifications it hears, the
claims it makes (a fleet of 100 nodes on one cluster must not run out of connections)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path

import psycopg
import pytest

from core.coordinator.node import DeliveryNode
from core.delivery import _node_claims as node_claims
from core.delivery import _prompt as prompt
from core.models import DeliveryState
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.postgres.store import delivery_channels
from tests.helpers import RecordingDeliverer
from tests.pg.procs import start

pytestmark = [
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
    pytest.mark.timeout(60),
]
OLD_WAKE = (  # the trigger function before the channel per agent: one channel for all nodes
    "CREATE OR REPLACE FUNCTION swarm_delivery_queued() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN PERFORM pg_notify('swarm_delivery', NEW.agent_id); RETURN NULL; END $$"
)


CLIENTS = (  # the other client connections to this database
    "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
    "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
)


def _clients(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    """The queries of the other client connections to ``conn``'s database."""
    return [str(r[0]) for r in conn.execute(CLIENTS).fetchall()]


def _wait(check: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_node_process_opens_its_write_connection_and_its_listen_only(
    tmp_path: Path, node_settings: Settings, database_url: str
) -> None:
    """... and serves its machine's hooks: a hook whose own database URL leads nowhere
    records through the node's socket."""
    env = {
        "SWARM_HOME": str(tmp_path / "h"),  # short: a Unix socket's path is at most ~100 B
        "SWARM_CONFIG": str(node_settings.config_path),
        "SWARM_DATABASE_URL": database_url,
    }
    proc = start("node", tmp_path, env, "node", "--name", "desk-1")
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:

            def ready() -> bool:  # it listens and has said it is alive (it has read by then)
                beat = conn.execute("SELECT 1 FROM nodes WHERE name = 'desk-1'").fetchone()
                listening = any(q.startswith("LISTEN") for q in _clients(conn))
                return beat is not None and listening

            _wait(ready, f"the node never listened:\n{proc.text()}")
            queries = _clients(conn)
        assert len(queries) == 2, queries  # its writer (reads too) and its LISTEN: no pool
        hook = {**os.environ, **env, "SWARM_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"}
        event = {"session_id": "s", "cwd": "/", "hook_event_name": "PreToolUse",
                 "tool_name": "Bash", "tool_input": {"command": "make"}}  # fmt: skip
        subprocess.run([sys.executable, "-m", "bot.cli.hook", "--agent", "A-1"], env=hook,
                       input=json.dumps(event), text=True, timeout=30, check=True)  # fmt: skip
        with psycopg.connect(database_url, autocommit=True) as conn:

            def states() -> list[str]:
                rows = conn.execute("SELECT state FROM agent_signals WHERE agent = 'A-1'")
                return [r[0] for r in rows.fetchall()]

            # the node's socket answers the hook before it writes (under load: later)
            _wait(lambda: bool(states()), f"the hook's event was never written:\n{proc.text()}")
            assert states() == ["working"]
    finally:
        proc.stop()


@pytest.fixture
async def coordinator(node_settings: Settings) -> AsyncIterator[SwarmService]:
    service = await SwarmService.open(node_settings)
    yield service
    await service.close()


async def test_a_node_service_reads_on_its_write_connection(
    node_settings: Settings, database_url: str, coordinator: SwarmService
) -> None:
    probe = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    async with probe:

        async def clients() -> int:
            return len(await (await probe.execute(CLIENTS)).fetchall())

        assert await coordinator.messages.deliveries() == []
        assert await clients() == 2  # its writer, and the one reader its reads needed so far
        node = await SwarmService.open(node_settings, readers=0)
        try:
            await node.messages.send("A-1", "hello", "test")
            assert [d.agent for d in await node.messages.deliveries()] == ["A-1"]
            assert await clients() == 3  # one more (its writer), not two
        finally:
            await node.close()


async def test_a_node_hears_only_its_own_agents_deliveries_and_old_databases_are_brought_up(
    node_settings: Settings, database_url: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(OLD_WAKE)  # a database made before the channel per agent
    service = await SwarmService.open(node_settings)  # brings the trigger's function up
    try:
        channels = await service.store.read(delivery_channels, ["A-1", "A-2"])
        with psycopg.connect(database_url, autocommit=True) as listener:
            for channel in channels:
                listener.execute(f'LISTEN "{channel}"')
            await service.messages.broadcast("to everyone", "test")  # B-1, C-1
            await service.messages.send("A-1", "to A-1 alone", "test")  # the last one heard
            heard = [
                n.payload
                for n in await asyncio.to_thread(
                    lambda: list(listener.notifies(timeout=20, stop_after=3))
                )
            ]
    finally:
        await service.close()
    assert sorted(heard[:2]) == ["A-1", "A-2"] and heard[2:] == ["A-1"], heard


class CountingNode(DeliveryNode):
    """Counts its claims, and says when it sleeps."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.claims = 0
        self.asleep = asyncio.Event()

    async def claim(
        self, agents: list[str] | None = None, limit: int | None = None
    ) -> list[tuple[node_claims.Claim, prompt.PromptFacts | None]]:
        self.claims += 1
        return await super().claim(agents, limit)

    async def _sleep(self, stop: asyncio.Event) -> bool:
        self.asleep.set()
        try:
            return await super()._sleep(stop)
        finally:
            self.asleep.clear()


def _has(desk: RecordingDeliverer, n: int) -> bool:
    return len(desk.parcels) == n


async def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.01)


async def test_a_node_claims_once_per_wake_when_it_took_everything_due(
    node_settings: Settings, coordinator: SwarmService
) -> None:
    service = await SwarmService.open(node_settings, readers=0)
    desk = RecordingDeliverer()
    node = CountingNode(service, desk, "desk-1", lease_s=30)
    stop = asyncio.Event()
    running = asyncio.create_task(node.run(stop))
    try:
        await _until(lambda: node.asleep.is_set(), "the node never slept")
        before = 0
        for n in range(1, 4):
            await coordinator.messages.send("A-1", f"message {n}", "test")
            await _until(partial(_has, desk, n), f"message {n} not delivered")
            await _until(lambda: node.asleep.is_set(), "the node never slept again")
            before = node.claims if n == 1 else before
        # two wakes after the first: one claim each (it took all that was due: < batch)
        assert node.claims - before == 2
    finally:
        stop.set()
        await running
        await service.close()


async def test_a_node_started_verbose_logs_its_debug_lines(
    tmp_path: Path, node_settings: Settings, database_url: str
) -> None:
    """``swarm --verbose node``: the node's own debug lines are logged (its delivery's
    ``timing:`` line here; the node's INFO level for its progress once took them away);
    without it, none are."""
    env = {
        "SWARM_HOME": str(tmp_path / "h"),
        "SWARM_CONFIG": str(node_settings.config_path),
        "SWARM_DATABASE_URL": database_url,
    }
    verbose = start("verbose", tmp_path, env, "--verbose", "node", "--name", "desk-1")
    quiet = start("quiet", tmp_path, {**env, "SWARM_HOME": str(tmp_path / "q")}, "node",
                  "--name", "desk-2")  # fmt: skip
    service = await SwarmService.open(node_settings)
    try:
        await service.messages.send("A-1", "for the verbose node", "test")
        await service.messages.send("B-1", "for the quiet one", "test")
        deadline = time.monotonic() + 20
        while not await _all_delivered(service, 2):
            assert time.monotonic() < deadline, f"{verbose.text()}\n{quiet.text()}"
            await asyncio.sleep(0.05)
    finally:
        await service.close()
        verbose.stop()
        quiet.stop()
    assert any("timing: delivery" in line for line in _own_debug(verbose.text())), verbose.text()
    assert _own_debug(quiet.text()) == [], quiet.text()


async def _all_delivered(service: SwarmService, count: int) -> bool:
    """Whether ``count`` deliveries were made and each was delivered."""
    deliveries = await service.messages.deliveries(limit=100)
    return len(deliveries) == count and all(d.state is DeliveryState.delivered for d in deliveries)


def _own_debug(log: str) -> list[str]:
    """The DEBUG lines of swarm's own loggers in ``log``."""
    own = (" DEBUG bot.", " DEBUG core.", " DEBUG automation.")
    return [line for line in log.splitlines() if any(mark in line for mark in own)]
