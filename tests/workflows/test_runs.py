"""Runs over a real SQLite file: one transaction, gates, failure branches, skipped steps,
campaigns by hand and cancelled mid-run."""

from __future__ import annotations

import pytest

from core.coordinator.scheduler import Scheduler
from core.errors import InvalidState, NotFound, SwarmError, Unassignable
from core.models import TaskStatus
from core.service.swarm import SwarmService
from core.workflows import Workflow, WorkflowBook, WorkflowError
from tests.helpers import RecordingDeliverer, query

pytestmark = pytest.mark.both_databases


def _counts(service: SwarmService) -> tuple[int, int, int]:
    (row,) = query(
        service.settings,
        "SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM campaigns), "
        "(SELECT count(*) FROM task_deps)",
    )
    return (int(row[0]), int(row[1]), int(row[2]))


async def _status(service: SwarmService, task_id: int) -> TaskStatus:
    return (await service.tasks.get(task_id)).status


async def _finish(service: SwarmService, task_id: int, ok: bool = True) -> None:
    """The scheduler assigns the task; its agent reports done or failed."""
    await Scheduler(service, RecordingDeliverer()).run_burst()
    task = await service.tasks.get(task_id)
    assert task.status is TaskStatus.assigned, task
    if ok:
        await service.tasks.complete(task_id, task.agent or "")
    else:
        await service.tasks.fail(task_id, task.agent or "", "tests fail")


async def test_release_runs_to_the_end_through_its_gate(service: SwarmService) -> None:
    flows = WorkflowBook(service.store)
    plan = await flows.plan(flows.find("release"), {"version": "1.4", "modules": "api,cli"})
    assert _counts(service) == (0, 0, 0), "planning writes nothing"
    run = await flows.run(plan, "cli")
    bump, changelog, review1, review2, gate, tag, fix = run.task_ids
    assert (await service.tasks.get(gate)).after == sorted([changelog, review1, review2])
    assert await _status(service, bump) is TaskStatus.ready
    with pytest.raises(InvalidState, match="cannot be approved yet: waiting for"):
        await flows.approve(f"T-{gate}", "cli")
    for task_id in (bump, changelog, review1, review2):
        await _finish(service, task_id)
    assert await _status(service, fix) is TaskStatus.skipped  # no review failed
    campaign = await flows.campaign(run.campaign)
    assert [t.ref for t in campaign.gates_waiting] == [f"T-{gate}"]
    await Scheduler(service, RecordingDeliverer()).run_burst()
    assert await _status(service, gate) is TaskStatus.blocked, "a gate never goes to an agent"
    await flows.approve(f"T-{gate}", "alice")
    with pytest.raises(InvalidState, match=f"T-{gate} was already approved by alice"):
        await flows.approve(f"T-{gate}", "bob")
    await _finish(service, tag)
    done = await flows.campaign(run.campaign)
    assert done.state() == "finished"
    assert done.to_json(0)["done"] == 7


async def test_a_false_condition_skips_and_releases_its_dependents(service: SwarmService) -> None:
    flow = (
        Workflow("w")
        .var("docs", "bool", default=False)
        .step("docs", "Docs", when="${docs}", role="web")
        .step("ship", "Ship", needs=["docs"], role="integration")
        .check()
    )
    flows = WorkflowBook(service.store)
    docs, ship = (await flows.run(await flows.plan(flow, {}), "cli")).task_ids
    assert (await service.tasks.get(docs)).status is TaskStatus.skipped
    assert (await service.tasks.get(ship)).status is TaskStatus.ready


