"""Why a ready task waits on an account's breaker: pinned to an agent of a limited account,
or wanting a role or capabilities only such agents have (``swarm task show``, the inbox).
The tasks' rows are read here, beside their statements; the breakers are core.accounts'."""

from __future__ import annotations

import json

from core.accounts import breaker
from core.accounts.naming import account_of
from core.accounts.status import state_text
from core.context import Ctx
from core.models import Agent
from core.store.conn import Conn
from core.tasks import read_queries


def why_waiting(conn: Conn, ctx: Ctx, task_id: int) -> str | None:
    """``waits for A2, whose account anthropic-team is limited until 15:00:00 (seen on A1)``
    when ``task_id`` is ready and only agents held by their account's breaker can take it;
    None otherwise."""
    breakers = breaker.not_closed(conn)
    if not breakers:
        return None
    found = takers(conn, ctx, task_id)
    if not found:
        return None
    prints = ctx.settings.credential_prints
    accounts = {account_of(a, prints) for a in found}
    if not accounts <= breakers.keys():
        return None
    held = breakers[account_of(found[0], prints)]
    who = takers_text(found)
    return (
        f"waits for {who}, whose account {held.account} is "
        f"{state_text(held, ctx.now)} (seen on {held.agent})"
    )


def takers(conn: Conn, ctx: Ctx, task_id: int) -> list[Agent]:
    """The agents that may take ``task_id`` while it is ready (its pinned agent, else those
    of its role and capabilities); [] when it is not ready."""
    row = read_queries.task_takers(conn, task_id)
    if row is None or row.status != "ready":
        return []
    pinned = ctx.agents.get(row.pinned_agent) if row.pinned_agent else None
    if pinned is not None:
        return [pinned]
    caps = tuple(json.loads(row.capabilities or "[]"))
    return [a for a in ctx.agents.values() if a.can_take(row.role, caps)]


def takers_text(found: list[Agent]) -> str:
    """``A2`` (one), or ``3 agent(s) that can take it``."""
    return found[0].id if len(found) == 1 else f"{len(found)} agent(s) that can take it"


def waiting_by_account(
    conn: Conn, ctx: Ctx, breakers: dict[str, breaker.Breaker]
) -> dict[str, int]:
    """account -> how many ready tasks an agent of it could take (pinned to one of its
    agents, or for its role and capabilities): the work its limit keeps from it."""
    found = dict.fromkeys(breakers, 0)
    if not breakers:
        return found
    prints = ctx.settings.credential_prints
    members = {
        account: [a for a in ctx.agents.values() if account_of(a, prints) == account]
        for account in breakers
    }
    for row in read_queries.ready_takers(conn):
        caps = tuple(json.loads(row.capabilities or "[]"))
        for account, agents in members.items():
            if any(_takes(a, row.pinned_agent, row.role, caps) for a in agents):
                found[account] += 1
    return found


def _takes(agent: Agent, pinned: str | None, role: str | None, caps: tuple[str, ...]) -> bool:
    return agent.id == pinned if pinned else agent.can_take(role, caps)
