"""Domain rules of tasks: readiness, dependencies, lifecycle, bad input changes nothing."""

from __future__ import annotations

import pytest

from core.errors import (
    DependencyError,
    InvalidInput,
    InvalidState,
    NotFound,
    SwarmError,
    Unassignable,
)
from core.models import Receipt, TaskSpec, TaskStatus
from core.service.swarm import SwarmService
from tests.helpers import table_counts

pytestmark = pytest.mark.both_databases


def counts(service: SwarmService) -> tuple[int, ...]:
    """Rows in tasks, task_deps and events, read through a separate connection."""
    return table_counts(service.settings, "tasks", "task_deps", "events")


async def test_new_task_is_ready_and_dependent_is_blocked(service: SwarmService) -> None:
    first = await service.tasks.create(TaskSpec("Build", role="integration"), "me")
    second = await service.tasks.create(TaskSpec("Test", role="qa", after=(first.ref,)), "me")
    assert first.status is TaskStatus.ready
    assert second.status is TaskStatus.blocked
    assert second.reason == "waiting for T-1"
    assert second.after == [first.id]


async def test_done_releases_dependents(service: SwarmService) -> None:
    a = await service.tasks.create(TaskSpec("A"), "me")
    b = await service.tasks.create(TaskSpec("B"), "me")
    c = await service.tasks.create(TaskSpec("C", after=(a.ref, b.ref)), "me")
    for ref in (a.ref, b.ref):
        assignment = await service.queue.assign_next()
        assert assignment is not None
        await service.tasks.complete(assignment.task_id, "agent", note="ok")
        if ref == a.ref:
            assert (await service.tasks.get(c.ref)).reason == "waiting for T-2"
    done = await service.tasks.get(c.ref)
    assert done.status is TaskStatus.ready and done.reason is None


async def test_failure_blocks_dependents_with_reason_and_retry_releases(
    service: SwarmService,
) -> None:
    a = await service.tasks.create(TaskSpec("A"), "me")
    b = await service.tasks.create(TaskSpec("B", after=(a.ref,)), "me")
    first = await service.queue.assign_next()
    assert first is not None
    await service.tasks.fail(a.ref, first.agent, "compiler exploded")
    assert (await service.tasks.get(a.ref)).reason == "compiler exploded"
    blocked = await service.tasks.get(b.ref)
    assert blocked.status is TaskStatus.blocked
    assert blocked.reason == "dependency T-1 failed"
    await service.tasks.retry(a.ref, "me")
    assert (await service.tasks.get(b.ref)).reason == "waiting for T-1"
    retried = await service.tasks.get(a.ref)
    assert retried.status is TaskStatus.ready and retried.attempts == 0
    second = await service.queue.assign_next()
    assert second is not None
    await service.tasks.complete(a.ref, second.agent)
    assert (await service.tasks.get(b.ref)).status is TaskStatus.ready


async def test_cancel_blocks_dependents_and_tells_the_agent(service: SwarmService) -> None:
    a = await service.tasks.create(TaskSpec("A", role="web"), "me")
    b = await service.tasks.create(TaskSpec("B", after=(a.ref,)), "me")
    assignment = await service.queue.assign_next()
    assert assignment is not None and assignment.agent == "Agent-7"
    prompt = await service.queue.claim_delivery()
    assert prompt is not None and prompt.task_id == a.id
    await service.queue.record_receipt(prompt, Receipt(True, None, "test"))  # the agent has it
    await service.tasks.cancel(a.ref, "me")
    assert (await service.tasks.get(b.ref)).reason == "dependency T-1 cancelled"
    notices = [d for d in await service.messages.deliveries() if d.target.kind.value == "withdraw"]
    assert [d.text for d in notices] == [
        "T-1 (A) is no longer yours: cancelled by me. Stop working on it now. "
        "This is not a new task: do not start it and do not report on it."
    ]  # a withdrawal: it stops the agent's running turn on the protocol route
    with pytest.raises(InvalidState, match="already cancelled"):
        await service.tasks.cancel(a.ref, "me")


async def test_start_then_done_records_note_and_times(service: SwarmService) -> None:
    task = await service.tasks.create(TaskSpec("A"), "me")
    await service.queue.assign_next()
    await service.tasks.start(task.ref, "Agent-1", note="on it")
    assert (await service.tasks.get(task.ref)).status is TaskStatus.in_progress
    await service.tasks.complete(task.ref, "Agent-1", note="shipped")
    done = await service.tasks.get(task.ref)
    assert done.status is TaskStatus.done and done.note == "shipped"
    assert done.started_at is not None and done.finished_at is not None
    kinds = [e.kind for e in await service.history.events(task=task.ref)]
    assert kinds == ["task.created", "task.ready", "task.assigned", "task.started", "task.done"]


async def test_batch_with_refs_is_created_in_dependency_order(service: SwarmService) -> None:
    ids = await service.tasks.create_many(
        [
            TaskSpec("tests", ref="c", after=("a", "b")),
            TaskSpec("api", ref="a"),
            TaskSpec("schema", ref="b", after=("a",)),
        ],
        "planner",
        plan_id="P-1",
    )
    tasks = {t.title: t for t in await service.tasks.newest()}
    assert tasks["tests"].after == sorted([tasks["api"].id, tasks["schema"].id])
    assert tasks["schema"].after == [tasks["api"].id]
    assert ids == [tasks["tests"].id, tasks["api"].id, tasks["schema"].id]
    assert {t.plan_id for t in tasks.values()} == {"P-1"}