async def test_a_failure_runs_the_branch_and_a_pass_skips_the_rest(service: SwarmService) -> None:
    flows = WorkflowBook(service.store)
    ids = (
        await flows.run(
            await flows.plan(flows.find("fix-until-green"), {"problem": "login 500s"}), "cli"
        )
    ).task_ids
    fix, check, fix2, check2, fix3, check3 = ids
    await _finish(service, fix)
    assert await _status(service, fix2) is TaskStatus.blocked
    await _finish(service, check, ok=False)
    assert await _status(service, fix2) is TaskStatus.ready
    await _finish(service, fix2)
    await _finish(service, check2)
    assert [await _status(service, i) for i in (fix3, check3)] == [TaskStatus.skipped] * 2
    campaign = (await flows.campaigns())[0]
    assert campaign.finished
    assert campaign.to_json(0)["failed"] == 1


async def test_reject_cancels_the_gate_and_what_depends_on_it(service: SwarmService) -> None:
    flow = (
        Workflow("w")
        .step("build", "Build", role="integration")
        .step("ok", "Approve", needs=["build"], gate=True)
        .step("ship", "Ship", needs=["ok"], role="integration")
        .step("announce", "Announce", needs=["ship"], role="coordination")
        .check()
    )
    flows = WorkflowBook(service.store)
    build, gate, ship, announce = (await flows.run(await flows.plan(flow, {}), "cli")).task_ids
    await _finish(service, build)
    cancelled = await flows.reject(f"T-{gate}", "alice", "not this week")
    assert cancelled == [ship, announce]
    assert [await _status(service, i) for i in (gate, ship, announce)] == [TaskStatus.cancelled] * 3
    with pytest.raises(InvalidState, match="was already rejected by alice: not this week"):
        await flows.approve(f"T-{gate}", "bob")
    with pytest.raises(InvalidState, match="is not a gate"):
        await flows.approve(f"T-{build}", "bob")


async def test_a_bad_run_writes_nothing(service: SwarmService) -> None:
    flows = WorkflowBook(service.store)
    bad_role = Workflow("w").step("a", "A").step("b", "B", needs=["a"], role="nobody").check()
    with pytest.raises(SwarmError, match="no agent has the role 'chef'"):
        await flows.plan(bad_role, {}, {"nobody": "chef"})
    flow = Workflow("w").var("mods", "list").step("a", "A ${item}", for_each="mods").check()
    with pytest.raises(WorkflowError, match="would create no task"):
        await flows.plan(flow, {})
    plan = await flows.plan(Workflow("w").step("a", "A", agent="Agent-1").check(), {})
    service.agents.pop("Agent-1")  # the agent left between the plan and the run
    with pytest.raises(SwarmError):
        await flows.run(plan, "cli")
    assert _counts(service) == (0, 0, 0)


async def test_200_fanned_out_items_in_one_transaction(service: SwarmService) -> None:
    flow = (
        Workflow("many")
        .var("items", "list")
        .step("each", "Do ${item}", for_each="items")
        .step("after", "Sum up", needs=["each"])
        .check()
    )
    flows = WorkflowBook(service.store)
    plan = await flows.plan(flow, {"items": ",".join(f"i{n}" for n in range(200))})
    run = await flows.run(plan, "cli")
    assert len(run.task_ids) == 201
    assert len((await service.tasks.get(run.task_ids[-1])).after) == 200
    assert _counts(service) == (201, 1, 200)


