"""Issue 41, item 7: ``swarm stats``, the dashboard's charts, a campaign and the period summary
count one history the same way (``core.reports.counts``), and show a reopened task, requeues
after a lease, cancellations and failed deliveries."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.discordbot.embeds import campaign_embed
from bot.web.app import create_app
from bot.web.settings import WebSettings
from core.ai._settings import AISettings
from core.coordinator.scheduler import Scheduler
from core.models import Receipt, TaskSpec, TaskStatus
from core.protocols import ManualClock
from core.reports import stats
from core.reports.counts import count, deliveries_text, tasks_text
from core.service.ai import AIBook
from core.service.swarm import SwarmService
from core.tasks import reopen
from core.workflows.service import WorkflowBook
from core.workflows.view import campaign_text
from tests.helpers import RecordingDeliverer
from tests.web.conftest import make_token

pytestmark = pytest.mark.both_databases

# The history below, counted: T-1 done twice (reopened between), T-2 done after its lease ran
# out and it went back to the queue, T-3 cancelled, T-4 failed then retried, T-5's delivery
# failed (it went back to the queue, then was cancelled).
EXPECTED = {
    "created": 5,
    "done": 2 + 1,
    "failed": 1,
    "cancelled": 2,
    "reopened": 1,
    "requeued": 2,
    "lease_expired": 1,
    "retried": 1,
    # T-1 to T-4's prompts, T-2's again after its lease, the word to Agent-2 that T-2 is no
    # longer its own, the word to Agent-3 that T-3 was cancelled (a withdrawal too)
    "delivered": 4 + 1 + 1 + 1,
    "delivery_failed": 1,
}


async def make_history(service: SwarmService, clock: ManualClock) -> None:
    """Five tasks of one campaign through the real service and scheduler."""
    deliverer = RecordingDeliverer()
    deliverer.failing["Agent-5"] = "paste not seen"
    scheduler = Scheduler(service, deliverer)
    for title, agent in [
        ("reopened", "Agent-1"),
        ("lease", "Agent-2"),
        ("cancelled", "Agent-3"),
        ("failed", "Agent-4"),
        ("undelivered", "Agent-5"),
    ]:
        await service.tasks.create(TaskSpec(title, agent=agent), "cli")
    await WorkflowBook(service.store).create_campaign(
        "the day", ["T-1", "T-2", "T-3", "T-4", "T-5"], "cli"
    )
    await scheduler.run_burst()
    await service.tasks.complete("T-1", "Agent-1", "first try")
    await service.store.write("review", reopen, 1, "a review asked for more")
    await service.tasks.complete("T-1", "Agent-1", "second try")
    await service.tasks.cancel("T-3", "cli")
    await service.tasks.fail("T-4", "Agent-4", "cannot")
    await service.tasks.retry("T-4", "cli")
    await service.roster.set_paused("Agent-4", True, "cli")  # T-4 waits (no new delivery)
    for delay in (5, 10):  # T-5's delivery fails its attempts
        clock.advance(delay)
        await scheduler.run_burst()
    await service.roster.set_paused("Agent-5", True, "cli")
    clock.advance(service.settings.lease_s + 1)  # T-2 was never started: its lease runs out
    await scheduler.run_burst()
    assert (await service.tasks.get("T-2")).status is TaskStatus.ready
    clock.advance(60)
    await scheduler.run_burst()
    await service.tasks.complete("T-2", "Agent-2", "done at last")
    await service.tasks.cancel("T-5", "cli")
    clock.advance(60)


async def dashboard_page(service: SwarmService) -> str:
    """The dashboard's charts page, as a logged-in viewer sees it."""
    token = await make_token(service, "viewer", "wall")
    transport = httpx.ASGITransport(app=create_app(service, WebSettings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        await http.post(
            "/login",
            content=f"token={token}&next=/charts",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        page = await http.get("/charts?hours=24")
    assert page.status_code == 200
    return page.text


async def test_stats_dashboard_campaign_and_summary_count_one_history_alike(
    service: SwarmService, clock: ManualClock
) -> None:
    await make_history(service, clock)
    tasks_line = tasks_text(EXPECTED)
    deliveries_line = deliveries_text(EXPECTED)
    assert "1 reopened, 2 back in the queue, 1 lease expired" in tasks_line

    found = await stats.collect(service.store, "1d")
    assert found.to_json()["counts"] == EXPECTED
    table = stats.render_table(found)
    assert f"tasks: {tasks_line}" in table and f"deliveries: {deliveries_line}" in table

    async with AIBook(service, AISettings()) as ai:
        summary = await ai.summaries.summarize("1d")
    assert summary.stats["counts"] == EXPECTED
    assert f"tasks: 5 created, {tasks_line}" in summary.text
    assert f"deliveries: {deliveries_line}" in summary.text

    page = await dashboard_page(service)
    assert f"tasks: {tasks_line}; deliveries: {deliveries_line}" in page

    campaign = await WorkflowBook(service.store).campaign("C-1")
    in_campaign = EXPECTED  # the word that T-3 was cancelled is a withdrawal of T-3: its own
    assert campaign.to_json(clock.now())["happened"] == in_campaign
    assert f"history:    {tasks_line}; deliveries: {deliveries_text(in_campaign)}" in campaign_text(
        campaign, clock.now()
    )

    history = {f.name: f.value for f in campaign_embed(campaign, clock.now()).fields}["history"]
    assert history == f"{tasks_line}; deliveries: {deliveries_text(in_campaign)}"  # Discord's

    per_agent = {a.agent: a.counts for a in found.agents}
    for agent, counted in summary.stats["per_agent"].items():
        assert {k: n for k, n in per_agent[agent].items() if n} == counted
    assert per_agent["Agent-1"]["reopened"] == 1 and per_agent["Agent-1"]["done"] == 2
    assert per_agent["Agent-2"]["lease_expired"] == 1
    assert per_agent["Agent-5"]["delivery_failed"] == 1


async def test_a_campaign_whose_rest_no_agent_can_take_says_so(
    service: SwarmService, clock: ManualClock, tmp_path: Path
) -> None:
    """The rule of "Needs you" (``core.tasks._takers``): the agents file changed, and no
    configured agent can take what is left: no time is estimated, the tasks are named."""
    await service.tasks.create(TaskSpec("Load the data", role="data"), "cli")
    await service.tasks.create(TaskSpec("Any agent will do"), "cli")
    flows = WorkflowBook(service.store)
    await flows.create_campaign("data", ["T-1", "T-2"], "cli")
    await Scheduler(service, RecordingDeliverer()).run_burst()
    await service.tasks.cancel("T-1", "cli")  # the data agent's turn ends
    await service.tasks.retry("T-1", "cli")
    kept = [a for a in service.agents.values() if a.id != "Agent-5"]
    await service.replace_agents(kept, tmp_path / "agents.toml")
    clock.advance(600)
    holder = (await service.tasks.get("T-2")).agent
    assert holder is not None
    await service.tasks.complete("T-2", holder, "done")
    campaign = await flows.campaign("C-1")
    remaining, basis = campaign.estimate(clock.now())
    assert remaining is None
    assert basis == "no agent can take the rest: T-1 needs a 'data' agent: none is configured"
    shown = campaign_text(campaign, clock.now())
    assert "no agent can take the rest: T-1 needs a 'data' agent" in shown


async def test_an_event_late_in_an_hour_counts_in_that_hour_on_both_databases(
    service: SwarmService, clock: ManualClock
) -> None:
    """The dashboard's hourly chart: PostgreSQL's CAST rounds (10:45 read as 11:00), so the
    hour is ``floor`` there (SQLite's CAST truncates)."""
    hour = int(clock.now() // 3600) * 3600 + 3600  # the next hour, ahead of the clock
    clock.advance(hour + 2700 - clock.now())  # 45 minutes past
    await service.tasks.create(TaskSpec("late in the hour"), "cli")
    found = await service.store.read(count, hour - 3600, hour + 7200)
    assert {h: n["created"] for h, n in found.per_hour.items()} == {hour: 1}


async def test_stats_totals_are_the_sum_of_their_rows_and_a_retried_task_done_is_done(
    service: SwarmService, clock: ManualClock
) -> None:
    """Issue 53, item 8: a task whose prompt never reached its agent fails with no agent
    (the scheduler's); its failure is on a row of its own, so the total row is the sum of
    the rows (before: the total said 1 failed, every agent row 0). Retried and done, it is
    done, not failed."""
    task = await service.tasks.create(TaskSpec("undeliverable", agent="Agent-5"), "cli")
    for _ in range(service.settings.max_attempts):
        await service.queue.assign_batch()
        delivery = await service.queue.claim_delivery()
        assert delivery is not None
        refused = Receipt.failed("window not found", "test", retryable=False)
        await service.queue.record_receipt(delivery, refused)
        clock.advance(3600)  # past the task's backoff
    assert (await service.tasks.get(task.ref)).status is TaskStatus.failed
    found = await stats.collect(service.store, "1d")
    rows = {a.agent: a.counts for a in found.agents}
    assert rows[stats.NO_AGENT]["failed"] == 1 and found.failed == 1
    assert rows["Agent-5"]["failed"] == 0 and rows["Agent-5"]["delivery_failed"] == 3
    for name in stats.COLUMNS:
        assert sum(r[name] for r in rows.values()) == found.counts.total[name], name
    (no_agent,) = [
        line for line in stats.render_table(found).splitlines() if line.startswith("(no")
    ]
    assert no_agent.split()[2:4] == ["0", "1"]  # DONE, FAILED

    await service.tasks.retry(task.ref, "cli")
    await service.queue.assign_batch()
    delivery = await service.queue.claim_delivery()
    assert delivery is not None
    await service.queue.record_receipt(delivery, Receipt.delivered("test"))
    await service.tasks.complete(task.ref, "Agent-5", "done after all")
    found = await stats.collect(service.store, "1d")
    assert (found.done, found.failed, found.counts.total["retried"]) == (1, 0, 1)
    rows = {a.agent: a.counts for a in found.agents}
    assert rows["Agent-5"]["done"] == 1 and stats.NO_AGENT not in rows
    for name in stats.COLUMNS:
        assert sum(r[name] for r in rows.values()) == found.counts.total[name], name
