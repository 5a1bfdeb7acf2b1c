"""A node's delivered receipt is one statement on PostgreSQL, events included and in order."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from core.assignment import _lifecycle as lifecycle
from core.coordinator.node import DeliveryNode
from core.models import DeliveryState, TaskSpec, TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.conn import Sql
from core.store.postgres.store import clock_version
from tests.helpers import RecordingDeliverer, write_agents

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
async def svc(tmp_path: Path, database_url: str, clock: ManualClock) -> AsyncIterator[SwarmService]:
    """One agent, A-1, served by the node desk-1."""
    config = write_agents(
        tmp_path / "agents.toml",
        [{"id": "A-1", "role": "w", "delivery": "inbox", "node": "desk-1"}],
    )
    settings = Settings.from_env(
        {
            "SWARM_HOME": str(tmp_path / "home"),
            "SWARM_CONFIG": str(config),
            "SWARM_DATABASE_URL": database_url,
        }
    )
    service = await SwarmService.open(settings, clock)
    yield service
    await service.close()


@contextmanager
def statements() -> Iterator[list[str]]:
    """The statements the store sends while the block runs (held event rows included)."""
    from core.store.postgres.store import PgConn

    sent: list[str] = []
    execute = PgConn.execute

    def counted(conn: PgConn, sql: str | Sql, params: Any = ()) -> Any:
        sent.append(sql.text if isinstance(sql, Sql) else sql)
        return execute(conn, sql, params)

    PgConn.execute = counted  # type: ignore[method-assign,assignment]
    try:
        yield sent
    finally:
        PgConn.execute = execute  # type: ignore[method-assign]


def _read(statement: str) -> bool:
    """Whether a statement only reads (a parcel's notices due, a claim's check): not the
    receipt's write."""
    return statement.lstrip().startswith("SELECT")


async def test_a_delivered_receipt_is_one_statement_with_its_events(svc: SwarmService) -> None:
    node = DeliveryNode(svc, RecordingDeliverer(), "desk-1", lease_s=30.0)
    first = await svc.tasks.create(TaskSpec("first: carries the onboarding"), "cli")
    await svc.queue.assign_batch()
    assert await node.step() == 1
    await svc.tasks.complete(first.id, "A-1")
    task = await svc.tasks.create(TaskSpec("prompt"), "cli")
    await svc.queue.assign_batch()
    held = await node.claim()
    with statements() as sent:
        assert await node.deliver(held) == ["delivered"]
    receipts = [s for s in sent if "deliveries" in s and not _read(s)]
    assert len(receipts) == 1, sent  # the update, the lease and both events together
    assert not any(s.lstrip().startswith("INSERT INTO events") for s in sent), sent
    assert {d.state for d in await svc.messages.deliveries()} == {DeliveryState.delivered}
    kinds = [e.kind for e in await svc.history.events(task=task.ref)]
    assert kinds[-2:] == ["delivery.claimed", "delivery.delivered"]
    (lease,) = [t.lease_expires_at for t in await svc.tasks.newest(status="assigned")]
    assert lease is not None and lease == pytest.approx(svc.clock.now() + svc.settings.lease_s)