async def test_campaigns_by_hand_and_cancelled_mid_run(service: SwarmService) -> None:
    from core.models import TaskSpec

    a, b, c = await service.tasks.create_many(
        [
            TaskSpec("A", ref="a", role="integration"),
            TaskSpec("B", ref="b", after=("a",)),
            TaskSpec("C"),
        ],
        "cli",
    )
    flows = WorkflowBook(service.store)
    campaign_id = await flows.create_campaign("Notes app MVP", [f"T-{a}", f"T-{b}"], "cli")
    await flows.add_to_campaign(f"C-{campaign_id}", [f"T-{c}"], "cli")
    other = await flows.create_campaign("Other", [], "cli")
    with pytest.raises(InvalidState, match=f"T-{a} already belongs to C-{campaign_id}"):
        await flows.add_to_campaign(f"C-{other}", [f"T-{a}"], "cli")
    with pytest.raises(NotFound, match="unknown task T-99"):
        await flows.add_to_campaign(f"C-{other}", ["T-99"], "cli")
    await _finish(service, a)
    await Scheduler(service, RecordingDeliverer()).run_burst()  # b is now with an agent
    assert await _status(service, b) is TaskStatus.assigned
    cancelled = await flows.cancel_campaign(f"C-{campaign_id}", "alice")
    assert sorted(cancelled) == [b, c]
    kinds = [e.kind for e in await service.history.events(limit=1000)]
    assert "campaign.cancelled" in kinds and "campaign.finished" not in kinds
    shown = await flows.campaign(f"C-{campaign_id}")
    assert shown.state() == "cancelled"
    assert shown.to_json(0)["counts"]["cancelled"] == 2
    with pytest.raises(InvalidState, match="is already cancelled"):
        await flows.cancel_campaign(f"C-{campaign_id}", "alice")
    with pytest.raises(InvalidState, match="is cancelled"):
        await flows.add_to_campaign(f"C-{campaign_id}", [f"T-{a}"], "cli")
    with pytest.raises(NotFound, match="unknown campaign C-77"):
        await flows.campaign("C-77")
    with pytest.raises(Unassignable):
        await flows.plan(
            Workflow("w").step("a", "A", role="qa", capabilities=["cobol"]).check(), {}
        )


async def test_campaign_progress_time_and_pace(service: SwarmService) -> None:
    from core.protocols import ManualClock
    from core.workflows.view import campaign_text

    clock = service.clock
    assert isinstance(clock, ManualClock)
    flows = WorkflowBook(service.store)
    flow = (
        Workflow("w")
        .var("mods", "list", default=["a", "b", "c", "d"])
        .step("each", "Do ${item}", for_each="mods", role="qa")
        .check()
    )
    run = await flows.run(await flows.plan(flow, {}), "cli")
    start = clock.now()
    assert (await flows.campaign(run.campaign)).remaining_s(start) is None  # nothing done yet
    clock.advance(600)
    await _finish(service, run.task_ids[0])
    campaign = await flows.campaign(run.campaign)
    assert campaign.remaining_s(clock.now()) == 1800  # 3 left at 10 minutes each
    text = campaign_text(campaign, clock.now())
    assert "1/4 done or skipped" in text and "10m 00s so far, about 30m 00s left" in text
    for task_id in run.task_ids[1:]:
        await _finish(service, task_id)
    clock.advance(3600)
    done = await flows.campaign(run.campaign)
    assert done.state() == "finished" and done.remaining_s(clock.now()) is None
    assert done.elapsed(clock.now()) == 600  # the time it took, not the time since


async def test_campaign_finished_is_recorded_once_and_again_after_a_retry(
    service: SwarmService,
) -> None:
    flows = WorkflowBook(service.store)
    flow = (
        Workflow("w")
        .var("mods", "list", default=["a", "b"])
        .step("each", "Do ${item}", for_each="mods", role="qa")
        .step("fix", "Fix", on_failure=["each"], role="integration")
        .check()
    )
    run = await flows.run(await flows.plan(flow, {}), "cli")
    first, second, fix = run.task_ids

    async def finished() -> list[str]:
        return [
            e.text
            for e in await service.history.events(limit=1000)
            if e.kind == "campaign.finished"
        ]

    await _finish(service, first)
    assert await finished() == []
    await _finish(service, second, ok=False)
    await _finish(service, fix)
    assert await finished() == ["C-1 finished: w (2 done, 1 failed; took 0 min)"]
    await service.tasks.retry(f"T-{second}", "cli")  # reopened, then finished again
    await _finish(service, second)
    assert (await finished())[1:] == ["C-1 finished: w (3 done; took 0 min)"]
