"""The needs-you items of limits and spend: one per account whose breaker holds
its agents (``L-1``), one per budget spent (``B-2``), as the fields of a ``queue.Need``.

A task's or a campaign's spent budget is answered in place (``raise`` it, ``cancel`` what it
covers: ``core.inbox.actions``), and clears itself once its task is done or cancelled, or its
campaign over; an agent's or an account's daily budget lives in the agents file and offers
no action."""

from __future__ import annotations

from typing import Any

from core.accounts import breaker
from core.accounts.naming import by_account
from core.accounts.status import state_text
from core.assignment import waiting_by_account
from core.context import Ctx
from core.costs import budgets
from core.models import TaskStatus
from core.store.conn import Conn
from core.tasks import get_task
from core.workflows import campaigns

OVER = (TaskStatus.done, TaskStatus.cancelled)  # a task whose budget no longer stops anything

ACCOUNT = "account"
BUDGET = "budget"


def account_needs(conn: Conn, ctx: Ctx) -> list[dict[str, Any]]:
    """``anthropic-team limited until 15:00:00: 8 agents, 3 tasks waiting, 2 moved to other
    accounts``: one item per account held by its breaker; it clears itself at the probe."""
    breakers = breaker.not_closed(conn)
    if not breakers:
        return []
    agents = by_account(ctx.agents.values(), ctx.settings.credential_prints)
    waiting = waiting_by_account(conn, ctx, breakers)
    found = []
    for account, held in breakers.items():
        mine = agents.get(account, [])
        text = (
            f"{account} {state_text(held, ctx.now)}: {len(mine)} agent(s), "
            f"{waiting[account]} task(s) waiting, {held.moved} moved to other accounts "
            f"(first seen on {held.agent}: {held.evidence})"
        )
        found.append(
            dict(
                ref=f"L-{held.id}", kind=ACCOUNT, text=text, since=held.opened_at,
                concerns=f"account {account}: {', '.join(mine) or 'no configured agent'}",
                agent=held.agent,
                hint="clears itself when a task after the reset goes through (the probe); "
                "pause its agents or give its tasks to others meanwhile",
                extra={"account": held.to_json(), "waiting": waiting[account]},
            )
        )  # fmt: skip
    return found


def budget_needs(conn: Conn, ctx: Ctx) -> list[dict[str, Any]]:
    """One item per budget spent that still stops something: raise it or cancel what it
    covers (a task's, a campaign's), or the agents file's figure (a daily one)."""
    found = []
    for spent in budgets.stopped(conn, ctx) if budgets.any_stopped(conn) else ():
        if _over(conn, spent):
            continue
        answerable = spent.scope in (budgets.TASK, budgets.CAMPAIGN)
        found.append(
            dict(
                ref=spent.ref, kind=BUDGET, text=spent.text(), since=spent.at,
                concerns=_concerns(ctx, spent), agent=spent.agent,
                task=spent.name if spent.task_id is not None else None,
                actions=("raise", "cancel") if answerable else (),
                hint=_hint(spent), extra={"budget": spent.to_json()},
            )
        )  # fmt: skip
    return found


def _over(conn: Conn, spent: budgets.Stopped) -> bool:
    """Whether what a spent budget covers is over: its task done or cancelled, its campaign
    finished or cancelled (nothing left to stop, nothing to answer)."""
    if spent.task_id is not None:
        return get_task(conn, spent.task_id).status in OVER
    if spent.campaign_id is not None:
        return campaigns.status(conn, spent.campaign_id) != "open"
    return False


def _concerns(ctx: Ctx, spent: budgets.Stopped) -> str:
    if spent.account is None:
        return spent.name
    mine = by_account(ctx.agents.values(), ctx.settings.credential_prints).get(spent.account)
    return f"account {spent.account}: {', '.join(mine or []) or 'no configured agent'}"


def _hint(spent: budgets.Stopped) -> str:
    """What a person can do about a spent budget."""
    if spent.task_id is not None:
        return (
            f"raise it (swarm task budget {spent.name} DOLLARS) or cancel the task "
            f"(swarm task cancel {spent.name}); its running turn goes on"
        )
    if spent.campaign_id is not None:
        return (
            f"raise it (swarm campaign budget {spent.name} DOLLARS) or cancel the campaign "
            f"(swarm campaign cancel {spent.name}); its running turns go on"
        )
    if spent.usage_unknown:
        return (
            "its turns' usage cannot be read (swarm agents explain "
            f"{spent.agent or 'AGENT'} says why and what to set: cli_dir for a wrapper "
            "script): new work waits until it can be, or until the daily budget is taken "
            "out of the agents file"
        )
    if spent.scope in budgets.DAILY and spent.spent.cost_usd < spent.dollars:
        return (
            "its turns' cost is not known: give their model a price (SWARM_PRICES, then "
            "swarm costs reprice), or make the usage readable (swarm agents explain "
            f"{spent.agent or 'AGENT'} says why); new work waits until then or tomorrow (UTC)"
        )
    if spent.account is not None:
        return (
            f"raise account_daily_budget in the [[agent]] tables of account {spent.name} "
            "(the agents file: not from here), or wait for tomorrow (UTC)"
        )
    return (
        f"raise daily_budget in {spent.name}'s [[agent]] table (the agents file: not from "
        "here), or wait for tomorrow (UTC)"
    )
