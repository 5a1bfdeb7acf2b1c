"""Budgets, in dollars: a task's (``swarm task add --budget``), a campaign's (``swarm campaign
create --budget``), an agent's per UTC day (``daily_budget`` in its ``[[agent]]`` table) and an
account's per UTC day (``account_daily_budget`` in its agents' tables).

After each turn recorded, the budgets it counts against are checked: 80 % spent posts once
(``budget.warned``; never after the 100 %: a turn that passes both posts the 100 % only);
100 % posts once (``budget.reached``), stops new work for what the budget covers (the task
is not assigned again, nor any unassigned task of the campaign; the agent, or every agent
of the account, gets no new task that day: ``stopped``) and waits in the needs-you queue
until a person raises the budget or cancels what it covers; the turn running is not
cancelled. A turn whose cost is unknown is counted as unknown and said once
per budget (``budget.warned``): a budget is never passed silently for want of a figure. Each
crossing is a ``budget_marks`` row, so it is said once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.accounts.naming import account_of
from core.context import Ctx
from core.costs import ledger, queries
from core.costs.usage_place import usage_unknown
from core.errors import InvalidInput
from core.event_kinds import EventKind
from core.formats.text import dollars_text
from core.models import task_ref
from core.store.conn import Conn
from core.store.tables import insert_event

TASK, CAMPAIGN, AGENT_DAY, ACCOUNT_DAY = "task", "campaign", "agent_day", "account_day"
DAILY = (AGENT_DAY, ACCOUNT_DAY)
UNKNOWN, WARN, STOP = 0, 80, 100  # the marks: a turn of unknown cost, 80 %, 100 %
# whether any budget was ever spent (the assignment pass's read of its agents says it, so
# that a pass reads no budget while none was)
ANY_SPENT = f"EXISTS (SELECT 1 FROM budget_marks WHERE level = {STOP})"
MAX_BUDGET = 1e9  # dollars: more is a typo


def check_dollars(value: float) -> float:
    """A budget in dollars above 0; InvalidInput (one line) otherwise."""
    if not 0 < value < MAX_BUDGET:  # NaN fails too
        raise InvalidInput(f"a budget is a number of dollars above 0, not {value!r}")
    return float(value)


def set_task_budget(conn: Conn, ctx: Ctx, task_id: int, dollars: float) -> None:
    """Give ``task_id`` a budget of ``dollars`` (a new one replaces the old: its crossings
    are said again, and a task stopped by the old one goes on if this one is not spent)."""
    _set(conn, ctx, _Subject(TASK, str(task_id), "", dollars, task_ref(task_id), task_id))
    _check_task(conn, ctx, task_id)


def task_budget(conn: Conn, task_id: int) -> float | None:
    """``task_id``'s budget in dollars, if it has one."""
    return queries.budget_of(conn, TASK, str(task_id))


def set_campaign_budget(conn: Conn, ctx: Ctx, campaign_id: int, dollars: float) -> None:
    """Give campaign ``campaign_id`` a budget of ``dollars`` (a new one replaces the old, as
    a task's does)."""
    _set(conn, ctx, _Subject(CAMPAIGN, str(campaign_id), "", dollars, f"C-{campaign_id}"))
    _check_campaign(conn, ctx, campaign_id, dollars)


def campaign_budget(conn: Conn, campaign_id: int) -> float | None:
    """Campaign ``campaign_id``'s budget in dollars, if it has one."""
    return queries.budget_of(conn, CAMPAIGN, str(campaign_id))


def all_set(conn: Conn) -> list[dict[str, Any]]:
    """Every task's and campaign's budget (``scope``, ``subject``: ``T-3`` or ``C-2``,
    ``dollars``, ``set_at``, ``set_by``); the daily ones are the agents file's."""
    prefix = {TASK: "T-", CAMPAIGN: "C-"}
    return [
        {"scope": r.scope, "subject": prefix.get(r.scope, "") + r.subject,
         "dollars": r.dollars, "set_at": r.set_at, "set_by": r.set_by}
        for r in queries.all_budgets(conn)
    ]  # fmt: skip


