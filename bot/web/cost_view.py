"""What the agents' turns cost, as the dashboard shows it (``service.costs``, the sums of
``swarm stats`` and ``swarm task show``): a task's spend and budget, the spend per UTC day
as a chart, the sums per agent, account, campaign and day as tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.web import charts
from core.costs.ledger import day_of, total
from core.service.costs import task_cost_json as as_json

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

DAY = 86_400.0
TURNS_SHOWN = 100  # of a task's turns, the latest
TABLES = ("agent", "account", "campaign", "day")  # the sums the charts page lists
ROWS_SHOWN = 20  # per table, the most spent first (the API lists all)


async def task_cost(service: SwarmService, task_id: int) -> dict[str, Any]:
    """A task's ``cost`` (its sums), ``turns`` (the latest ``TURNS_SHOWN``), ``earlier``
    (how many are left out), ``budget``, ``share`` spent and ``waits`` (why it gets no
    agent, if it waits for a budget or a limit)."""
    found = await service.costs.of_task(task_id)
    turns, budget, cost = found["turns"], found["budget"], found["cost"]
    return {
        "cost": cost,
        "usage_unknown": found["usage_unknown"],
        "turns": turns[-TURNS_SHOWN:],
        "earlier": max(0, len(turns) - TURNS_SHOWN),
        "budget": budget,
        "share": None if budget is None else cost.cost_usd / budget,
        "waits": await service.costs.why_waiting(task_id),
    }


async def task_cost_json(service: SwarmService, task_id: int) -> dict[str, Any]:
    """A task's ``cost``, ``turns``, ``budget`` and ``waits``, as ``swarm task show --json``
    gives them."""

    found = await service.costs.of_task(task_id)
    return {**as_json(found), "waits": await service.costs.why_waiting(task_id)}


async def spend_of(service: SwarmService, since: float, now: float) -> dict[str, Any]:
    """The period's spend: ``chart`` (known dollars per UTC day), ``tables`` (the sums per
    agent, account, campaign (``(none)``: the turns on no campaign's task) and day),
    ``more`` (rows left out of each), ``total``."""
    spend = await service.costs.spend(since)
    by_day = {s.key: s for s in spend["day"]}
    days = _days(since, now) if by_day else []
    chart = charts.bar_chart(
        "Spend per day (UTC): the turns' known cost",
        days,
        [charts.Series("known cost", [by_day[d].cost_usd if d in by_day else 0.0 for d in days])],
        charts.Axes("day (UTC)", "dollars", counts=False, unit="USD", empty="no turn recorded"),
    )
    tables = {d: spend[d][:ROWS_SHOWN] for d in TABLES}
    return {
        "chart": chart,
        "tables": tables,
        "more": {d: max(0, len(spend[d]) - ROWS_SHOWN) for d in TABLES},
        "total": total(spend["agent"]),
    }


def _days(since: float, now: float) -> list[str]:
    """The UTC days from ``since`` to ``now``, oldest first (a step of a day reaches the
    next: UTC has no shorter or longer day)."""
    found, at, last = [], since, day_of(now)
    while (day := day_of(at)) <= last:
        found.append(day)
        at += DAY
    return found
