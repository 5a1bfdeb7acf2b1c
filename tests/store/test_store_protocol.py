"""The ``Store`` protocol is what callers use, on both databases: concurrent writes, the
change notifications, fencing, and whether delivery nodes can serve agents."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import StorageError
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.conn import Channel
from tests.helpers import RecordingDeliverer, write_agents

pytestmark = pytest.mark.both_databases


def _one(conn: object) -> int:
    return int(conn.execute("SELECT 1 AS one").fetchone()["one"])  # type: ignore[attr-defined]


async def test_every_store_runs_concurrent_writes_and_notification_switches(
    service: SwarmService,
) -> None:
    store = service.store  # the one door: the store's operations are StoreAccess's
    assert await store.write_concurrent(_one) == 1
    store.notify_changes(False)
    store.notify_changes(True)
    assert store.backend_pid() >= 0


async def test_a_fenced_store_refuses_all_work_with_the_reason(service: SwarmService) -> None:
    assert await service.store.read(_one) == 1
    service.store.fence("lost the scheduler lock (test): stopped")
    for call in (service.store.read, service.store.update, service.store.write_concurrent):
        with pytest.raises(StorageError, match="lost the scheduler lock"):
            await call(_one)


async def test_a_node_serves_its_agent_only_where_the_store_shares_nodes(
    tmp_path: Path, database_url: str | None, clock: ManualClock
) -> None:
    config = write_agents(
        tmp_path / "agents.toml", [{"id": "A", "role": "w", "delivery": "inbox", "node": "desk"}]
    )
    settings = Settings(home=tmp_path / "home", config_path=config, database_url=database_url)
    service = await SwarmService.open(settings, clock)
    try:
        shared = service.store.serves_nodes
        assert shared == (database_url is not None)
        assert service.agents["A"].node == ("desk" if shared else None)
        await service.messages.send("A", "hello", "test")
        from core.coordinator.scheduler import Scheduler

        deliverer = RecordingDeliverer()
        await Scheduler(service, deliverer).run_burst()
        # on SQLite the coordinator delivers (no node can); on PostgreSQL the node "desk" does
        assert len(deliverer.for_agent("A")) == (0 if shared else 1)
        rows = {r["id"]: r["node"] for r in await service.roster.rows()}
        assert rows == {"A": "desk" if shared else None}
    finally:
        await service.close()


async def test_a_store_that_listens_hears_another_processs_commit_and_queued_delivery(
    service: SwarmService, database_url: str | None, clock: ManualClock
) -> None:
    import asyncio

    if database_url is None:  # SQLite: other processes' commits show in data_version only
        assert not service.store.listens
        with pytest.raises(StorageError, match="needs PostgreSQL"):
            await service.store.listen("changes", lambda *_: None, lambda: None, "test")
        return
    assert service.store.listens
    heard: dict[str, list[tuple[int, str]]] = {"changes": [], "deliveries": []}
    ready = {name: asyncio.Event() for name in heard}
    got = {name: asyncio.Event() for name in heard}

    def listening(name: Channel) -> asyncio.Task[None]:
        def hear(pid: int, text: str) -> None:
            heard[name].append((pid, text))
            got[name].set()

        agents = ["Agent-1"] if name == "deliveries" else []  # a channel per agent
        return asyncio.create_task(
            service.store.listen(name, hear, ready[name].set, "test", agents)
        )

    listeners = [listening("changes"), listening("deliveries")]
    other = await SwarmService.open(service.settings, clock)  # another process, in effect
    try:
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ready.values())), 10)
        await other.messages.send("Agent-1", "hello", "test")
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in got.values())), 10)
        assert {pid for pid, _ in heard["changes"]} == {other.store.backend_pid()}
        assert {text for _, text in heard["deliveries"]} == {"Agent-1"}
    finally:
        for task in listeners:
            task.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)
        await other.close()
