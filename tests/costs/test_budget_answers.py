"""Issue 51, item 5: a spent budget is answered where it is listed (``core/inbox/actions.py``):
a task's or a campaign's is raised to an amount above what was spent (anything else refused
in one line, nothing written) or what it covers is cancelled, by a person only, each said in
the event log; an agent's or an account's daily budget offers no action (the agents file
holds it); a campaign's budget set after turns that read none is still enforced (real
store, SQLite and PostgreSQL, manual clock)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from core.errors import InvalidInput, PersonOnly
from core.event_kinds import EventKind
from core.formats.text import dollars_text
from core.inbox.needs import Need
from core.models import TaskSpec, TaskStatus
from core.service.swarm import SwarmService
from core.workflows import WorkflowBook
from tests.costs.test_campaign_account_budgets import team
from tests.costs.test_ledger import CLAUDE, Journal, events, with_agents

pytestmark = pytest.mark.both_databases


async def budget_items(service: SwarmService) -> list[Need]:
    return [n for n in await service.inbox.needs() if n.kind == "budget"]


async def spent_task(service: SwarmService, tmp_path: Path) -> tuple[int, Need]:
    """A task of P1 whose $1.00 budget is spent ($1.05); its needs-you item."""
    await with_agents(service, tmp_path)
    task_id = await service.costs.create_task(TaskSpec("budgeted", agent="P1"), "test", 1.0)
    await service.queue.assign_batch()
    await Journal(service, "P1").turn(usage=CLAUDE, cost_usd=1.05)
    (item,) = await budget_items(service)
    return task_id, item


async def spent_campaign(service: SwarmService, tmp_path: Path) -> tuple[int, list[int], Need]:
    """A campaign of two tasks of T1 whose $1.00 budget is spent; its id, tasks and item."""
    await team(service, tmp_path, None)
    ids = [(await service.tasks.create(TaskSpec(t, agent="T1"), "test")).id for t in "ab"]
    campaign = await service.costs.create_campaign("c", [f"T-{i}" for i in ids], "test", 1.0)
    await service.queue.assign_batch()
    await Journal(service, "T1").turn(usage=CLAUDE, cost_usd=1.2)
    (item,) = await budget_items(service)
    return campaign, ids, item


async def spent_budgets(service: SwarmService) -> tuple[str, str, str]:
    """A task's, a campaign's and an agent's daily budget spent: their items' refs."""
    task_id = await service.costs.create_task(TaskSpec("a", agent="Agent-2"), "cli", 1.0)
    other = await service.tasks.create(TaskSpec("b", agent="Agent-3"), "cli")
    campaign = await service.costs.create_campaign("c", [other.ref], "cli", 1.0)
    await service.queue.assign_batch()
    await Journal(service, "Agent-2").turn(usage=CLAUDE, cost_usd=1.05)
    await Journal(service, "Agent-3").turn(usage=CLAUDE, cost_usd=1.5)
    agents = [
        replace(a, daily_budget=0.1) if a.id == "Agent-4" else a for a in service.agents.values()
    ]
    await service.replace_agents(agents, service.settings.config_path)
    await Journal(service, "Agent-4").turn(usage=CLAUDE, cost_usd=0.2)
    items = {n.concerns: n.ref for n in await service.inbox.needs() if n.kind == "budget"}
    return items[f"T-{task_id}"], items[f"C-{campaign}"], items["Agent-4"]


async def test_a_spent_tasks_budget_is_raised_from_its_item_above_what_was_spent_only(
    service: SwarmService, tmp_path: Path
) -> None:
    task_id, item = await spent_task(service, tmp_path)
    assert item.actions == ("raise", "cancel") and item.to_json()["actions"] == ["raise", "cancel"]
    refusals: list[tuple[dict[str, Any], str]] = [
        ({"dollars": 1.05}, r"\$1\.05 is not above the \$1\.05 T-1 spent"),
        ({"dollars": 0.5}, "is not above"),
        ({"dollars": 0.0}, "a budget is a number of dollars above 0"),
        ({"dollars": -3.0}, "a budget is a number of dollars above 0"),
        ({"dollars": float("nan")}, "a budget is a number of dollars above 0"),
        ({"dollars": float("inf")}, "a budget is a number of dollars above 0"),
        ({}, "raise names the new budget in dollars"),
    ]
    for given, why in refusals:
        with pytest.raises(InvalidInput, match=why) as refused:
            await service.inbox.act(item.ref, "raise", "alice", **given)
        assert "\n" not in str(refused.value)
    with pytest.raises(InvalidInput, match="only raise takes an amount"):
        await service.inbox.act(item.ref, "cancel", "alice", dollars=5.0)
    with pytest.raises(PersonOnly):  # an agent decides no budget
        await service.inbox.act(item.ref, "raise", "P1", dollars=5.0)
    assert (await service.costs.of_task(task_id))["budget"] == 1.0  # nothing written
    assert await events(service, EventKind.BUDGET_SET) == ["T-1's budget set to $1.00 by test"]
    answered = await service.inbox.act(item.ref, "raise", "alice", dollars=2.5)
    assert answered.text == f"{item.ref}: T-1's budget raised to $2.50 by alice"
    assert (await service.costs.of_task(task_id))["budget"] == 2.5
    assert await budget_items(service) == []
    assert await events(service, EventKind.BUDGET_SET) == [
        "T-1's budget set to $1.00 by test",
        "T-1's budget set to $2.50 by alice",
    ]


async def test_cancel_from_a_spent_tasks_item_cancels_the_task_and_the_item_clears(
    service: SwarmService, tmp_path: Path
) -> None:
    task_id, item = await spent_task(service, tmp_path)
    answered = await service.inbox.act(item.ref, "cancel", "alice")
    assert answered.text == f"{item.ref}: T-{task_id} cancelled"
    assert (await service.tasks.get(task_id)).status is TaskStatus.cancelled
    assert await budget_items(service) == []


async def test_a_spent_campaigns_budget_is_raised_or_the_campaign_cancelled_from_its_item(
    service: SwarmService, tmp_path: Path
) -> None:
    campaign, ids, item = await spent_campaign(service, tmp_path)
    assert item.actions == ("raise", "cancel")
    with pytest.raises(InvalidInput, match=r"\$1\.10 is not above the \$1\.20 C-1 spent"):
        await service.inbox.act(item.ref, "raise", "alice", dollars=1.1)
    await service.inbox.act(item.ref, "raise", "alice", dollars=3.0)
    assert (await service.costs.of_campaign(campaign))["budget"] == 3.0
    assert await budget_items(service) == []
    journal = Journal(service, "T1")
    journal.seq = 2  # after the first turn's two entries
    await journal.turn(usage=CLAUDE, cost_usd=2.0)  # spent again
    (again,) = await budget_items(service)
    answered = await service.inbox.act(again.ref, "cancel", "alice")
    assert answered.text.startswith(f"{again.ref}: C-{campaign} cancelled (2 unfinished task(s)")
    assert (await WorkflowBook(service.store).campaign(campaign)).status == "cancelled"
    assert [(await service.tasks.get(i)).status for i in ids] == [TaskStatus.cancelled] * 2
    assert await budget_items(service) == []


async def test_a_spent_daily_budget_offers_no_action_and_says_where_it_is_raised(
    service: SwarmService, tmp_path: Path
) -> None:
    await with_agents(service, tmp_path, budget=0.4)
    await Journal(service, "P1").turn(usage=CLAUDE, cost_usd=0.45)
    (item,) = await budget_items(service)
    assert item.actions == ()
    assert "daily_budget in P1's [[agent]] table (the agents file: not from here)" in item.hint
    for action, dollars in (("raise", 5.0), ("cancel", None)):
        with pytest.raises(InvalidInput, match=rf"{item.ref} \(budget\) takes no action"):
            await service.inbox.act(item.ref, action, "alice", dollars=dollars)


async def test_a_campaign_budget_set_after_turns_that_read_none_is_still_enforced(
    service: SwarmService, tmp_path: Path
) -> None:
    await team(service, tmp_path, None)
    task = await service.tasks.create(TaskSpec("a", agent="T1"), "test")
    campaign = await WorkflowBook(service.store).create_campaign("c", [task.ref], "test")
    await service.queue.assign_batch()
    journal = Journal(service, "T1")
    await journal.turn(usage=CLAUDE, cost_usd=0.5)  # no campaign has a budget: none read
    assert await events(service, EventKind.BUDGET_WARNED) == []
    await service.costs.set_campaign_budget(campaign, 1.0, "test")
    await journal.turn(usage=CLAUDE, cost_usd=0.6)
    reached = await events(service, EventKind.BUDGET_REACHED)
    assert len(reached) == 1 and f"C-{campaign}'s budget is spent: $1.10 of $1.00" in reached[0]


async def test_a_budget_is_said_as_it_was_written(service: SwarmService) -> None:
    """Issue 64, item 10: a budget of $0.009 was said to be $0.01 (to the cent it was not
    written in); the events and items say it as given."""
    task = await service.costs.create_task(TaskSpec("tiny", "tiny"), "test", 0.009)
    await service.costs.set_task_budget(task, 1234.5, "test")
    assert await events(service, EventKind.BUDGET_SET) == [
        f"T-{task}'s budget set to $0.009 by test", f"T-{task}'s budget set to $1,234.50 by test"
    ]  # fmt: skip
    assert [dollars_text(d) for d in (5, 0.5, 0.009, 0.0125, 1e-6)] == [
        "$5.00", "$0.50", "$0.009", "$0.0125", "$0.000001"
    ]  # fmt: skip
