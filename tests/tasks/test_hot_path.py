"""The lifecycle's hot path on SQLite: how many statements and transactions each step costs
(counted by SQLite's own trace callback, not timed), and that the cheaper paths decide what
the longer ones did."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

import pytest

from core.coordinator.scheduler import Scheduler
from core.errors import InvalidInput
from core.models import TaskSpec, TaskStatus
from core.service.swarm import SwarmService
from core.store.conn import Conn
from core.workflows import WorkflowBook
from tests.helpers import RecordingDeliverer


class Trace:
    """The statements one connection ran, BEGIN and COMMIT apart; ``triggered``: the trigger
    programs they ran (SQLite reports each with its statement's own text, parameters
    expanded, right after it, so a repeat of the statement just before is one)."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.transactions = 0
        self.triggered = 0

    def __call__(self, sql: str) -> None:
        head = sql.lstrip().upper()
        text = " ".join(sql.split())
        if head.startswith("BEGIN"):
            self.transactions += 1
        elif self.statements and text == self.statements[-1]:
            self.triggered += 1
        elif not head.startswith(("COMMIT", "ROLLBACK")):
            self.statements.append(text)


@asynccontextmanager
async def traced(service: SwarmService) -> AsyncIterator[Trace]:
    """Count what the service's SQLite connection runs inside the block."""
    trace = Trace()

    def attach(conn: Conn, callback: Trace | None) -> None:
        cast(sqlite3.Connection, conn).set_trace_callback(callback)

    await service.store.read(attach, trace)
    try:
        yield trace
    finally:
        await service.store.read(attach, None)