def account_budget(ctx: Ctx, account: str) -> float | None:
    """``account``'s daily budget: the ``account_daily_budget`` its agents name (the agents
    file allows one figure per account), if any."""
    for agent in ctx.agents.values():
        if agent.account == account and agent.account_daily_budget is not None:
            return agent.account_daily_budget
    return None


def after_turn(conn: Conn, ctx: Ctx, agent: str, task_id: int | None) -> None:
    """Check the budgets a turn of ``agent`` on ``task_id`` counts against."""
    if task_id is not None:
        _check_task(conn, ctx, task_id)
        # a campaign's budget is read only while some campaign has one (most have none)
        found = None
        if queries.any_budget(conn, CAMPAIGN):
            found = queries.campaign_budget_of_task(conn, CAMPAIGN, task_id)
        if found is not None:
            _check_campaign(conn, ctx, int(found.subject), found.dollars)
    configured = ctx.agents.get(agent)
    if configured is None:
        return
    day = ledger.day_of(ctx.now)
    if configured.daily_budget is not None:
        spent = ledger.of_agent_day(conn, agent, day)
        _check(conn, ctx, _Subject(AGENT_DAY, agent, day, configured.daily_budget, agent), spent)
    account = account_of(configured, ctx.settings.credential_prints)
    dollars = account_budget(ctx, account)
    if dollars is not None:
        spent = ledger.of_account_day(conn, account, day)
        _check(conn, ctx, _Subject(ACCOUNT_DAY, account, day, dollars, account), spent)


def _check_campaign(conn: Conn, ctx: Ctx, campaign_id: int, dollars: float) -> None:
    subject = _Subject(CAMPAIGN, str(campaign_id), "", dollars, f"C-{campaign_id}")
    _check(conn, ctx, subject, ledger.of_campaign(conn, campaign_id))


def _check_task(conn: Conn, ctx: Ctx, task_id: int) -> None:
    budget = task_budget(conn, task_id)
    if budget is not None:
        subject = _Subject(TASK, str(task_id), "", budget, task_ref(task_id), task_id)
        _check(conn, ctx, subject, ledger.of_task(conn, task_id))


@dataclass(frozen=True)
class _Subject:
    scope: str
    subject: str
    period: str
    dollars: float
    name: str  # T-3, C-2, Agent-1, anthropic-team
    task_id: int | None = None

    @property
    def what(self) -> str:
        return f"{self.name}'s budget" + (f" for {self.period}" if self.period else "")

    @property
    def stops(self) -> str:
        if self.scope == TASK:
            return f"{self.name} gets no new turn until its budget is raised or it is cancelled"
        if self.scope == CAMPAIGN:
            return (
                f"{self.name}'s tasks not yet assigned get no agent until its budget is raised "
                "or it is cancelled"
            )
        if self.scope == ACCOUNT_DAY:
            return (
                f"{self.name}'s agents get no new task until tomorrow (UTC) or a higher "
                "account_daily_budget"
            )
        return f"{self.name} gets no new task until tomorrow (UTC) or a higher daily_budget"


def _set(conn: Conn, ctx: Ctx, subject: _Subject) -> None:
    """``subject``'s budget now its ``dollars``, by ``ctx.actor`` (``budget.set``)."""
    queries.set_budget(conn, subject.scope, subject.subject, subject.dollars, ctx.now, ctx.actor)
    insert_event(
        conn, ctx.now, EventKind.BUDGET_SET,
        f"{subject.name}'s budget set to {dollars_text(subject.dollars)} by {ctx.actor}",
        task_id=subject.task_id, actor=ctx.actor,
        data={"scope": subject.scope, "subject": subject.subject, "budget": subject.dollars},
    )  # fmt: skip


