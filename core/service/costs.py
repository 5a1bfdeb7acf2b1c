"""Cost and budgets as the front ends ask for them (``service.costs``): what turns cost by
task, agent, account, CLI, model, day or campaign; a task's and a campaign's spend and
budget; a task or a campaign made with a budget; a budget raised."""

from __future__ import annotations

import asyncio
from typing import Any

from core.accounts.naming import account_of
from core.assignment import takers, takers_text, why_waiting
from core.context import Ctx
from core.costs import budgets, ledger, usage_place
from core.costs.budgets import check_dollars as check_dollars  # the front ends' check
from core.errors import NotFound
from core.models import Agent, TaskSpec, parse_task_ref
from core.store.access import StoreAccess
from core.store.conn import Conn
from core.tasks import creation, get_task
from core.tasks import queries as task_queries
from core.workflows import RunPlan, campaigns, runs


class CostBook:
    """What the agents' turns cost, and the budgets (``service.costs``)."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    async def spend(self, since: float | None = None) -> dict[str, list[ledger.Spent]]:
        """The sums per task, agent, account, CLI, model, day and campaign of the turns
        since ``since`` (None: all)."""
        return await self.access.read(_spend, since)

    async def of_task(self, ref: str | int) -> dict[str, Any]:
        """A task's spend (``cost``: its sums, ``turns``: each turn, ``budget``, and
        ``usage_unknown``: why its agent's turns' usage cannot be read, or None)."""
        found = await self.access.read(_of_task, parse_task_ref(ref))
        agent = self.access.agents.get(found.pop("assignee") or "")
        settings = self.access.settings
        said = None if agent is None else await asyncio.to_thread(
            usage_place.usage_said, agent, settings.cli_dirs, settings.home
        )  # fmt: skip
        unknown = said is not None and said.startswith("unknown")
        return {**found, "usage_unknown": f"{agent.id}'s {said}" if agent and unknown else None}

    async def reprice(self, actor: str) -> int:
        """Price the turns of unknown cost whose model the price table now lists; how many."""
        return await self.access.write(actor, ledger.reprice)

    async def why_waiting(self, ref: str | int) -> str | None:
        """Why a ready task waits: only agents of an account held by its usage limit can
        take it, or its budget is spent; None when nothing of the kind holds it."""
        task_id = parse_task_ref(ref)
        ctx = self.access.ctx("swarm")
        return await self.access.read(_why_waiting, ctx, task_id)

    async def create_task(self, spec: TaskSpec, actor: str, dollars: float) -> int:
        """Create one task with a budget, in one transaction; its id."""
        check_dollars(dollars)
        return await self.access.write(actor, _create_with_budget, spec, dollars)

    async def set_task_budget(self, ref: str | int, dollars: float, actor: str) -> None:
        """Give a task a budget, or a new one (its crossings are said again)."""
        check_dollars(dollars)
        await self.access.write(actor, _set_budget, parse_task_ref(ref), dollars)

    async def of_campaign(self, ref: str | int) -> dict[str, Any]:
        """A campaign's spend (``cost``: the sums of its tasks' turns, ``budget``)."""
        return await self.access.read(_of_campaign, campaigns.parse_campaign_ref(ref))

    async def create_campaign(self, title: str, refs: list[str], actor: str, dollars: float) -> int:
        """Create a campaign over existing tasks with a budget, in one transaction; its id."""
        check_dollars(dollars)
        return await self.access.write(actor, _create_campaign, title, refs, dollars)

    async def run_workflow(self, plan: RunPlan, actor: str, dollars: float) -> runs.RunResult:
        """Create a planned workflow run (its campaign and tasks) with a budget for its
        campaign, in one transaction."""
        check_dollars(dollars)
        title = plan.title(self.access.settings.max_title)
        made = (title, plan.workflow.name, dict(plan.values), plan.tasks)
        return await self.access.write(actor, _run_with_budget, made, dollars)

    async def set_campaign_budget(self, ref: str | int, dollars: float, actor: str) -> None:
        """Give a campaign a budget, or a new one (its crossings are said again)."""
        check_dollars(dollars)
        campaign_id = campaigns.parse_campaign_ref(ref)
        await self.access.write(actor, _set_campaign_budget, campaign_id, dollars)


def task_cost_json(found: dict[str, Any]) -> dict[str, Any]:
    """A task's spend (``CostBook.of_task``'s) as JSON: ``cost`` (its ``cost_usd`` null when
    not known: its agent's usage unreadable, or no turn's cost known), ``turns``,
    ``budget``, ``usage_unknown``."""
    cost, spent = found["cost"].to_json(), found["cost"]
    if found.get("usage_unknown") or (spent.unknown and spent.unknown == spent.turns):
        cost["cost_usd"] = None
    return {"cost": cost, "turns": found["turns"], "budget": found["budget"],
            "usage_unknown": found.get("usage_unknown")}  # fmt: skip


def _spend(conn: Conn, since: float | None) -> dict[str, list[ledger.Spent]]:
    return {dimension: ledger.by(conn, dimension, since) for dimension in ledger.DIMENSIONS}


def _of_task(conn: Conn, task_id: int) -> dict[str, Any]:
    return {
        "assignee": get_task(conn, task_id).agent,
        "cost": ledger.of_task(conn, task_id),
        "turns": ledger.turns_of_task(conn, task_id),
        "budget": budgets.task_budget(conn, task_id),
    }


def _of_campaign(conn: Conn, campaign_id: int) -> dict[str, Any]:
    campaigns.get(conn, campaign_id)  # NotFound when there is none
    return {
        "cost": ledger.of_campaign(conn, campaign_id),
        "budget": budgets.campaign_budget(conn, campaign_id),
    }


def _why_waiting(conn: Conn, ctx: Ctx, task_id: int) -> str | None:
    held = why_waiting(conn, ctx, task_id)
    if held is not None:
        return held
    spent_now = budgets.stopped(conn, ctx) if budgets.any_stopped(conn) else []
    campaign_id = campaigns.campaign_of_task(conn, task_id) if spent_now else None
    for spent in spent_now:
        if spent.task_id == task_id:
            return f"gets no new turn: {spent.text()} (swarm task budget T-{task_id} DOLLARS)"
        if campaign_id is not None and spent.campaign_id == campaign_id:
            return f"gets no agent: {spent.text()} (swarm campaign budget {spent.name} DOLLARS)"
    return _daily_budgets_hold(ctx, takers(conn, ctx, task_id), spent_now)


def _daily_budgets_hold(
    ctx: Ctx, found: list[Agent], spent_now: list[budgets.Stopped]
) -> str | None:
    """Why a ready task waits when every agent that may take it is held by a spent daily
    budget (its own, or its account's): the first such budget, in words."""
    prints = ctx.settings.credential_prints
    holding = []
    for agent in found:
        account = account_of(agent, prints)
        spent = next((s for s in spent_now if s.agent == agent.id or s.account == account), None)
        if spent is None:
            return None
        holding.append(spent)
    if not holding:
        return None
    until = (
        "until its usage can be read, or the budget is taken out"
        if holding[0].usage_unknown
        else "until tomorrow, UTC, or a raise"
    )
    return f"waits for {takers_text(found)}: {holding[0].text()} ({until})"


def _create_with_budget(conn: Conn, ctx: Ctx, spec: TaskSpec, dollars: float) -> int:
    (task_id,) = creation.create_tasks(conn, ctx, [spec])
    budgets.set_task_budget(conn, ctx, task_id, dollars)
    return int(task_id)


def _set_budget(conn: Conn, ctx: Ctx, task_id: int, dollars: float) -> None:
    if not task_queries.exists(conn, task_id):
        raise NotFound(f"T-{task_id} does not exist")
    budgets.set_task_budget(conn, ctx, task_id, dollars)


def _create_campaign(conn: Conn, ctx: Ctx, title: str, refs: list[str], dollars: float) -> int:
    campaign_id = campaigns.create(conn, ctx, title, refs)
    budgets.set_campaign_budget(conn, ctx, campaign_id, dollars)
    return campaign_id


def _set_campaign_budget(conn: Conn, ctx: Ctx, campaign_id: int, dollars: float) -> None:
    campaigns.get(conn, campaign_id)  # NotFound when there is none
    budgets.set_campaign_budget(conn, ctx, campaign_id, dollars)


def _run_with_budget(conn: Conn, ctx: Ctx, made: tuple[Any, ...], dollars: float) -> runs.RunResult:
    result = runs.create_run(conn, ctx, *made)
    budgets.set_campaign_budget(conn, ctx, result.campaign_id, dollars)
    return result