async def test_done_reads_its_task_once_and_its_dependents_once(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    first = await service.tasks.create(TaskSpec("first"), "cli")
    after = [
        await service.tasks.create(TaskSpec(f"then {i}", after=(first.ref,)), "cli")
        for i in range(3)
    ]
    await Scheduler(service, deliverer).run_burst()
    (held,) = await service.tasks.newest(status="assigned")
    assert held.agent is not None
    async with traced(service) as trace:
        await service.tasks.complete(first.id, held.agent, "ok")
    # the task (with its campaign and reservations), its update, the agent's credit and
    # signal, the event; the dependents with their dependencies; each one's update and event
    assert len(trace.statements) <= 6 + 2 * len(after), trace.statements
    assert trace.transactions == 1
    assert {t.status for t in await service.tasks.newest(status="ready")} == {TaskStatus.ready}
    assert {t.id for t in await service.tasks.newest(status="ready")} == {t.id for t in after}
    await Scheduler(service, deliverer).run_burst()
    alone, *_ = await service.tasks.newest(status="assigned")
    async with traced(service) as trace:
        await service.tasks.complete(alone.id, str(alone.agent), "ok")
    # a task no task waits for: its row says so (``has_dependents``), no dependents are read
    assert not [s for s in trace.statements if "task_deps" in s], trace.statements


async def test_a_skipped_dependent_that_settles_another_is_read_again(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    """A dependent skipped by a done task settles its own dependents first: a later
    dependent of the same task is decided on what is stored then, not on the rows read
    before."""
    first = await service.tasks.create(TaskSpec("first"), "cli")
    rescue = await service.tasks.create(
        TaskSpec("rescue", kind="on_failure", on_failure=(first.ref,)), "cli"
    )
    last = await service.tasks.create(TaskSpec("last", after=(first.ref, rescue.ref)), "cli")
    await Scheduler(service, deliverer).run_burst()
    (held,) = await service.tasks.newest(status="assigned")
    assert held.agent is not None
    await service.tasks.complete(first.id, held.agent, "ok")
    states = {t.id: t.status for t in await service.tasks.newest()}
    assert states[rescue.id] is TaskStatus.skipped
    assert states[last.id] is TaskStatus.ready  # a skipped dependency does not block


async def test_a_run_of_deliveries_costs_one_transaction_each(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    for i in range(3):
        await service.messages.send("Agent-2", f"message {i}", "cli")
    async with traced(service) as trace:
        assert await Scheduler(service, deliverer).deliver_once() == 3
    # the first claim, then each receipt with the next claim (the last finds none)
    assert trace.transactions == 4, trace.statements
    assert [p.text.count("message") for p in deliverer.for_agent("Agent-2")] == [1, 1, 1]
    assert {d.state.value for d in await service.messages.deliveries()} == {"delivered"}


async def test_a_prompt_claim_reads_its_facts_in_the_same_select(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    task = await service.tasks.create(TaskSpec("fresh", agent="Agent-3"), "cli")
    await service.queue.assign_batch()
    async with traced(service) as trace:
        claimed = await service.queue.claim_prompt()
    assert claimed is not None
    delivery, facts = claimed
    assert delivery.task_id == task.id and facts is not None
    assert facts.needs_onboarding and facts.handoff is None  # never onboarded, first holder
    # the claim's select (with the facts' flags), its update and its event
    assert len(trace.statements) == 3, trace.statements


async def test_a_task_with_nothing_to_wait_for_is_stored_ready_at_once(
    service: SwarmService,
) -> None:
    async with traced(service) as trace:
        task = await service.tasks.create(TaskSpec("free"), "cli")
    assert not [s for s in trace.statements if s.startswith("UPDATE")], trace.statements
    assert task.status is TaskStatus.ready
    kinds = [e.kind for e in await service.history.events(task=task.ref)]
    assert kinds == ["task.created", "task.ready"]
    gate = await service.tasks.create(TaskSpec("approve", kind="gate"), "cli")
    assert (gate.status, gate.reason) == (TaskStatus.blocked, "waiting for approval")


async def test_a_task_with_dependencies_is_stored_as_its_rule_decides(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    """Its dependencies' states are read before the insert: no read-back, no update."""
    first = await service.tasks.create(TaskSpec("first"), "cli")
    async with traced(service) as trace:
        waiting = await service.tasks.create(TaskSpec("waits", after=(first.ref,)), "cli")
    assert not [s for s in trace.statements if s.startswith("UPDATE")], trace.statements
    # the dependency's existence and state, the insert, its dependency row (its trigger
    # marks the dependency as having dependents), its two events, the task read back (its
    # row and its dependencies) for the caller
    assert len(trace.statements) == 8, "\n".join(s[:70] for s in trace.statements)
    assert trace.triggered >= 1
    assert (waiting.status, waiting.reason) == (TaskStatus.blocked, f"waiting for {first.ref}")
    assert [e.kind for e in await service.history.events(task=waiting.ref)] == [
        "task.created",
        "task.waiting",
    ]
    await Scheduler(service, deliverer).run_burst()
    (held,) = await service.tasks.newest(status="assigned")
    assert held.agent is not None
    await service.tasks.complete(first.id, held.agent, "ok")
    ready = await service.tasks.create(TaskSpec("ready", after=(first.ref,)), "cli")
    assert ready.status is TaskStatus.ready


async def test_a_refused_done_leaves_the_task_as_it_was(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    """The done task's row is updated by the read of its holder: a check that fails after it
    (a bad note) rolls the whole report back."""
    task = await service.tasks.create(TaskSpec("noted"), "cli")
    await Scheduler(service, deliverer).run_burst()
    (held,) = await service.tasks.newest(status="assigned")
    assert held.agent is not None
    with pytest.raises(InvalidInput, match="note must be"):
        await service.tasks.complete(task.id, held.agent, "bell \x07 in the note")
    again = await service.tasks.get(task.ref)
    assert (again.status, again.agent) == (TaskStatus.assigned, held.agent)
    assert "task.done" not in [e.kind for e in await service.history.events(task=task.ref)]
    await service.tasks.complete(task.id, held.agent, "fine")
    assert (await service.tasks.get(task.ref)).status is TaskStatus.done


async def test_an_assignment_pass_writes_set_based(service: SwarmService) -> None:
    tasks = [await service.tasks.create(TaskSpec(f"t{i}"), "cli") for i in range(3)]
    async with traced(service) as trace:
        made = await service.queue.assign_batch()
    assert sorted(a.task_id for a in made) == [t.id for t in tasks]
    assert len({a.agent for a in made}) == 3 and len({a.message_id for a in made}) == 3
    # the free agents (usage limits only when one is limited), the ready tasks, then the
    # tasks, their messages and their deliveries: one statement each; one event per task;
    # no agent row written
    assert len(trace.statements) == 5 + len(tasks), trace.statements
    assert not [s for s in trace.statements if s.startswith("UPDATE agent_state")]
    prompts = {d.task_id: d for d in await service.messages.deliveries()}
    assert {prompts[a.task_id].agent for a in made} == {a.agent for a in made}
    for a in made:
        assert prompts[a.task_id].agent == a.agent and prompts[a.task_id].message_id == a.message_id


async def test_a_batch_of_free_tasks_is_one_insert_per_64_in_their_order(
    service: SwarmService,
) -> None:
    """Tasks with nothing to wait for are inserted together (runs between the others keep
    their place), each stored ready with its two events, ids in the batch's order."""
    specs = [TaskSpec(f"t{i}") for i in range(70)]
    specs[3] = TaskSpec("t3", after=("first",))
    specs[0] = TaskSpec("t0", ref="first")
    specs[5] = TaskSpec("t5", kind="gate")
    async with traced(service) as trace:
        ids = await service.tasks.create_many(specs, "cli")
    inserts = [s for s in trace.statements if s.startswith("INSERT INTO tasks")]
    assert len(inserts) == 4, inserts  # t0-t2; t3 (waits for t0); t4-t67; t68, t69
    assert ids == sorted(ids) and len(set(ids)) == 70
    for spec, task_id in zip(specs, ids, strict=True):
        task = await service.tasks.get(task_id)
        assert task.title == spec.title
    assert (await service.tasks.get(ids[3])).status is TaskStatus.blocked
    assert (await service.tasks.get(ids[5])).reason == "waiting for approval"
    assert {t.id for t in await service.tasks.newest(status="ready")} == set(ids) - {
        ids[3],
        ids[5],
    }
    events = [(e.kind, e.task_id) for e in await service.history.events(limit=500)]
    created = [e for e in events if e[0] in ("task.created", "task.ready")]
    assert created[:4] == [
        ("task.created", ids[0]),
        ("task.ready", ids[0]),
        ("task.created", ids[1]),
        ("task.ready", ids[1]),
    ]


async def test_a_round_without_expired_leases_reads_no_leases(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    """A scheduling round's first pass: the agents' read says no lease ran out, so the pass
    costs what ``assign_batch`` alone does; an expired lease is still requeued."""
    tasks = [await service.tasks.create(TaskSpec(f"t{i}"), "cli") for i in range(3)]
    scheduler = Scheduler(service, deliverer)
    async with traced(service) as trace:
        expired, assigned = await scheduler.schedule_once()
    assert (expired, assigned) == (0, 3)
    assert len(trace.statements) == 5 + len(tasks), trace.statements
    service.clock.advance(service.settings.lease_s + 1)  # type: ignore[attr-defined]
    expired, _ = await scheduler.schedule_once()
    assert expired == 3


async def test_a_turn_reads_no_campaigns_budget_while_no_campaign_has_one(
    service: SwarmService, tmp_path: Path
) -> None:
    """Issue 51: after each turn the campaign budget of its task is read only while some
    campaign has a budget (one probe of the budgets' key instead); set later, it is read."""
    from tests.costs.test_ledger import CLAUDE, Journal, assigned, with_agents

    await with_agents(service, tmp_path)
    task_id = await assigned(service, "a", "P1")
    campaign = await WorkflowBook(service.store).create_campaign("c", [f"T-{task_id}"], "t")
    journal = Journal(service, "P1")
    read = "FROM budgets b WHERE b.scope"  # the campaign budget of a task
    async with traced(service) as trace:
        await journal.turn(usage=CLAUDE, cost_usd=0.1)
    assert not [s for s in trace.statements if read in s], trace.statements
    await service.costs.set_campaign_budget(campaign, 5.0, "t")
    async with traced(service) as trace:
        await journal.turn(usage=CLAUDE, cost_usd=0.1)
    assert [s for s in trace.statements if read in s]
