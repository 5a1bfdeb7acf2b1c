"""Scheduling decisions: which ready task goes to which agent, and expired leases; the
tasks are taken through core.tasks and the prompts queued through core.delivery
(``messages``; on PostgreSQL both in one statement, ``core.assignment._queries``).

Each function runs inside one write transaction, so two coordinators (or a coordinator
and a CLI ``task assign``) can never hand one task to two agents.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from core.accounts import breaker
from core.accounts.naming import account_of
from core.agent_state import AgentState
from core.agents import judge as agent_judge
from core.agents import queries as agent_queries
from core.assignment import _queries as queries
from core.assignment._agent_queries import AssignableAgent, assignable_rows, probe_view
from core.assignment._leases import expire_leases
from core.context import Ctx
from core.costs import budgets
from core.delivery import messages
from core.event_kinds import EventKind
from core.models import Agent, Priority, task_ref
from core.store.conn import Conn, Pair
from core.store.tables import insert_event
from core.tasks import ReadyTask, ready_page, take_ready


@dataclass(frozen=True)
class Assignment:
    """One decision: a task handed to an agent, with the delivery of its prompt."""

    task_id: int
    agent: str
    message_id: int


@dataclass(frozen=True)
class _AgentView:
    agent: Agent
    load: int
    score: float
    idle_since: float


def free_agents(
    conn: Conn, ctx: Ctx, rows: list[AssignableAgent] | None = None
) -> tuple[list[_AgentView], frozenset[str]]:
    """Configured agents that are not paused, not offline (their pane or host gone), not
    held by a usage limit or by an open alert that holds it (``alerts.HOLDING``: a state that
    cannot be judged, a screen swarm does not know, its input not on its pane), not frozen
    (their tasks were taken back for a stall and they still show a turn that nothing has
    advanced since), below their capacity, and, holding no task, not mid-turn by their hook
    (``rows``: the agents' rows, already read); and the agents a usage limit holds now."""
    if rows is None:
        rows = assignable_rows(conn)
    state = {r.id: r for r in rows}
    # the usage limits are worked out only when an agent's state or a signal says limited;
    # an agent whose limit cannot be judged is held (an alert says why), the others go on
    limits = (
        agent_judge.limits(conn, ctx.now, ctx.settings.limit_backoff_s)
        if any(r.limited for r in rows)
        else agent_judge.Limits()
    )
    for agent_id, why in limits.unjudged.items():
        said = agent_id in state and state[agent_id].unjudged
        if agent_id in ctx.agents and not said:
            agent_judge.hold_unjudged(conn, ctx, agent_id, why)
    held = limits.ends.keys() | limits.unjudged.keys()
    views = []
    for agent in ctx.agents.values():
        row = state.get(agent.id)
        if row is None or row.paused or row.held or row.load >= agent.capacity:
            continue
        if row.frozen_since is not None:  # its taken-back task would go to it again
            continue
        if row.state == AgentState.OFFLINE:  # its pane or host is gone: nothing reaches it
            continue
        if agent.id in held or (row.load == 0 and _mid_turn(ctx, row.turn_at)):
            continue
        views.append(_AgentView(agent, row.load, row.score, row.idle_since))
    return views, frozenset(limits.ends)


def _mid_turn(ctx: Ctx, turn_at: float | None) -> bool:
    """Whether the agent's hook said it is mid-turn (working, or waiting on a dialog) within
    ``turn_hold_s``: an agent that reported its task done from a tool call gets its next
    task when its turn ends (``message_queries.not_mid_turn`` holds a prompt already queued)."""
    return turn_at is not None and float(turn_at) > ctx.now - ctx.settings.turn_hold_s


_PAGE = 128  # ready tasks read per query (most batches need one page)


def assign_next(conn: Conn, ctx: Ctx) -> Assignment | None:
    """Hand the first ready task (by priority, then age) that a free agent can take."""
    made = assign_batch(conn, ctx, limit=1)
    return made[0] if made else None


BATCH = 64  # assignments per pass; a pass that made fewer found nothing more to assign


def assign_batch(
    conn: Conn,
    ctx: Ctx,
    limit: int = BATCH,
    agents: list[AssignableAgent] | None = None,
) -> list[Assignment]:
    """Hand ready tasks (by priority, then age) to free agents in one pass, at most ``limit``
    (``agents``: the agents' rows, already read by the caller).

    The free agents are read once and kept up to date as tasks go out: a task that no free
    agent could take stays untakeable for the rest of the pass (agents only fill up), so one
    pass decides what repeating "the first task that fits" would.
    """
    if agents is None:
        agents = assignable_rows(conn)
    free, limited = free_agents(conn, ctx, agents)
    if not free:  # every agent busy: the ready tasks need no reading
        return []
    first = agents[0]
    holds = breaker.holds(conn, ctx, probe_view) if first.breakers else breaker.NO_HOLDS
    spent = budgets.stopped(conn, ctx) if first.spent else []
    free = [v for v in free if v.agent.id not in holds.held and not _budget_holds(ctx, v, spent)]
    no_turn = {s.task_id for s in spent if s.task_id is not None}
    no_agent = {s.campaign_id for s in spent if s.campaign_id is not None}
    picks: list[tuple[ReadyTask, _AgentView]] = []
    moved: dict[str, int] = {}
    slots = min(limit, sum(v.agent.capacity - v.load for v in free))
    for row in _ready_rows(conn, ctx, first=min(_PAGE, 4 * slots)):
        if not free or len(picks) >= limit:
            break
        if row.id in no_turn or row.campaign_id in no_agent:
            continue
        caps = tuple(json.loads(row.capabilities)) if row.capabilities != "[]" else ()
        shunned = _limited_cli(ctx, row.prev_agent, limited)
        choice = _best_agent(free, row.role, caps, row.pinned_agent, row.prev_agent, shunned)
        if choice is None:
            continue
        picks.append((row, choice))
        _count_moved(ctx, holds, row, caps, choice, moved)
        at = free.index(choice)  # in place: ties keep the agents file's order
        if choice.load + 1 < choice.agent.capacity:
            free[at] = dataclasses.replace(choice, load=choice.load + 1)
        else:
            del free[at]
        account = _account(ctx, choice)
        if account in holds.probing:  # one task probes a half-open account: its others wait
            free = [v for v in free if _account(ctx, v) != account]
    made = _assign_all(conn, ctx, picks)
    _after_breakers(conn, ctx, holds, made, moved)
    return made


def _account(ctx: Ctx, view: _AgentView) -> str:
    return account_of(view.agent, ctx.settings.credential_prints)


def _budget_holds(ctx: Ctx, view: _AgentView, spent: list[budgets.Stopped]) -> bool:
    """Whether a spent daily budget (the agent's, its account's) keeps new work from it."""
    if not spent:
        return False
    account = _account(ctx, view)
    return any(s.agent == view.agent.id or s.account == account for s in spent)


def _count_moved(
    ctx: Ctx,
    holds: breaker.Holds,
    row: ReadyTask,
    caps: tuple[str, ...],
    choice: _AgentView,
    moved: dict[str, int],
) -> None:
    """Count ``row`` as moved for each account held by its breaker whose agents could have
    taken it, when it went to an agent of another account."""
    if not holds.held or row.pinned_agent:
        return
    mine = _account(ctx, choice)
    for account in {a for a in holds.held.values() if a != mine}:
        takers = (ctx.agents[a] for a, acc in holds.held.items() if acc == account)
        if any(agent.can_take(row.role, caps) for agent in takers):
            moved[account] = moved.get(account, 0) + 1


def _after_breakers(
    conn: Conn, ctx: Ctx, holds: breaker.Holds, made: list[Assignment], moved: dict[str, int]
) -> None:
    """Record the probes of half-open accounts among ``made``, and the tasks moved."""
    if holds.probing:
        for assignment in made:
            account = account_of(ctx.agents[assignment.agent], ctx.settings.credential_prints)
            if account in holds.probing:
                breaker.probe_taken(conn, ctx, account, assignment.agent, assignment.task_id)
    if moved:
        breaker.count_moved(conn, moved)


def _ready_rows(conn: Conn, ctx: Ctx, first: int) -> Iterator[ReadyTask]:
    """Ready tasks due now, by priority then age, a page at a time (keyset paging: the
    pass changes the rows it has read, so an offset would shift); ``first``: the size of
    the first page (a few per free slot: most passes need no more), then ``_PAGE``."""
    size = max(first, 1)
    rows = ready_page(conn, size)
    while rows:
        yield from (row for row in rows if row.not_before <= ctx.now)
        if len(rows) < size:
            return
        size = _PAGE
        rows = ready_page(conn, _PAGE, after=rows[-1])


def _limited_cli(ctx: Ctx, prev: str | None, limited: frozenset[str]) -> str | None:
    """The CLI of a task's last holder while a usage limit holds it (a vendor's limit likely
    holds its other agents too); None otherwise, or when its CLI is not named."""
    agent = ctx.agents.get(prev) if prev in limited else None
    return agent.cli if agent is not None else None


def _best_agent(
    free: list[_AgentView],
    role: str | None,
    caps: tuple[str, ...],
    pinned: str | None,
    prev: str | None,
    shunned_cli: str | None = None,
) -> _AgentView | None:
    """Least loaded, then best recent success rate, then longest idle; avoid the last holder
    and then agents of ``shunned_cli`` (a limited last holder's: another vendor first)."""
    if pinned:
        eligible = [v for v in free if v.agent.id == pinned]
    else:
        eligible = [v for v in free if v.agent.can_take(role, caps)]
    if not eligible:
        return None
    shun = shunned_cli is not None
    return min(
        eligible,
        key=lambda v: (
            v.agent.id == prev,
            shun and v.agent.cli == shunned_cli,
            v.load,
            -v.score,
            v.idle_since,
        ),
    )


def _assign_all(
    conn: Conn, ctx: Ctx, picks: list[tuple[ReadyTask, _AgentView]]
) -> list[Assignment]:
    """Hand each picked ready task to its agent and queue its prompt: the whole pass in a
    few statements (the tasks, their messages, their deliveries, the agents), not per task."""
    if not picks:
        return []
    message_ids = _TAKE.on(conn)(conn, ctx, picks)
    picks = [(row, view) for row, view in picks if row.id in message_ids]
    made = []
    for row, view in picks:
        agent, task_id, attempts = view.agent.id, row.id, row.attempts + 1
        why = f"load {view.load}/{view.agent.capacity}, success {view.score:.2f}"
        insert_event(
            conn,
            ctx.now,
            EventKind.TASK_ASSIGNED,
            f"{task_ref(task_id)} assigned to {agent} (attempt {attempts}; {why})",
            task_id=task_id,
            agent=agent,
            actor=ctx.actor,
            data={"attempt": attempts, "load": view.load, "score": round(view.score, 3)},
        )
        made.append(Assignment(task_id, agent, message_ids[task_id]))
    return made


def _take_then_queue(
    conn: Conn, ctx: Ctx, picks: list[tuple[ReadyTask, _AgentView]]
) -> dict[int, int]:
    """Take the picked tasks still ready, then queue their prompts (SQLite: a statement
    each); task id -> message id of those taken."""
    lease = ctx.now + ctx.settings.lease_s
    taken = take_ready(conn, [(row.id, view.agent.id) for row, view in picks], ctx.now, lease)
    # another writer changed some meanwhile: they stay theirs
    picks = [(row, view) for row, view in picks if row.id in taken]
    if not picks:
        return {}
    return messages.queue_prompts(
        conn,
        ctx,
        [(view.agent.id, _prompt_text(row), row.id, Priority(row.priority)) for row, view in picks],
    )


def _take_and_queue(
    conn: Conn, ctx: Ctx, picks: list[tuple[ReadyTask, _AgentView]]
) -> dict[int, int]:
    """``_take_then_queue`` in one statement (``queries.take_and_queue``)."""
    prompts = [(row.id, view.agent.id, _prompt_text(row), int(row.priority)) for row, view in picks]
    lease = ctx.now + ctx.settings.lease_s
    return queries.take_and_queue(conn, prompts, ctx.actor, ctx.now, lease)


# The pass's writes: a statement each on SQLite (no data-modifying CTEs), one on PostgreSQL.
_Take = Callable[[Conn, Ctx, list[tuple[ReadyTask, _AgentView]]], dict[int, int]]
_TAKE: Pair[_Take] = Pair(sqlite=_take_then_queue, postgres=_take_and_queue)


def _prompt_text(row: ReadyTask) -> str:
    details = row.details
    return f"{task_ref(row.id)}: {row.title}" + (f"\n\n{details}" if details else "")


def expire_then_assign(conn: Conn, ctx: Ctx) -> tuple[int, list[Assignment]]:
    """``expire_leases``, then ``assign_batch``: a scheduling round's first transaction. The
    agents' read says whether a lease ran out: only then are the leases read (and the
    agents read again after their tasks went back to the queue)."""
    rows = assignable_rows(conn, expired_by=ctx.now)
    if rows and not rows[0].expired:
        return 0, assign_batch(conn, ctx, agents=rows)
    return expire_leases(conn, ctx), assign_batch(conn, ctx)


def ensure_agents(conn: Conn, ctx: Ctx) -> None:
    """Give every configured agent its state row."""
    agent_queries.ensure_rows(conn, ctx.agents, ctx.now)