def _check(conn: Conn, ctx: Ctx, subject: _Subject, spent: ledger.Spent) -> None:
    share = spent.cost_usd / subject.dollars
    figure = f"{spent.cost_text()} of {dollars_text(subject.dollars)}"
    if spent.unknown and _mark(conn, ctx, subject, UNKNOWN):
        _say(conn, ctx, subject, EventKind.BUDGET_WARNED, spent,
             f"{subject.what} cannot be followed exactly: {figure} spent; a turn of unknown "
             "cost counts as unknown (its model has no price: add it to SWARM_PRICES; or its "
             "usage is not known: swarm agents explain)")  # fmt: skip
    if subject.scope in DAILY and spent.unknown and _mark(conn, ctx, subject, STOP):
        _mark(conn, ctx, subject, WARN)
        _say(conn, ctx, subject, EventKind.BUDGET_REACHED, spent,
             f"{subject.what} cannot be kept: {figure} spent; {subject.stops}")  # fmt: skip
    elif share >= 1 and _mark(conn, ctx, subject, STOP):
        _mark(conn, ctx, subject, WARN)  # an 80 % never comes after the 100 %
        _say(conn, ctx, subject, EventKind.BUDGET_REACHED, spent,
             f"{subject.what} is spent: {figure}; {subject.stops}")  # fmt: skip
    elif share >= WARN / 100 and _mark(conn, ctx, subject, WARN):
        _say(conn, ctx, subject, EventKind.BUDGET_WARNED, spent,
             f"{subject.what} is {share:.0%} spent: {figure}")  # fmt: skip


def _mark(conn: Conn, ctx: Ctx, subject: _Subject, level: int) -> bool:
    """Record that ``subject`` crossed ``level``; False when it was recorded before."""
    return queries.add_mark(conn, (subject.scope, subject.subject, subject.period, level, ctx.now))


def _say(
    conn: Conn, ctx: Ctx, subject: _Subject, kind: EventKind, spent: ledger.Spent, text: str
) -> None:
    insert_event(
        conn, ctx.now, kind, text, task_id=subject.task_id,
        agent=subject.name if subject.scope == AGENT_DAY else None, actor=ctx.actor,
        data={"scope": subject.scope, "subject": subject.subject, "period": subject.period,
              "budget": subject.dollars, **spent.to_json()},
    )  # fmt: skip


# -- what the budgets stop ----------------------------------------------------------------


@dataclass(frozen=True)
class Stopped:
    """A budget spent: what it covers gets no new work. ``ref``: its needs-you item."""

    ref: str
    scope: str
    name: str
    dollars: float
    spent: ledger.Spent
    at: float
    task_id: int | None = None
    agent: str | None = None
    campaign_id: int | None = None
    account: str | None = None
    usage_unknown: bool = False  # a daily budget held because its turns' usage cannot be read

    def text(self) -> str:
        """The needs-you item's words (never $0 for a spend that is not known)."""
        period = "today's budget" if self.scope in DAILY else "budget"
        figure = f"{self.spent.cost_text()} of {dollars_text(self.dollars)}"
        if self.usage_unknown:
            known = f"{self.spent.cost_text()} known" if self.spent.turns else "unknown"
            return (
                f"{self.name}'s {period} cannot be kept: its turns' usage cannot be read "
                f"(spent: {known}, of {dollars_text(self.dollars)})"
            )
        if self.scope in DAILY and self.spent.cost_usd < self.dollars:
            return f"{self.name}'s {period} cannot be kept: {figure} (its cost is not known)"
        return f"{self.name}'s {period} is spent: {figure}"

    def to_json(self) -> dict[str, Any]:
        """A plain dict."""
        return {"ref": self.ref, "scope": self.scope, "name": self.name,
                "budget": self.dollars, "reached_at": self.at, **self.spent.to_json(),
                "usage_unknown": self.usage_unknown}  # fmt: skip


def stopped(conn: Conn, ctx: Ctx) -> list[Stopped]:
    """The budgets spent now: a task's and a campaign's (its budget as it stands), an
    agent's and an account's of today (its figure as the agents file says it now)."""
    day = ledger.day_of(ctx.now)
    found = []
    for row in queries.stop_marks(conn, STOP, (TASK, CAMPAIGN), DAILY, day):
        spent = _still_spent(conn, ctx, row, day)
        if spent is not None:
            found.append(spent)
    return found


