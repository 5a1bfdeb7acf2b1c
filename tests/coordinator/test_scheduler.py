"""Scheduling rules: order, matching, load, leases, reassignment, pauses."""

from __future__ import annotations

from typing import Any

import pytest

from core.agent_state import AgentState, Signal
from core.agents import _signals as agent_signals
from core.assignment import _queries as assign_queries
from core.coordinator.scheduler import DELIVERY_MARGIN_S, Scheduler
from core.dialogs import permissions as prompts
from core.models import PromptOption, TaskSpec, TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.store.conn import Conn
from tests.helpers import RecordingDeliverer, query_plan

pytestmark = pytest.mark.both_databases


async def pause_all_but(service: SwarmService, keep: str) -> None:
    """Leave only one agent taking tasks."""
    for agent in service.agents:
        if agent != keep:
            await service.roster.set_paused(agent, True, "test")


async def test_priority_order_then_first_come_first_served(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    await pause_all_but(service, "Agent-1")
    for title, priority in [
        ("low", "low"),
        ("n1", "normal"),
        ("urgent", "urgent"),
        ("n2", "normal"),
        ("high", "high"),
    ]:
        await service.tasks.create(TaskSpec(title, priority=priority), "me")
    scheduler = Scheduler(service, deliverer)
    order = []
    for _ in range(5):
        await scheduler.run_burst()
        (active,) = await service.tasks.newest(status="assigned")
        order.append(active.title)
        await service.tasks.complete(active.id, "Agent-1")
    assert order == ["urgent", "high", "n1", "n2", "low"]


async def test_role_capabilities_and_pins_are_respected(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    qa = await service.tasks.create(TaskSpec("review", role="qa"), "me")
    sql = await service.tasks.create(TaskSpec("query", capabilities=("sql",)), "me")
    pinned = await service.tasks.create(TaskSpec("pinned", agent="Agent-8"), "me")
    await Scheduler(service, deliverer).run_burst()
    holders = {t.id: t.agent for t in await service.tasks.newest()}
    assert holders == {qa.id: "Agent-4", sql.id: "Agent-5", pinned.id: "Agent-8"}
    assert [p.task_id for p in deliverer.for_agent("Agent-4")] == [qa.id]
    assert "swarm task done T-N" in deliverer.for_agent("Agent-4")[0].text  # its role text


async def test_capacity_and_least_loaded_then_longest_idle(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    for i in range(12):
        await service.tasks.create(TaskSpec(f"t{i}"), "me")
    await Scheduler(service, deliverer).run_burst()
    rows = await service.roster.rows()
    assert all(len(r["tasks"]) == 1 for r in rows)
    assert len(await service.tasks.newest(status="ready")) == 4
    clock.advance(10)
    await service.tasks.complete("T-3", "Agent-3")
    clock.advance(10)
    await service.tasks.complete("T-1", "Agent-1")
    await Scheduler(service, deliverer).run_burst()
    assert (await service.tasks.get("T-9")).agent == "Agent-3"  # idle longest
    assert (await service.tasks.get("T-10")).agent == "Agent-1"


async def test_better_recent_success_rate_wins(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    await pause_all_but(service, "Agent-1")
    await service.roster.set_paused("Agent-2", False, "me")
    await service.tasks.create(TaskSpec("bad", agent="Agent-1"), "me")
    await Scheduler(service, deliverer).run_burst()
    await service.tasks.fail("T-1", "Agent-1", "oops")
    await service.tasks.create(TaskSpec("next"), "me")
    await Scheduler(service, deliverer).run_burst()
    assert (await service.tasks.get("T-2")).agent == "Agent-2"


async def test_paused_agent_gets_nothing_until_resumed(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    await service.roster.set_paused("Agent-4", True, "me")
    await service.tasks.create(TaskSpec("review", role="qa"), "me")
    await Scheduler(service, deliverer).run_burst()
    assert (await service.tasks.get("T-1")).status is TaskStatus.ready
    await service.roster.set_paused("Agent-4", False, "me")
    await Scheduler(service, deliverer).run_burst()
    assert (await service.tasks.get("T-1")).agent == "Agent-4"


async def test_lease_expiry_reassigns_with_backoff_then_fails(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    await service.tasks.create(TaskSpec("api", capabilities=("python",)), "me")
    scheduler = Scheduler(service, deliverer)
    await scheduler.run_burst()
    first = (await service.tasks.get("T-1")).agent
    clock.advance(59)
    await scheduler.run_burst()
    assert (await service.tasks.get("T-1")).agent == first
    clock.advance(2)
    await scheduler.run_burst()
    requeued = await service.tasks.get("T-1")
    assert requeued.status is TaskStatus.ready
    assert requeued.reason == f"no report from {first} within 60 s"
    clock.advance(5)  # backoff of the first retry
    await scheduler.run_burst()
    second = await service.tasks.get("T-1")
    assert second.status is TaskStatus.assigned and second.agent != first
    assert second.attempts == 2
    clock.advance(61)
    await scheduler.run_burst()
    clock.advance(10)
    await scheduler.run_burst()
    assert (await service.tasks.get("T-1")).attempts == 3
    clock.advance(61)
    await scheduler.run_burst()
    failed = await service.tasks.get("T-1")
    assert failed.status is TaskStatus.failed
    assert "(3 attempts)" in (failed.reason or "")
    kinds = [e.kind for e in await service.history.events(task="T-1")]
    assert kinds.count("task.lease_expired") == 3


async def test_start_report_stops_the_lease(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    await service.tasks.create(TaskSpec("long job"), "me")
    await Scheduler(service, deliverer).run_burst()
    await service.tasks.start("T-1", "Agent-1")
    clock.advance(3600)
    await Scheduler(service, deliverer).run_burst()
    assert (await service.tasks.get("T-1")).status is TaskStatus.in_progress


async def test_failed_delivery_is_retried_then_task_goes_to_another_agent(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    deliverer.failing["Agent-1"] = "paste not seen"
    await service.tasks.create(TaskSpec("api", role="integration"), "me")
    await service.tasks.create(TaskSpec("py", capabilities=("python",)), "me")
    scheduler = Scheduler(service, deliverer)
    await scheduler.run_burst()
    assert (await service.tasks.get("T-1")).agent == "Agent-1"
    for delay in (5, 10):  # delivery backoff doubles
        clock.advance(delay)
        await scheduler.run_burst()
    deliveries = [d for d in await service.messages.deliveries() if d.task_id == 1]
    assert [(d.state.value, d.attempts) for d in deliveries] == [("failed", 3)]
    t1 = await service.tasks.get("T-1")
    assert t1.status is TaskStatus.ready and "could not deliver to Agent-1" in (t1.reason or "")
    del deliverer.failing["Agent-1"]
    clock.advance(5)
    await scheduler.run_burst()
    assert (await service.tasks.get("T-1")).agent == "Agent-1"  # the only integration agent
    assert any(p.task_id == 1 for p in deliverer.for_agent("Agent-1"))


async def test_deferred_delivery_does_not_use_up_attempts(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    deliverer.deferring["Agent-2"] = "paused"
    await service.messages.send("Agent-2", "hello", "me")
    scheduler = Scheduler(service, deliverer)
    for _ in range(5):
        await scheduler.run_burst()
        clock.advance(1)
    (queued,) = await service.messages.deliveries()
    assert queued.state.value == "queued" and queued.attempts == 0
    del deliverer.deferring["Agent-2"]
    await scheduler.run_burst()
    (done,) = await service.messages.deliveries()
    assert done.state.value == "delivered"


async def test_manual_assign_moves_the_task(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    await service.tasks.create(TaskSpec("job"), "me")
    scheduler = Scheduler(service, deliverer)
    await scheduler.run_burst()
    assert (await service.tasks.get("T-1")).agent == "Agent-1"
    await service.tasks.assign("T-1", "agent-6", "boss")
    await scheduler.run_burst()
    moved = await service.tasks.get("T-1")
    assert moved.agent == "Agent-6" and moved.pinned == "Agent-6"
    assert [p.task_id for p in deliverer.for_agent("Agent-6")] == [1]
    assert (await service.roster.rows())[0]["tasks"] == []


async def test_retry_after_crash_marks_the_delivery(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    await service.messages.send("Agent-1", "hello", "me")
    claimed = await service.queue.claim_delivery()  # the process dies while delivering
    assert claimed is not None and not claimed.is_retry
    await Scheduler(service, deliverer).run_burst()
    (parcel,) = deliverer.parcels
    assert parcel.is_retry and "RETRY" in parcel.text
    kinds = [e.kind for e in await service.history.events()]
    assert "delivery.recovered" in kinds


async def test_no_agent_over_capacity_with_many_tasks(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    for i in range(40):
        await service.tasks.create(TaskSpec(f"t{i}", priority=i % 4), "me")
    await Scheduler(service, deliverer).run_burst()
    load: dict[str, int] = {}
    for task in await service.tasks.newest(status="assigned"):
        load[task.agent or ""] = load.get(task.agent or "", 0) + 1
    assert max(load.values()) == 1 and len(load) == 8


async def test_the_scheduler_outwaits_a_deliverers_own_deadline(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    assert Scheduler(service, deliverer).delivery_timeout() == 60.0  # no deadline of its own
    deliverer.time_limit_s = 45.0
    assert Scheduler(service, deliverer).delivery_timeout() == 45.0 + DELIVERY_MARGIN_S


async def test_a_takeable_task_behind_pages_of_untakeable_ones_is_found_in_the_same_pass(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    """Ready tasks are read a page at a time (``scheduling._PAGE``): 300 urgent ``qa`` tasks
    whose only agent is paused come first; one normal task behind them still goes out, and
    the pass assigns every free agent once."""
    await service.roster.set_paused("Agent-4", True, "test")  # the only qa agent
    await service.tasks.create_many(
        [TaskSpec(f"qa {i}", role="qa", priority="urgent") for i in range(300)], "me"
    )
    later = await service.tasks.create_many([TaskSpec(f"any {i}") for i in range(9)], "me")
    made = await service.queue.assign_batch()
    assert sorted(a.task_id for a in made) == later[:7]  # 7 free agents, oldest tasks first
    assert len({a.agent for a in made}) == 7 and "Agent-4" not in {a.agent for a in made}
    assert len(await service.tasks.newest(status="ready", limit=1000)) == 302


async def test_the_next_deadline_finds_a_backoff_without_reading_every_ready_task(
    service: SwarmService,
) -> None:
    """The scheduler asks for its next deadline at every pass: the earliest ready task held
    back (a backoff) comes from an index of the ready tasks by ``not_before``, not from a
    walk through every ready task (2,000 queued made that 0.3 ms a pass)."""
    await service.tasks.create_many([TaskSpec(f"t{i}") for i in range(400)], "me")
    now = service.clock.now()
    held = await service.tasks.create(TaskSpec("held back"), "me")

    def hold_back(conn: Conn, task_id: int, until: float) -> None:
        conn.execute("UPDATE tasks SET not_before = $1 WHERE id = $2", (until, task_id))

    await service.store.update(hold_back, held.id, now + 90)
    assert await service.store.read(assign_queries.next_deadline, now) == now + 90
    plan = await service.store.read(query_plan, assign_queries.NEXT_DEADLINE.text, now)
    assert "tasks_ready_by_not_before" in plan, plan


async def _assigned_then_waiting(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock, evidence: str
) -> tuple[Scheduler, str]:
    """T-1 given to an agent, then that agent judged waiting by its hook (``evidence``)."""
    await service.tasks.create(TaskSpec("api", capabilities=("python",)), "me")
    scheduler = Scheduler(service, deliverer)
    await scheduler.run_burst()
    first = (await service.tasks.get("T-1")).agent
    assert first is not None
    await service.store.update(
        agent_signals.set_state, first, AgentState.WAITING, clock.now(), Signal.HOOK, evidence
    )
    return scheduler, first


async def test_a_lease_is_kept_while_the_agent_waits_for_a_person(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    """Before: the real Claude Code waiting on its permission dialog for 300 s lost its task
    to another agent (lease expired) while the person had not answered yet."""
    scheduler, first = await _assigned_then_waiting(
        service, deliverer, clock, "hook: Notification permission_prompt"
    )
    await service.store.write(
        first, prompts.open_prompt, first, Signal.HOOK, "Bash(make)", [PromptOption("1", "Yes")]
    )  # the dialog, in Needs you
    clock.advance(61)
    await scheduler.run_burst()
    kept = await service.tasks.get("T-1")
    assert (kept.status, kept.agent) == (TaskStatus.assigned, first)
    await service.store.update(
        agent_signals.set_state, first, AgentState.IDLE, clock.now(), Signal.HOOK, "hook: Stop"
    )
    clock.advance(61)  # a lease after the wait ended: no report, back to the queue
    await scheduler.run_burst()
    assert (await service.tasks.get("T-1")).status is TaskStatus.ready


async def test_a_wait_nobody_is_shown_does_not_keep_the_lease(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    """An agent judged waiting with nothing in "Needs you" (no prompt, question or alert)
    would have kept its task for ever, said only in the log: its lease runs out as usual."""
    scheduler, _ = await _assigned_then_waiting(
        service, deliverer, clock, "hook: Notification idle_prompt"
    )
    clock.advance(61)
    await scheduler.run_burst()
    assert (await service.tasks.get("T-1")).status is TaskStatus.ready


async def test_a_lease_run_out_on_a_limited_agent_uses_no_attempt(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    """Each agent the task goes to hits a usage limit with its prompt: each lease runs out
    with no report, and the task goes back with no attempt used (before: an attempt used
    each time, and the task that met the limit on three agents failed for good, with the
    tasks after it; bench/limits_day.py)."""
    await service.tasks.create(TaskSpec("api", capabilities=("python",)), "me")
    scheduler = Scheduler(service, deliverer)
    await scheduler.run_burst()
    for _ in range(3):  # (an agent whose limit is over may take it again)
        holder = (await service.tasks.get("T-1")).agent
        assert holder is not None
        await service.store.update(
            agent_signals.set_state, holder, AgentState.LIMITED, clock.now(), Signal.HOOK,
            "hook: StopFailure rate_limit",
        )  # fmt: skip
        clock.advance(61)
        await scheduler.run_burst()
    task = await service.tasks.get("T-1")
    assert task.status is not TaskStatus.failed and task.attempts <= 1, task
    events = await service.history.events(limit=1000)
    requeued = [e.text for e in events if e.kind == "task.requeued"]
    assert len(requeued) == 3 and all("is limited (no attempt used)" in t for t in requeued)


async def test_a_created_task_is_read_as_created_though_assigned_as_it_is_written(
    service: SwarmService, deliverer: RecordingDeliverer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``/task create``'s acknowledgement ("🆕 T-1 created") shows the task as created: the
    scheduler, woken by the write, may assign it before a read made after the commit (the
    local Discord's page test read "📨 T-1 created" once on a loaded machine)."""
    scheduler = Scheduler(service, deliverer)
    access = service.tasks.access
    write = access.write

    async def assigned_at_its_commit(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(access, "write", write)  # once: the scheduler writes too
        done = await write(*args, **kwargs)
        await scheduler.run_burst()  # the scheduler's turn as the write commits
        return done

    monkeypatch.setattr(access, "write", assigned_at_its_commit)
    task = await service.tasks.create(TaskSpec("fix the login"), "me")
    assert task.status is TaskStatus.ready
    (assigned,) = await service.tasks.newest(status="assigned")  # the race did happen
    assert assigned.id == task.id
