"""State in columns, not strings (issue 25): a deferred delivery's flag, a node's claimer as
its name and its run, what a blocked task waits for; the migration that converts the rows
of a database at the previous version; states returned as enums. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.coordinator.scheduler import Scheduler
from core.delivery import _messages as messages
from core.delivery import _node_claims as node_claims
from core.delivery import _queries as delivery_queries
from core.delivery._node_claims import Claimer
from core.models import BlockedOn, ClaimOutcome, DeliveryState, Receipt, TaskSpec, TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.store.migrations import migrations
from core.tasks import _person as person
from core.workflows import WorkflowBook
from tests.conftest import BACKENDS
from tests.delivery.old_database import old_database
from tests.helpers import RecordingDeliverer, query

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


async def _deferred_once(service: SwarmService, deliverer: RecordingDeliverer) -> Scheduler:
    """A message to Agent-2 deferred once ("paused"); the scheduler that deferred it."""
    await service.messages.send("Agent-2", "hello", "cli")
    deliverer.deferring["Agent-2"] = "paused"
    scheduler = Scheduler(service, deliverer)
    await scheduler.deliver_once()
    return scheduler


async def test_a_deferral_is_a_flag_and_its_reason_only_the_human_text(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    scheduler = await _deferred_once(service, deliverer)
    (waiting,) = await service.messages.deliveries()
    assert (waiting.state, waiting.reason, waiting.deferred) == (
        DeliveryState.queued,
        "paused",
        True,
    )
    assert query(service.settings, "SELECT deferred, reason FROM deliveries") == [(1, "paused")]
    assert waiting.to_json()["deferred"] is True
    clock.advance(2)
    deliverer.deferring["Agent-2"] = "the human is typing"  # another reason: recorded again
    await scheduler.deliver_once()
    clock.advance(2)
    del deliverer.deferring["Agent-2"]
    await scheduler.deliver_once()
    (landed,) = await service.messages.deliveries()
    assert (landed.state, landed.reason, landed.deferred) == (DeliveryState.delivered, None, False)
    texts = [e.text for e in await service.history.events() if e.kind == "delivery.deferred"]
    assert [t.rsplit(": ", 1)[1] for t in texts] == ["paused", "the human is typing"]


async def test_a_retry_after_a_deferral_is_no_longer_deferred(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    scheduler = await _deferred_once(service, deliverer)
    del deliverer.deferring["Agent-2"]
    deliverer.failing["Agent-2"] = "window gone"
    clock.advance(2)
    await scheduler.deliver_once()
    (retrying,) = await service.messages.deliveries()
    assert (retrying.reason, retrying.deferred, retrying.attempts) == ("window gone", False, 1)
    claimed = [e for e in await service.history.events() if e.kind == "delivery.claimed"]
    assert len(claimed) == 1  # the deferral streak's second claim was not recorded


async def test_what_a_blocked_task_waits_for_is_a_column(service: SwarmService) -> None:
    first, after, gate = await service.tasks.create_many(
        [
            TaskSpec("first", ref="a", agent="Agent-1"),
            TaskSpec("after", ref="b", after=("a",)),
            TaskSpec("gate", ref="g", after=("a",), kind="gate"),
        ],
        "cli",
    )
    assert (await service.tasks.get(first)).blocked_on is None  # ready
    assert {(await service.tasks.get(t)).blocked_on for t in (after, gate)} == {
        BlockedOn.dependencies
    }
    await Scheduler(service, RecordingDeliverer()).run_burst()
    await service.tasks.fail(first, "Agent-1", "broke")
    blocked = await service.tasks.get(after)
    assert (blocked.status, blocked.blocked_on) == (TaskStatus.blocked, BlockedOn.dependency_failed)
    assert blocked.to_json()["blocked_on"] == "dependency_failed"
    await service.tasks.retry(first, "cli")
    await Scheduler(service, RecordingDeliverer()).run_burst()
    await service.tasks.complete(first, "Agent-1")
    assert (await service.tasks.get(after)).blocked_on is None  # ready now
    assert (await service.tasks.get(gate)).blocked_on is BlockedOn.gate
    assert query(service.settings, "SELECT id FROM tasks WHERE blocked_on = 'gate'") == [(gate,)]
    await service.tasks.cancel(gate, "cli")
    assert (await service.tasks.get(gate)).blocked_on is None


async def test_a_person_waiting_for_someone_is_blocked_whatever_the_text_says(
    service: SwarmService,
) -> None:
    """The reason is a person's text: one that starts with "waiting" is still a person's."""
    first, after = await service.tasks.create_many(
        [TaskSpec("first", ref="a", agent="Agent-1"), TaskSpec("after", ref="b", after=("a",))],
        "cli",
    )
    flows = WorkflowBook(service.store)
    campaign = await flows.create_campaign("C", [f"T-{first}", f"T-{after}"], "cli")
    await Scheduler(service, RecordingDeliverer()).run_burst()
    await service.tasks.complete(first, "Agent-1")
    await service.store.write("cli", person.take_over, first, "waiting for the vendor's fix")
    taken = await service.tasks.get(first)
    assert (taken.status, taken.blocked_on) == (TaskStatus.blocked, BlockedOn.person)
    summary = (await flows.campaign(f"C-{campaign}")).to_json(0)
    assert (summary["blocked"], summary["waiting"]) == (1, 1)  # a person; T-after waits


async def test_a_receipt_returns_the_delivery_state_enum(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    await service.messages.send("Agent-2", "hello", "cli")
    claimed = await service.store.write("cli", messages.claim)
    assert claimed is not None
    state = await service.store.write("cli", messages.finish, claimed, Receipt.delivered("test"))
    assert state is DeliveryState.delivered


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_claimer_is_a_name_and_a_run_and_a_name_may_hold_a_colon(
    service: SwarmService, clock: ManualClock
) -> None:
    await service.messages.send("Agent-1", "hello", "cli")
    first, second = Claimer("desk:1", "run-a"), Claimer("desk:1", "run-b")
    now = clock.now()
    (held,) = await service.store.write_concurrent(
        node_claims.claim, first, ["Agent-1"], now, 30.0, 8
    )
    assert query(service.settings, "SELECT node, node_run FROM deliveries") == [("desk:1", "run-a")]
    for name in ("desk", "desk:1"):  # "desk" is a prefix of the other's name
        await service.store.write_concurrent(
            delivery_queries.heartbeat, name, ["Agent-1"], "host", 1, now, now
        )
    rows = await service.store.read(delivery_queries.node_rows)
    assert {r.name: r.in_flight for r in rows} == {"desk": 0, "desk:1": 1}
    assert await service.store.read(node_claims.holds, first, held.delivery.id)
    assert not await service.store.read(node_claims.holds, second, held.delivery.id)
    done = [(held, Receipt.delivered("test"), False)]
    tasks = service.queue.on_failed_prompt
    # another run
    lost = await service.store.write("desk:1", node_claims.finish, second, done, tasks)
    assert lost == [ClaimOutcome.lost] and isinstance(lost[0], ClaimOutcome)
    (outcome,) = await service.store.write("desk:1", node_claims.finish, first, done, tasks)
    assert outcome is ClaimOutcome.delivered
    (claimed,) = [e for e in await service.history.events() if e.kind == "delivery.claimed"]
    assert "delivering by desk:1 (attempt 1)" in claimed.text
    assert claimed.data is not None and (claimed.data["node"], claimed.data["run"]) == (
        "desk:1",
        "run-a",
    )


# A database one version old: rows that held their state in strings.
_OLD_ROWS = (
    "INSERT INTO tasks (title, priority, status, reason, created_at, updated_at, kind) VALUES "
    "('first', 1, 'failed', 'broke', 0, 0, 'work'), "
    "('waits', 1, 'blocked', 'waiting for T-6', 0, 0, 'work'), "
    "('gate', 1, 'blocked', 'waiting for approval', 0, 0, 'gate'), "
    "('broken', 1, 'blocked', 'dependency T-1 failed', 0, 0, 'work'), "
    "('taken', 1, 'blocked', 'taken over by discord:boss', 0, 0, 'work'), "
    "('open', 1, 'ready', NULL, 0, 0, 'work')",
    "INSERT INTO task_deps (task_id, dep_id) VALUES (4, 1)",
    "INSERT INTO messages (sender, target, text, created_at) VALUES "
    "('cli', 'agent:Agent-2', 'deferred one', 0), ('cli', 'agent:Agent-3', 'claimed one', 0)",
    "INSERT INTO deliveries (message_id, agent_id, state, attempts, reason, created_at, "
    "updated_at, node, claim_until) VALUES "
    "(1, 'Agent-2', 'queued', 0, 'deferred: paused', 0, 0, NULL, NULL), "
    "(2, 'Agent-3', 'delivering', 1, NULL, 0, 0, 'desk:1:abcd1234', 0)",
)


# the version before the state-columns migration (later ones may follow it)
_BEFORE = next(
    number
    for number, steps in enumerate(migrations("sqlite"))
    if "ALTER TABLE deliveries ADD COLUMN deferred INTEGER NOT NULL DEFAULT 0" in steps
)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_upgraded_database_keeps_its_state_in_the_new_columns(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> None:
    with old_database(backend, request, tmp_path / "home", _BEFORE, _OLD_ROWS) as settings:
        service = await SwarmService.open(settings, clock)
        try:
            await _check_upgraded(service)
        finally:
            await service.close()


async def _check_upgraded(service: SwarmService) -> None:
    settings = service.settings
    assert query(settings, "SELECT reason, deferred FROM deliveries ORDER BY id") == [
        ("paused", 1),
        (None, 0),
    ]
    assert query(settings, "SELECT node, node_run FROM deliveries ORDER BY id") == [
        (None, None),
        ("desk:1", "abcd1234"),  # split at the last ":", as rsplit did
    ]
    # a later migration marks the tasks others wait for (T-4 waits for T-1)
    assert query(settings, "SELECT id FROM tasks WHERE has_dependents = 1") == [(1,)]
    waits = {t.title: t.blocked_on for t in await service.tasks.newest()}
    assert waits == {
        "first": None,
        "waits": BlockedOn.dependencies,
        "gate": BlockedOn.gate,
        "broken": BlockedOn.dependency_failed,
        "taken": BlockedOn.person,
        "open": None,
    }
    # it behaves as before: the deferral streak goes on unrecorded, the gate can be approved
    deliverer = RecordingDeliverer(deferring={"Agent-2": "paused"})
    await Scheduler(service, deliverer).deliver_once()
    assert [e.kind for e in await service.history.events()] == []
    await WorkflowBook(service.store).approve("T-3", "alice")
    assert (await service.tasks.get(3)).status is TaskStatus.done
