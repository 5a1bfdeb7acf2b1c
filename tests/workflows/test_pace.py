"""A campaign's estimated finish from its agents' recent pace, with the fallbacks named."""

from __future__ import annotations

import pytest

from core.models import TaskSpec
from core.posts.queries import Post
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.workflows import Workflow, WorkflowBook
from core.workflows.view import campaign_text

pytestmark = pytest.mark.both_databases


async def _done_after(
    service: SwarmService, clock: ManualClock, agent: str, seconds: float
) -> None:
    """A task outside the campaign that ``agent`` finishes ``seconds`` after assignment."""
    task = await service.tasks.create(TaskSpec(f"warm-up for {agent}", agent=agent), "cli")
    assignment = await service.queue.assign_next()
    assert assignment is not None and assignment.agent == agent
    clock.advance(seconds)
    await service.tasks.complete(task.id, agent)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_estimate_uses_the_agents_recent_pace_then_falls_back(
    service: SwarmService, clock: ManualClock
) -> None:
    for agent, seconds in (("Agent-1", 600), ("Agent-1", 1200), ("Agent-2", 900), ("Agent-3", 60)):
        await _done_after(service, clock, agent, seconds)
    flows = WorkflowBook(service.store)
    flow = (
        Workflow("w")
        .var("mods", "list", default=["a", "b"])
        .step("one", "One ${item}", for_each="mods", agent="Agent-1")
        .step("two", "Two ${item}", for_each="mods", agent="Agent-2")
        .step("ok", "Approve", gate=True, needs=["one", "two"])
        .check()
    )
    run = await flows.run(await flows.plan(flow, {}), "cli")

    # none of its tasks went to an agent: the swarm's agents (median 750 s, 3 agents)
    fresh = await flows.campaign(run.campaign)
    assert fresh.estimate(clock.now()) == (
        1500,
        (
            "at the recent pace of the swarm's agents: median 12m 30s per task over 4 tasks "
            "done in the last 24 h, 3 agents"
        ),
    )
    await service.queue.assign_batch()  # Agent-1 and Agent-2 each take one
    working = await flows.campaign(run.campaign)
    remaining, basis = working.estimate(clock.now())
    assert remaining == 2 * 900  # 4 tasks (the gate is a person's) over 2 agents, median 900
    assert basis.startswith(
        "at the recent pace of its agents: median 15m 00s per task over 3 tasks"
    ) and basis.endswith("2 agents")
    assert "about 30m 00s left (at the recent pace of its agents" in campaign_text(
        working, clock.now()
    )
    assert working.to_json(clock.now())["estimate_basis"] == basis

    clock.advance(25 * 3600)  # the warm-up tasks are out of the window: the campaign's pace
    stale = await flows.campaign(run.campaign)
    assert stale.estimate(clock.now()) == (None, "no estimate before the first task is finished")
    await service.tasks.complete(run.task_ids[0], "Agent-1")
    own = await flows.campaign(run.campaign)
    elapsed = own.elapsed(clock.now())
    assert own.estimate(clock.now()) == (4 * elapsed, "at the campaign's own pace so far")


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_a_campaign_live_post_is_found_from_its_tasks(service: SwarmService) -> None:
    flows = WorkflowBook(service.store)
    flow = Workflow("w").step("a", "A").step("b", "B", needs=["a"]).check()
    first, second = (await flows.run(await flows.plan(flow, {}), "cli")).task_ids
    loose = await service.tasks.create(TaskSpec("not in a campaign"), "cli")
    assert await flows.campaign_of_task(first) == 1
    assert await flows.campaign_of_task(first, live_only=True) is None
    await flows.keep_live_post(
        "discord", Post("campaign:1", str(2**62), shown="x", channel_id=str(2**61))
    )
    assert await flows.campaign_of_task(second, live_only=True) == 1
    assert await flows.campaign_of_task(loose.id, live_only=True) is None
    assert await flows.live_post("discord", 1) == Post(
        "campaign:1", str(2**62), None, None, "x", str(2**61)
    )
    await flows.drop_live_post("discord", 1)
    assert await flows.live_post("discord", 1) is None
