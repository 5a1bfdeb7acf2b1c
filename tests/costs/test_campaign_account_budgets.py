"""Issue 51, item 5: a campaign's budget (``swarm campaign create --budget``, ``swarm campaign
budget``) and an account's per UTC day (``account_daily_budget`` in its agents' tables) post
at 80 %, stop new work for what they cover at 100 % with a needs-you item, say a turn of
unknown cost, and refuse a bad value with nothing written (real store, SQLite and
PostgreSQL, manual clock)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.agents_file import load_agents
from core.errors import ConfigError, InvalidInput, NotFound
from core.event_kinds import EventKind
from core.models import Agent, TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.workflows import WorkflowBook
from tests.costs.test_ledger import ACP, CLAUDE, Journal, events
from tests.helpers import run_cli

pytestmark = pytest.mark.both_databases


async def team(service: SwarmService, tmp_path: Path, account_budget: float | None) -> None:
    """T1 and T2 on account ``team`` (its daily budget ``account_budget``, named by T1 only),
    O1 on another."""
    agents = [
        Agent("T1", "dev", cli="claude-code", account="team", delivery="inbox",
              account_daily_budget=account_budget),
        Agent("T2", "dev", cli="claude-code", account="team", delivery="inbox"),
        Agent("O1", "dev", cli="gemini", account="other", delivery="inbox"),
    ]  # fmt: skip
    await service.replace_agents(agents, tmp_path / "agents.toml")


async def budget_items(service: SwarmService) -> list[object]:
    return [n for n in await service.inbox.needs() if n.kind == "budget"]


async def test_a_campaigns_budget_warns_stops_its_unassigned_tasks_and_a_raise_goes_on(
    service: SwarmService, tmp_path: Path
) -> None:
    await team(service, tmp_path, None)
    first = await service.tasks.create(TaskSpec("first", agent="T1"), "test")
    second = await service.tasks.create(TaskSpec("second", agent="T1"), "test")
    outside = await service.tasks.create(TaskSpec("outside", agent="O1"), "test")
    campaign = await service.costs.create_campaign("c", [first.ref, second.ref], "test", 1.0)
    await service.queue.assign_batch()
    assert (await service.tasks.get(first.id)).agent == "T1"
    journal = Journal(service, "T1")
    await journal.turn(usage=CLAUDE, cost_usd=0.85)
    warned = await events(service, EventKind.BUDGET_WARNED)
    assert len(warned) == 1 and f"C-{campaign}'s budget is 85% spent" in warned[0]
    await journal.turn(usage=CLAUDE, cost_usd=0.2)
    await journal.turn(usage=CLAUDE, cost_usd=0.2)  # said once
    reached = await events(service, EventKind.BUDGET_REACHED)
    assert len(reached) == 1 and f"C-{campaign}'s budget is spent: $1.05 of $1.00" in reached[0]
    assert "tasks not yet assigned get no agent" in reached[0]
    # the running task goes on; the campaign's next task gets no agent, another task does
    await service.tasks.complete(first.id, "T1")
    await service.queue.assign_batch()
    assert (await service.tasks.get(second.id)).agent is None
    assert (await service.tasks.get(outside.id)).agent == "O1"
    assert "gets no agent" in (await service.costs.why_waiting(second.id) or "")
    (item,) = await budget_items(service)
    assert f"C-{campaign}'s budget is spent" in item.text  # type: ignore[attr-defined]
    assert "swarm campaign budget" in item.hint  # type: ignore[attr-defined]
    spend = await service.costs.of_campaign(f"C-{campaign}")
    assert (spend["budget"], spend["cost"].turns) == (1.0, 3)
    await service.costs.set_campaign_budget(f"C-{campaign}", 5.0, "test")
    assert await budget_items(service) == []
    await service.queue.assign_batch()
    assert (await service.tasks.get(second.id)).agent == "T1"


async def test_an_accounts_daily_budget_stops_every_agent_of_it_until_the_next_day(
    service: SwarmService, tmp_path: Path, clock: ManualClock
) -> None:
    await team(service, tmp_path, 1.0)
    first = await service.tasks.create(TaskSpec("first", agent="T1"), "test")
    await service.queue.assign_batch()
    t2 = Journal(service, "T2")
    await Journal(service, "T1").turn(usage=CLAUDE, cost_usd=0.5)
    await t2.turn(usage=CLAUDE, cost_usd=0.35)  # the same account
    warned = await events(service, EventKind.BUDGET_WARNED)
    assert len(warned) == 1 and "team's budget for " in warned[0] and "85% spent" in warned[0]
    await Journal(service, "O1").turn(usage=CLAUDE, cost_usd=3.0)  # another account
    await t2.turn(usage=CLAUDE, cost_usd=0.25)
    reached = await events(service, EventKind.BUDGET_REACHED)
    assert len(reached) == 1 and "$1.10 of $1.00" in reached[0]
    assert "team's agents get no new task until tomorrow" in reached[0]
    await service.tasks.complete(first.id, "T1")
    for_t2 = await service.tasks.create(TaskSpec("for T2", agent="T2"), "test")
    for_o1 = await service.tasks.create(TaskSpec("for O1", agent="O1"), "test")
    await service.queue.assign_batch()
    assert (await service.tasks.get(for_t2.id)).agent is None
    assert (await service.tasks.get(for_o1.id)).agent == "O1"
    waits = await service.costs.why_waiting(for_t2.id)  # task show says why (issue 64)
    assert waits == (
        "waits for T2: team's today's budget is spent: $1.10 of $1.00 (until tomorrow, UTC, "
        "or a raise)"
    )
    (item,) = await budget_items(service)
    assert "team's today's budget is spent: $1.10 of $1.00" in item.text  # type: ignore[attr-defined]
    assert item.concerns == "account team: T1, T2"  # type: ignore[attr-defined]
    assert "account_daily_budget" in item.hint  # type: ignore[attr-defined]
    clock.advance(86400)  # a new UTC day: the account works again
    assert await budget_items(service) == []
    await service.queue.assign_batch()
    assert (await service.tasks.get(for_t2.id)).agent == "T2"


async def test_a_turn_of_unknown_cost_under_an_accounts_budget_is_said_once(
    service: SwarmService, tmp_path: Path
) -> None:
    await team(service, tmp_path, 1.0)
    await Journal(service, "T1").turn(usage=ACP)  # no model, no cost
    await Journal(service, "T2").turn(usage=ACP)
    said = await events(service, EventKind.BUDGET_WARNED)
    assert len(said) == 1 and "team's budget for " in said[0]
    assert "cannot be followed exactly" in said[0]


async def test_a_bad_campaign_budget_is_refused_and_nothing_is_written(
    service: SwarmService,
) -> None:
    task = await service.tasks.create(TaskSpec("t"), "test")
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(InvalidInput, match="a budget is a number of dollars above 0"):
            await service.costs.create_campaign("c", [task.ref], "test", bad)
    assert await WorkflowBook(service.store).campaigns() == []
    with pytest.raises(NotFound):
        await service.costs.set_campaign_budget("C-9", 2.0, "test")


def agents_file(tmp_path: Path, *tables: str) -> Path:
    path = tmp_path / "agents.toml"
    path.write_text("".join(f'[[agent]]\nrole = "dev"\n{t}\n' for t in tables), "utf-8")
    return path


def test_the_agents_file_reads_an_accounts_daily_budget(tmp_path: Path) -> None:
    path = agents_file(
        tmp_path,
        'id = "A"\naccount = "team"\naccount_daily_budget = 20',
        'id = "B"\naccount = "team"',
    )
    assert [a.account_daily_budget for a in load_agents(path)] == [20.0, None]


@pytest.mark.parametrize(
    ("tables", "error"),
    [
        (['id = "A"\naccount_daily_budget = 5'], "account_daily_budget needs a named account"),
        (['id = "A"\naccount = "t"\naccount_daily_budget = 0'], "must be a number of dollars"),
        (['id = "A"\naccount = "t"\naccount_daily_budget = "5"'], "must be a number of dollars"),
        (
            [
                'id = "A"\naccount = "t"\naccount_daily_budget = 5',
                'id = "B"\naccount = "t"\naccount_daily_budget = 6',
            ],
            "account t's account_daily_budget is 5 for A but 6 for B",
        ),
    ],
)
def test_a_bad_account_daily_budget_is_refused_in_one_line(
    tmp_path: Path, tables: list[str], error: str
) -> None:
    with pytest.raises(ConfigError, match=error) as caught:
        load_agents(agents_file(tmp_path, *tables))
    assert "\n" not in str(caught.value)


def test_the_cli_gives_a_campaign_a_budget_and_shows_its_cost(home: Path) -> None:
    """``swarm campaign create --budget``, ``swarm campaign budget``, ``swarm workflow run
    --budget`` and ``swarm campaign show`` (a real CLI process on a fresh home)."""
    assert run_cli(home, "task", "add", "one").code == 0
    made = run_cli(home, "campaign", "create", "c", "T-1", "--budget", "2.5")
    assert made.code == 0 and made.out == "C-1 created (1 task, budget $2.50)\n", made
    raised = run_cli(home, "campaign", "budget", "C-1", "4", "--json")
    assert json.loads(raised.out)["budget"] == 4.0, raised
    shown = run_cli(home, "campaign", "show", "C-1")
    assert "Cost: no turn recorded, budget $4.00, 0% spent" in shown.out, shown
    ran = run_cli(home, "workflow", "run", "release", "--var", "version=1", "--var",
                  "modules=a", "--budget", "3", "--json")  # fmt: skip
    assert ran.code == 0, ran
    shown = json.loads(run_cli(home, "campaign", "show", json.loads(ran.out)["campaign"],
                               "--json").out)  # fmt: skip
    assert (shown["budget"], shown["cost"]["turns"]) == (3.0, 0)
