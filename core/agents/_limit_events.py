"""A usage limit's start and end as events: one Discord post per limit, not one per flap.

An agent of an account (``core.accounts``) speaks through its account: its limit opens the
account's breaker, whose event (``account.limited``) is the one post for all its agents; the
agent's own start and end are ``agent.limited_in_account``, not posted.

A limit that returns before the reset time of the limit last posted (the agent was seen
working for a while, then limited again, with the same reset) is the same limit: its start
and its end are ``agent.limit_flapped``, which the notifier does not post.
"""

from __future__ import annotations

import json
from typing import Any

from core.accounts import breaker
from core.agent_state import AgentState
from core.agents import _limit_probes as limit_probes
from core.context import Ctx
from core.event_kinds import EventKind
from core.history.event_queries import newest_of_kinds
from core.store.conn import Conn
from core.store.tables import insert_event

SAME_RESET_S = 600.0  # two reset times this close are one limit's (read off a screen twice)


def started(
    conn: Conn,
    ctx: Ctx,
    agent: str,
    until: float | None,
    until_words: str,
    evidence: str,
    *,
    probe: bool = False,
) -> None:
    """``agent.limited`` (posted), or ``agent.limit_flapped`` when the reset window of the
    limit last posted has not passed and this limit ends with it, or when this limit names
    no reset (``probe``: ``until`` is its next probe) and a probe hit it (``until_words``:
    `` until 15:00:00``, or empty when no end is known)."""
    if breaker.limit_seen(conn, ctx, agent, until, evidence):
        insert_event(
            conn,
            ctx.now,
            EventKind.AGENT_LIMITED_IN_ACCOUNT,
            f"{agent} hit a usage limit{until_words}: its account's breaker holds its "
            f"agents ({evidence})",
            agent=agent,
            actor=ctx.actor,
            data={"until": until, "limited": True},
        )
        return
    last = last_limit(conn, agent)
    window = posted_window(last)
    failed = limit_probes.failed_probes(conn, agent, ctx.now, ctx.now) if probe else 0
    if failed and last is not None:
        insert_event(
            conn, ctx.now, EventKind.AGENT_LIMIT_FLAPPED,
            f"{agent} is still limited: probe {failed} hit the limit again, the next "
            f"one{until_words.replace(' until', ' after')} ({evidence})",
            agent=agent, actor=ctx.actor,
            data={"until": until, "window": until, "limited": True, "since": _since(last),
                  "failed_probes": failed},
        )  # fmt: skip
        return
    if (
        window is not None
        and ctx.now < window
        and (until is None or until <= window + SAME_RESET_S)
    ):
        insert_event(
            conn,
            ctx.now,
            EventKind.AGENT_LIMIT_FLAPPED,
            f"{agent} is limited again{until_words}: the limit posted before, not posted "
            f"again ({evidence})",
            agent=agent,
            actor=ctx.actor,
            data={"until": until, "window": window, "limited": True, "since": _since(last)},
        )
        return
    insert_event(
        conn,
        ctx.now,
        EventKind.AGENT_LIMITED,
        f"{agent} hit a usage limit{until_words}: no new task meanwhile ({evidence})",
        agent=agent,
        actor=ctx.actor,
        data={"until": until},
    )


def ended(conn: Conn, ctx: Ctx, agent: str, state: AgentState) -> None:
    """``agent.limit_ended`` (posted), or ``agent.limit_flapped`` when the limit that ends
    was itself a flap (its return was not posted either); ``state``: the agent's new one."""
    last = last_limit(conn, agent)
    if last is not None and last[0] == EventKind.AGENT_LIMITED_IN_ACCOUNT:
        insert_event(
            conn,
            ctx.now,
            EventKind.AGENT_LIMITED_IN_ACCOUNT,
            f"{agent}'s own limit is over ({state.value}); its account's breaker decides "
            "when it takes tasks again",
            agent=agent,
            actor=ctx.actor,
            data={"limited": False},
        )
        return
    if last is not None and last[0] == EventKind.AGENT_LIMIT_FLAPPED:
        insert_event(
            conn,
            ctx.now,
            EventKind.AGENT_LIMIT_FLAPPED,
            f"{agent} takes tasks again ({state.value}) within its limit's reset window",
            agent=agent,
            actor=ctx.actor,
            data={"window": last[1].get("window"), "limited": False, "since": last[1].get("since")},
        )
        return
    insert_event(
        conn,
        ctx.now,
        EventKind.AGENT_LIMIT_ENDED,
        f"{agent}'s usage limit is over: it takes tasks again ({state.value})",
        agent=agent,
        actor=ctx.actor,
    )


def last_limit(conn: Conn, agent: str) -> tuple[str, dict[str, Any]] | None:
    """The kind and data of ``agent``'s newest limit start or flap (or start or end within
    its account), if any (a start's data
    gains ``since``: its own time). A limit starts or ends rarely: the events are read
    newest first, up to the first match."""
    row = newest_of_kinds(
        conn,
        agent,
        (
            EventKind.AGENT_LIMITED,
            EventKind.AGENT_LIMIT_FLAPPED,
            EventKind.AGENT_LIMITED_IN_ACCOUNT,
        ),
    )
    if row is None:
        return None
    try:
        data = json.loads(row.data) if row.data else {}
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    if row.kind == EventKind.AGENT_LIMITED:
        data["since"] = float(row.ts)
    return row.kind, data


def _since(last: tuple[str, dict[str, Any]] | None) -> float | None:
    """When the limit last posted began (``last``: ``last_limit``'s; a flap carries it on)."""
    since = last[1].get("since") if last is not None else None
    return float(since) if isinstance(since, int | float) else None


def episode_start(conn: Conn, agent: str) -> float | None:
    """When the limit ``agent`` is in began, if it flapped (its newest limit event is a flap
    of the limit posted before): that limit's start; None otherwise (the agent's state says
    since when)."""
    last = last_limit(conn, agent)
    if last is None or last[0] != EventKind.AGENT_LIMIT_FLAPPED:
        return None
    return _since(last)


def posted_window(last: tuple[str, dict[str, Any]] | None) -> float | None:
    """When the reset window of the limit last posted ends (its reset time), if known
    (``last``: ``last_limit``'s)."""
    if last is None:
        return None
    kind, data = last
    window = data.get("until") if kind == EventKind.AGENT_LIMITED else data.get("window")
    return float(window) if isinstance(window, int | float) else None