async def test_add_dependency_refuses_a_cycle(service: SwarmService) -> None:
    a = await service.tasks.create(TaskSpec("A"), "me")
    b = await service.tasks.create(TaskSpec("B", after=(a.ref,)), "me")
    c = await service.tasks.create(TaskSpec("C", after=(b.ref,)), "me")
    before = counts(service)
    with pytest.raises(DependencyError, match="cycle"):
        await service.tasks.add_dependencies(a.ref, [c.ref], "me")
    with pytest.raises(DependencyError, match="cycle"):
        await service.tasks.add_dependencies(a.ref, [a.ref], "me")
    assert counts(service) == before
    await service.tasks.add_dependencies(c.ref, [a.ref], "me")
    assert (await service.tasks.get(c.ref)).after == [a.id, b.id]


BAD_SPECS = [
    (TaskSpec(""), InvalidInput, "title must not be empty"),
    (TaskSpec("   "), InvalidInput, "title must not be empty"),
    (TaskSpec("x" * 201), InvalidInput, "limit is 200"),
    (TaskSpec("two\nlines"), InvalidInput, "one line"),
    (TaskSpec("t", details="d" * 8001), InvalidInput, "limit is 8000"),
    (TaskSpec("t", priority="asap"), InvalidInput, "invalid priority 'asap'"),
    (TaskSpec("t", role="wizard"), InvalidInput, "unknown role 'wizard'"),
    (TaskSpec("t", agent="Agent-42"), NotFound, "unknown agent 'Agent-42'"),
    (TaskSpec("t", role="qa", agent="Agent-1"), Unassignable, "cannot take"),
    (TaskSpec("t", capabilities=("cobol",)), Unassignable, "no configured agent"),
    (TaskSpec("t", after=("T-99",)), DependencyError, "T-99 does not exist"),
    (TaskSpec("t", after=("banana",)), DependencyError, "'banana' does not exist"),
]


@pytest.mark.parametrize(("spec", "error", "message"), BAD_SPECS)
async def test_bad_task_input_is_refused_and_writes_nothing(
    service: SwarmService, spec: TaskSpec, error: type[SwarmError], message: str
) -> None:
    await service.tasks.create(TaskSpec("existing"), "me")
    before = counts(service)
    with pytest.raises(error, match=message):
        await service.tasks.create(spec, "me")
    assert counts(service) == before


async def test_batch_cycle_writes_nothing(service: SwarmService) -> None:
    before = counts(service)
    with pytest.raises(DependencyError, match="cycle: a -> b -> a"):
        await service.tasks.create_many(
            [
                TaskSpec("one", ref="a", after=("b",)),
                TaskSpec("two", ref="b", after=("a",)),
            ],
            "me",
        )
    assert counts(service) == before


async def test_reports_on_inactive_tasks_are_refused(service: SwarmService) -> None:
    task = await service.tasks.create(TaskSpec("A"), "me")
    before = counts(service)
    with pytest.raises(InvalidState, match="T-1 is ready: only an assigned"):
        await service.tasks.complete(task.ref, "me")
    with pytest.raises(InvalidState, match="T-1 is ready"):
        await service.tasks.fail(task.ref, "me", "nope")
    with pytest.raises(InvalidInput, match="reason must not be empty"):
        await service.tasks.fail(task.ref, "me", " ")
    with pytest.raises(NotFound, match="unknown task T-7"):
        await service.tasks.complete("T-7", "me")
    with pytest.raises(InvalidState, match="only a failed or cancelled"):
        await service.tasks.retry(task.ref, "me")
    assert counts(service) == before


async def test_messages_to_agent_role_and_all(service: SwarmService) -> None:
    one = await service.messages.send("agent-3", "hello", "me")
    assert [d.agent for d in await service.messages.deliveries(one)] == ["Agent-3"]
    qa = await service.messages.broadcast("qa only", "me", role="qa")
    assert [d.agent for d in await service.messages.deliveries(qa)] == ["Agent-4"]
    everyone = await service.messages.broadcast("all hands", "me")
    assert len(await service.messages.deliveries(everyone)) == 8
    before = counts(service)
    with pytest.raises(NotFound):
        await service.messages.send("Agent-9", "hi", "me")
    with pytest.raises(InvalidInput, match="limit is 8000"):
        await service.messages.send("Agent-1", "x" * 8001, "me")
    with pytest.raises(InvalidInput, match="unknown role"):
        await service.messages.broadcast("hi", "me", role="nobody")
    assert counts(service) == before


async def test_a_task_is_readable_by_its_agent_and_by_one_whose_own_task_waits_for_it(
    service: SwarmService,
) -> None:
    """``readable_by`` (the door's ``task show``, MCP ``my_task``): an agent's own task
    (pinned or assigned) and what its own tasks wait for, nothing else, in one statement."""
    loose = await service.tasks.create(TaskSpec("Nobody's"), "me")
    assigned = await service.queue.assign_next()  # assigned, not pinned
    assert assigned is not None and assigned.task_id == loose.id
    held = await service.tasks.get(loose.ref)
    mine = await service.tasks.create(TaskSpec("Mine", agent="Agent-1"), "me")
    theirs = await service.tasks.create(TaskSpec("Theirs", agent="Agent-2"), "me")
    await service.tasks.create(TaskSpec("Mine next", agent="Agent-1", after=(theirs.ref,)), "me")
    await service.tasks.create(TaskSpec("Theirs next", agent="Agent-2", after=(mine.ref,)), "me")
    readable = {
        (task.title, agent): await service.tasks.readable_by(task, agent)
        for task in (mine, theirs, held)
        for agent in ("Agent-1", "Agent-2", "Agent-3")
    }
    assert {key for key, yes in readable.items() if yes} == {
        ("Mine", "Agent-1"),
        ("Mine", "Agent-2"),  # its "Theirs next" waits for it
        ("Theirs", "Agent-2"),
        ("Theirs", "Agent-1"),  # its "Mine next" waits for it
        ("Nobody's", assigned.agent),
    }
