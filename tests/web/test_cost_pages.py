"""Issue 51, item 4: the dashboard shows what the agents' turns cost: a task's page its turns,
tokens, dollars, turns of unknown cost and budget; the charts page the spend per UTC day as
a chart and the sums per agent, account and day; the JSON API the same (real app, real
store, SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from core.formats.jsonshape import iso_utc
from core.models import TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.workflows import WorkflowBook
from tests.costs.test_ledger import ACP, CLAUDE, Journal, assigned, with_agents
from tests.web.conftest import bearer
from tests.web.test_pages import login

pytestmark = pytest.mark.both_databases


async def spent_day(service: SwarmService, tmp_path: Path, clock: ManualClock) -> int:
    """A task with a budget of $1.00 on P1 (two turns, $0.90 known), a turn of P2 of unknown
    cost on it too; a turn of P1 two days before, on no task."""
    await with_agents(service, tmp_path)
    p1, p2 = Journal(service, "P1"), Journal(service, "P2")
    await p1.turn(usage=CLAUDE, cost_usd=4.0)  # two days ago, no task
    clock.advance(2 * 86_400)
    task_id = await assigned(service, "budgeted", "P1")
    await service.costs.set_task_budget(task_id, 1.0, "test")
    await p1.turn(usage=CLAUDE, cost_usd=0.5)
    await p1.turn(usage=CLAUDE, cost_usd=0.4)
    await service.tasks.requeue(task_id, "test")
    await service.tasks.assign(task_id, "P2", "test")  # pinned to P2, then given to it
    await service.queue.assign_batch()
    await p2.turn(usage=ACP)  # no model, no cost
    return task_id


async def test_a_tasks_page_shows_its_turns_cost_unknown_turns_and_budget(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str, tmp_path: Path,
    clock: ManualClock,
) -> None:  # fmt: skip
    task_id = await spent_day(service, tmp_path, clock)
    await login(client, admin_token)
    page = (await client.get(f"/tasks/T-{task_id}")).text
    assert (
        '<p id="task-cost-sum">$0.9000 + 1 turn(s) of unknown cost (3 turn(s): 3400 in, '
        "1100 out, 10000 cache read, 1400 cache write tokens)</p>"
    ) in page
    assert "Budget $1.00, at least 90% spent (its 1 turn(s) of unknown cost not counted)" in page
    turns = re.findall(r"<tr><td>[^<]*</td><td>(P\d)</td><td>([^<]*)</td>.*?<td>([^<]*)</td></tr>",
                       page.split('id="task-turns"')[1])  # fmt: skip
    assert turns == [("P1", "team", "$0.5000"), ("P1", "team", "$0.4000"),
                     ("P2", "gemini-default", "unknown")]  # fmt: skip
    other = await service.tasks.create(TaskSpec("never ran"), "test")
    quiet = (await client.get(f"/tasks/{other.ref}")).text
    assert "no turn recorded (its route gives no usage, or it has not run)" in quiet
    assert 'id="task-budget"' not in quiet and 'id="task-turns"' not in quiet


async def test_the_charts_page_shows_the_spend_per_day_agent_and_account(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str, tmp_path: Path,
    clock: ManualClock,
) -> None:  # fmt: skip
    await spent_day(service, tmp_path, clock)
    await login(client, admin_token)
    page = (await client.get("/charts")).text  # the last 24 h: not the turn of two days ago
    assert "$0.9000 + 1 turn(s) of unknown cost in 3 turn(s)" in page
    chart = page.split('id="chart-spend"')[1].split("</svg>")[0]
    assert "Spend per day (UTC)" in chart
    bars = re.findall(r"<title>(\d{4}-\d\d-\d\d) known cost: ([^<]*)</title>", chart)
    assert [cost for _, cost in bars if cost != "0 USD"] == ["0.9 USD"]
    agents = page.split('id="spend-by-agent"')[1].split("</table>")[0]
    assert re.findall(r"<tr><td>([^<]*)</td>.*?<td>([^<]*)</td></tr>", agents) == [
        ("P1", "$0.9000"),
        ("P2", "unknown (1 turn(s) with no cost)"),
    ]
    accounts = page.split('id="spend-by-account"')[1].split("</table>")[0]
    assert "<td>team</td>" in accounts and "<td>gemini-default</td>" in accounts
    week = (await client.get("/charts?hours=168")).text
    assert "$4.90 + 1 turn(s) of unknown cost in 4 turn(s)" in week


async def test_the_charts_page_shows_what_each_campaign_cost_unknown_never_as_zero(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str, tmp_path: Path,
    clock: ManualClock,
) -> None:  # fmt: skip
    task_id = await spent_day(service, tmp_path, clock)
    flows = WorkflowBook(service.store)
    await flows.create_campaign("known", [f"T-{task_id}"], "test")
    await service.tasks.complete(task_id, "P2")
    other = await assigned(service, "unpriced", "P2")
    await flows.create_campaign("unpriced", [f"T-{other}"], "test")
    p2 = Journal(service, "P2")
    p2.seq = 2  # after its first turn's two entries
    await p2.turn(usage=ACP)  # no model, no cost
    await p2.turn(usage=ACP)
    await service.tasks.complete(other, "P2")
    p1 = Journal(service, "P1")
    p1.seq = 6  # after its three turns
    await p1.turn(delivered=False, usage=CLAUDE, cost_usd=0.05)  # on no task
    await login(client, admin_token)
    page = (await client.get("/charts")).text
    table = page.split('id="spend-by-campaign"')[1].split("</table>")[0]
    assert re.findall(r"<tr><td>([^<]*)</td><td>(\d+)</td>.*?<td>([^<]*)</td></tr>", table) == [
        ("C-1", "3", "$0.9000 + 1 turn(s) of unknown cost"),
        ("no campaign", "1", "$0.0500"),
        ("C-2", "2", "unknown (2 turn(s) with no cost)"),
    ]


async def test_the_api_gives_a_tasks_cost_and_the_periods_sums(
    client: httpx.AsyncClient, service: SwarmService, viewer_token: str, tmp_path: Path,
    clock: ManualClock,
) -> None:  # fmt: skip
    task_id = await spent_day(service, tmp_path, clock)
    task = (await client.get(f"/api/v1/tasks/T-{task_id}", headers=bearer(viewer_token))).json()
    assert task["budget"] == 1.0 and task["waits"] is None
    assert (task["cost"]["turns"], task["cost"]["unknown_cost_turns"]) == (3, 1)
    assert task["cost"]["cost_usd"] == pytest.approx(0.9)
    assert [t["cost_usd"] for t in task["turns"]] == [0.5, 0.4, None]
    assert task["turns"][0]["recorded_at"] == iso_utc(clock.now())
    day = (await client.get("/api/v1/costs", headers=bearer(viewer_token))).json()
    assert [(s["key"], s["turns"]) for s in day["by_agent"]] == [("P1", 2), ("P2", 1)]
    assert [s["key"] for s in day["by_task"]] == [f"T-{task_id}"]
    assert [(s["key"], s["turns"]) for s in day["by_campaign"]] == [("(none)", 3)]  # none made
    week = (await client.get("/api/v1/costs?hours=168", headers=bearer(viewer_token))).json()
    assert sum(s["cost_usd"] for s in week["by_day"]) == pytest.approx(4.9)
    bad = await client.get("/api/v1/costs?hours=0", headers=bearer(viewer_token))
    assert bad.status_code == 422


async def test_a_turn_of_unknown_usage_is_unknown_on_both_pages_never_zero(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str, tmp_path: Path
) -> None:
    """Issue 79, item 8: a turn whose usage is not known (Claude Code's turn end with none):
    its tokens and dollars "unknown", its budget's share "spent: unknown", not 0 % or $0."""
    await with_agents(service, tmp_path)
    task_id = await assigned(service, "blind", "P1")
    await service.costs.set_task_budget(task_id, 1.0, "test")
    await Journal(service, "P1").turn()  # no usage, no cost
    await login(client, admin_token)
    page = (await client.get(f"/tasks/T-{task_id}")).text
    assert (
        '<p id="task-cost-sum">unknown (1 turn(s) with no cost) (1 turn(s): unknown tokens)</p>'
    ) in page
    assert '<p id="task-budget">Budget $1.00, spent: unknown</p>' in page
    charts = (await client.get("/charts")).text
    assert "unknown (1 turn(s) with no cost) in 1 turn(s) (unknown tokens)" in charts
    agents = charts.split('id="spend-by-agent"')[1].split("</table>")[0]
    assert "<td>P1</td><td>1</td>" + "<td>unknown</td>" * 4 in agents, agents
    assert "$0.0" not in agents and "<td>0</td>" not in agents
