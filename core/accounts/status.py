"""An agent's account as the agents' listings show it: its name, its breaker, its spend."""

from __future__ import annotations

from typing import Any

from core.accounts import breaker
from core.accounts.naming import account_of
from core.context import Ctx
from core.models import Agent


def account_fields(ctx: Ctx, agent: Agent, breakers: dict[str, breaker.Breaker]) -> dict[str, Any]:
    """``account`` (its name), ``account_named`` (in the agents file, or derived),
    ``account_limit`` (its breaker while not closed: state, until, where it was seen, or
    None) and ``daily_budget`` (``breakers``: ``breaker.not_closed``'s)."""
    account = account_of(agent, ctx.settings.credential_prints)
    found = breakers.get(account)
    limit = None
    if found is not None:
        limit = {**found.to_json(), "text": state_text(found, ctx.now)}
    return {
        "account": account,
        "account_named": agent.account is not None,
        "account_limit": limit,
        "daily_budget": agent.daily_budget,
    }


def state_text(found: breaker.Breaker, now: float) -> str:
    """``limited until 15:00:00``, ``reset passed: the next task probes it``, ``probing on
    Agent-3 (T-12)``."""
    if found.state == breaker.PROBING:
        return f"probing on {found.probe_agent} (T-{found.probe_task})"
    if found.half_open(now):
        return "reset passed: the next task probes it"
    return f"limited until {breaker.when(found.until, now)}"