async def test_done_is_one_statement_and_credits_its_agent(svc: SwarmService) -> None:
    """The done (the update, the agent's credit, its report signal) is one statement; a task
    no task waits for (``has_dependents`` 0, from the row it updated) holds and reads no
    dependents; one that has them holds them, then reads and settles them."""
    task = await svc.tasks.create(TaskSpec("work"), "cli")
    await svc.queue.assign_batch()
    with statements() as sent:
        await svc.store.write("A-1", lifecycle.complete, task.id, "")
    assert len(sent) == 1, sent
    (agent,) = await svc.store.read(
        lambda c: c.execute("SELECT done_count, score FROM agent_state").fetchall()
    )
    assert agent["done_count"] == 1 and agent["score"] == pytest.approx(1.0)
    (signal,) = await svc.store.read(
        lambda c: c.execute("SELECT signal, state, evidence, at FROM agent_signals").fetchall()
    )
    assert signal == {
        "signal": "report",
        "state": "idle",
        "evidence": f"report: {task.ref} done by A-1",
        "at": svc.clock.now(),
    }
    first = await svc.tasks.create(TaskSpec("first"), "cli")
    then = await svc.tasks.create(TaskSpec("then", after=(first.id,)), "cli")
    await svc.queue.assign_batch()
    with statements() as sent:
        await svc.store.write("A-1", lifecycle.complete, first.id, "")
    assert len(sent) == 4 and "FOR UPDATE" in sent[1], sent  # held, read, made ready
    assert (await svc.tasks.get(then.id)).status is TaskStatus.ready


async def test_a_batch_of_receipts_is_one_statement_and_a_lost_claim_writes_nothing(
    svc: SwarmService,
) -> None:
    node = DeliveryNode(svc, RecordingDeliverer(), "desk-1", lease_s=30.0)
    for i in range(3):
        await svc.messages.send("A-1", f"message {i}", "cli")
    held = await node.claim()
    assert len(held) == 3
    lost = held[1][0].delivery.id
    await svc.store.update(
        lambda c: c.execute("UPDATE deliveries SET node = 'desk-2:other' WHERE id = $1", (lost,))
    )
    before = await svc.store.read(clock_version)
    with statements() as sent:
        assert await node.deliver(held) == ["delivered", "lost", "delivered"]
    assert len([s for s in sent if not _read(s)]) == 1, sent  # (each prompt's notices read)
    # a commit that changed rows: the scheduler's data version moves (and it is notified)
    assert await svc.store.read(clock_version) == before + 1
    states = {d.id: d.state for d in await svc.messages.deliveries()}
    assert states[lost] is DeliveryState.delivering
    assert {states[h.delivery.id] for h, _ in held if h.delivery.id != lost} == {
        DeliveryState.delivered
    }
    rows = await svc.store.read(
        lambda c: c.execute(
            "SELECT kind, data FROM events WHERE kind LIKE 'delivery.%' ORDER BY id"
        ).fetchall()
    )
    kept = [h.delivery.id for h, _ in held if h.delivery.id != lost]
    assert [(r["kind"], json.loads(r["data"])["delivery"]) for r in rows] == [
        ("delivery.claimed", kept[0]),
        ("delivery.delivered", kept[0]),
        ("delivery.claimed", kept[1]),
        ("delivery.delivered", kept[1]),
    ]


async def test_an_assignment_pass_writes_in_one_statement(svc: SwarmService) -> None:
    """The agents' read, the ready tasks' read, then the tasks taken, their prompts, their
    deliveries and the agents' stamp in one statement (the events go with the COMMIT)."""
    task = await svc.tasks.create(TaskSpec("work"), "cli")
    before = await svc.store.read(_agent_versions)
    with statements() as sent:
        (made,) = await svc.queue.assign_batch()
    assert len(sent) == 3, sent
    assert (made.task_id, made.agent) == (task.id, "A-1")
    (delivery,) = await svc.messages.deliveries()
    assert (delivery.message_id, delivery.agent, delivery.task_id) == (
        made.message_id,
        "A-1",
        task.id,
    )
    assert delivery.state is DeliveryState.queued
    # no agent row written (its version unchanged): a pass that stamped its agents locked
    # them in its own order and deadlocked with a node's receipts onboarding them
    assert await svc.store.read(_agent_versions) == before
    assert (await svc.tasks.get(task.ref)).agent == "A-1"


def _agent_versions(conn: Any) -> list[tuple[str, str]]:
    """Each agent row and the transaction that wrote its current version."""
    rows = conn.execute("SELECT id, xmin::text AS v FROM agent_state ORDER BY id").fetchall()
    return [(r["id"], r["v"]) for r in rows]