def _still_spent(conn: Conn, ctx: Ctx, row: queries.StopMark, day: str) -> Stopped | None:
    """The budget of a mark at 100 % (``row``) when it is spent as it stands now; None when
    it is not (raised, or no longer set)."""
    scope, subject = row.scope, row.subject
    extra: dict[str, Any]
    if scope == TASK:
        task_id = int(subject)
        budget, spent = task_budget(conn, task_id), ledger.of_task(conn, task_id)
        name, extra = task_ref(task_id), {"task_id": task_id}
    elif scope == CAMPAIGN:
        campaign_id = int(subject)
        budget, spent = campaign_budget(conn, campaign_id), ledger.of_campaign(conn, campaign_id)
        name, extra = f"C-{campaign_id}", {"campaign_id": campaign_id}
    elif scope == AGENT_DAY:
        agent = ctx.agents.get(subject)
        budget = agent.daily_budget if agent is not None else None
        spent, name, extra = ledger.of_agent_day(conn, subject, day), subject, {"agent": subject}
    else:
        budget = account_budget(ctx, subject)
        spent = ledger.of_account_day(conn, subject, day)
        name, extra = subject, {"account": subject}
    unreadable = _unreadable(ctx, scope, subject)
    held = spent.unknown > 0 or unreadable  # a daily budget that cannot be kept
    if budget is None or (spent.cost_usd < budget and not (scope in DAILY and held)):
        return None
    return Stopped(f"B-{row.id}", scope, name, budget, spent, row.at, **extra,
                   usage_unknown=unreadable and spent.cost_usd < budget)  # fmt: skip


def any_stopped(conn: Conn) -> bool:
    """Whether any budget was ever spent (a read that needs no more when none was)."""
    return queries.any_mark(conn, STOP)


# -- a daily budget whose turns cannot be counted ------------------------------------------


def hold_unreadable(conn: Conn, ctx: Ctx, agent: str, why: str) -> None:
    """``agent``'s turns' usage cannot be read (``why``): its daily budget, and its
    account's, cannot be kept, so they stop new work for today as a spent one does, said
    once a day (``budget.reached``), until its usage can be read."""
    configured = ctx.agents.get(agent)
    if configured is None:
        return
    day = ledger.day_of(ctx.now)
    account = account_of(configured, ctx.settings.credential_prints)
    found = [(AGENT_DAY, agent, configured.daily_budget, ledger.of_agent_day(conn, agent, day)),
             (ACCOUNT_DAY, account, account_budget(ctx, account),
              ledger.of_account_day(conn, account, day))]  # fmt: skip
    for scope, name, dollars, spent in found:
        subject = _Subject(scope, name, day, dollars or 0.0, name)
        if dollars is not None and _mark(conn, ctx, subject, STOP):
            _mark(conn, ctx, subject, WARN)
            _say(conn, ctx, subject, EventKind.BUDGET_REACHED, spent,
                 f"{subject.what} cannot be kept: {agent}'s turns' usage cannot be read "
                 f"({why}); {subject.stops}")  # fmt: skip


def _unreadable(ctx: Ctx, scope: str, subject: str) -> bool:
    """Whether the agent of an agent's daily budget, or any agent of an account's, has turns
    whose usage cannot be read (``core.costs.turns.usage_unknown``)."""
    if scope not in DAILY:
        return False
    agents = [ctx.agents[subject]] if scope == AGENT_DAY and subject in ctx.agents else [
        a for a in ctx.agents.values()
        if scope == ACCOUNT_DAY and account_of(a, ctx.settings.credential_prints) == subject
    ]  # fmt: skip
    home, dirs = ctx.settings.home, ctx.settings.cli_dirs
    return any(usage_unknown(a, dirs, home) for a in agents)
