"""An account's circuit breaker: a usage limit seen on one agent holds all the account's agents.

The first limit seen on any agent of an account opens its breaker until the reset the agent
showed (``SWARM_LIMIT_BACKOFF`` when it showed none): no agent of the account gets a new task
meanwhile (``held``), and those in a turn finish it. Once the reset has passed the breaker is
half open: the next task goes to one agent of the account, its probe (``probe_taken``), and the
others wait. The probe's agent working, or idle again by its own word (hook, protocol: a
fast turn may start and end between two passes), or its task reported, closes the breaker
(``review``); a limit seen on the account while it probes reopens it with a backoff that
doubles with each failed probe, up to ``BACKOFF_CAP_S``. The state is a row of
``account_breakers``: it survives a restart. Each opening, reopening and closing is one event
(``account.limited``, ``account.limit_ended``) for the whole account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.accounts import queries
from core.accounts.naming import account_of, by_account
from core.accounts.rows import CLOSED, OPEN, PROBING, Breaker
from core.context import Ctx
from core.event_kinds import EventKind
from core.formats.text import one_line, shorten
from core.formats.timetext import local_text
from core.store.conn import Conn
from core.store.tables import insert_event
from core.waits import ErrorBackoff

__all__ = ["CLOSED", "OPEN", "PROBING", "Breaker"]  # a breaker's row (core.accounts.rows)
BACKOFF_CAP_S = 6 * 3600.0  # the longest wait after failed probes
DAY_S = 86400.0
TURN_WORDS = ("hook", "protocol")  # the signals whose idle is the agent's turn's own end
# whether any account's breaker is open or probing (the assignment pass's read of its agents
# says it, so that a pass with none reads no breaker)
ANY_NOT_CLOSED = "EXISTS (SELECT 1 FROM account_breakers WHERE state <> 'closed')"


def not_closed(conn: Conn) -> dict[str, Breaker]:
    """account -> its breaker, for each account whose breaker is open or probing."""
    return {b.account: b for b in queries.not_closed(conn, CLOSED)}


def get(conn: Conn, account: str) -> Breaker | None:
    """``account``'s breaker in any state, if it ever opened."""
    return queries.of_account(conn, account)


def backoff_s(ctx: Ctx, failures: int) -> float:
    """The wait after ``failures`` failed probes: ``SWARM_LIMIT_BACKOFF`` doubled per failure,
    at most ``BACKOFF_CAP_S`` (or the setting, when it is longer)."""
    base = ctx.settings.limit_backoff_s
    return ErrorBackoff(base, max(BACKOFF_CAP_S, base)).delay(failures + 1)


def when(at: float, now: float) -> str:
    """``15:00:00`` within a day of ``now``, else with its date."""
    return local_text(at, "%H:%M:%S") if abs(at - now) < DAY_S else local_text(at)


# -- a limit seen -------------------------------------------------------------------------


def limit_seen(conn: Conn, ctx: Ctx, agent: str, until: float | None, evidence: str) -> bool:
    """``agent`` was found limited (``until``: its reset, if it showed one): open its
    account's breaker, move the reset of an open one later, or reopen one that probes with
    a longer backoff. True when the account's breaker speaks for the agent (its own limit
    event is then not posted); False, and nothing done, for an agent that is not configured
    or alone on its account (its own limit holds it: ``core.agents._judge``)."""
    if agent not in ctx.agents:
        return False
    account = account_of(ctx.agents[agent], ctx.settings.credential_prints)
    if len(by_account(ctx.agents.values(), ctx.settings.credential_prints)[account]) < 2:
        return False
    found = get(conn, account)
    evidence = shorten(one_line(evidence), 300)
    if found is None or found.state == CLOSED:
        end = until if until is not None else ctx.now + ctx.settings.limit_backoff_s
        _open(conn, ctx, account, agent, end, 0, evidence, found)
    elif found.state == PROBING:
        failures = found.failures + 1
        end = max(until or 0.0, ctx.now + backoff_s(ctx, failures))
        _open(conn, ctx, account, agent, end, failures, evidence, found)
    elif until is not None and until > found.until:
        queries.move_reset(conn, found.id, until, ctx.now)
    return True


def _open(
    conn: Conn,
    ctx: Ctx,
    account: str,
    agent: str,
    until: float,
    failures: int,
    evidence: str,
    before: Breaker | None,
) -> None:
    queries.open_breaker(conn, account, OPEN, CLOSED, (ctx.now, until, failures, agent, evidence))
    agents = by_account(ctx.agents.values(), ctx.settings.credential_prints).get(account, [])
    if failures:
        text = (
            f"{account} is still limited: the probe on {agent} hit the limit again "
            f"({evidence}); the next probe after {when(until, ctx.now)} (failed probe "
            f"{failures}: the wait doubles with each, up to {BACKOFF_CAP_S / 3600:.0f} h)"
        )
    else:
        text = (
            f"{account} hit a usage limit until {when(until, ctx.now)} (seen on {agent}: "
            f"{evidence}): none of its {len(agents)} agent(s) gets a new task meanwhile"
        )
    insert_event(
        conn, ctx.now, EventKind.ACCOUNT_LIMITED, text, agent=agent, actor=ctx.actor,
        data={"account": account, "until": until, "failures": failures, "agents": agents,
              "reopened": before is not None and before.state == PROBING},
    )  # fmt: skip


# -- the assignment pass ------------------------------------------------------------------


@dataclass(frozen=True)
class Holds:
    """What the open breakers hold in one assignment pass: ``held`` agent -> its account
    (no task for it); ``probing``: the half-open accounts, whose next task is a probe."""

    breakers: dict[str, Breaker]
    held: dict[str, str]
    probing: frozenset[str]


NO_HOLDS = Holds({}, {}, frozenset())


# A probe's view (``core.assignment._agent_queries.probe_view``, from core.agents' pieces: the
# agents' table is theirs, and core.agents imports this package): (conn, the probe's task, its
# agent) -> its agent's state, since when and by which signal, its task's status and
# assignee (None: no row)
ProbeSeen = tuple[str, float | None, str | None, str | None, str | None]
ProbeView = Callable[[Conn, int | None, str | None], ProbeSeen | None]


def holds(conn: Conn, ctx: Ctx, probe_view: ProbeView) -> Holds:
    """The agents the breakers hold now, after ``review`` settled the probes."""
    breakers = review(conn, ctx, probe_view)
    if not breakers:
        return NO_HOLDS
    prints = ctx.settings.credential_prints
    held: dict[str, str] = {}
    probing = set()
    for agent in ctx.agents.values():
        account = account_of(agent, prints)
        breaker = breakers.get(account)
        if breaker is None:
            continue
        if breaker.half_open(ctx.now):
            probing.add(account)
        else:
            held[agent.id] = account
    return Holds(breakers, held, frozenset(probing))


def review(conn: Conn, ctx: Ctx, probe_view: ProbeView) -> dict[str, Breaker]:
    """The breakers not closed, after closing each whose probe went through (its agent seen
    working since the probe, or ending a turn, or its task reported started or finished) and
    opening again for a probe one whose probe never showed either within
    ``SWARM_LIMIT_BACKOFF``."""
    found = not_closed(conn)
    for account, breaker in list(found.items()):
        if breaker.state != PROBING or breaker.probe_at is None:
            continue
        passed = _probe_passed(probe_view(conn, breaker.probe_task, breaker.probe_agent), breaker)
        if passed:
            _close(conn, ctx, breaker, passed)
            del found[account]
        elif ctx.now - breaker.probe_at >= ctx.settings.limit_backoff_s:
            queries.probe_again(conn, breaker.id, OPEN, ctx.now)
            found[account] = get(conn, account) or breaker
    return found


def _probe_passed(seen: ProbeSeen | None, breaker: Breaker) -> str | None:
    """What shows the probe went through (``seen``: its view), in words, or None."""
    if seen is None or breaker.probe_at is None:
        return None
    state, since, signal, status, assignee = seen
    if float(since or 0) >= breaker.probe_at:
        if state == "working":
            return f"{breaker.probe_agent} is working on its probe"
        # its own word (hook, protocol) that a turn ended since: a fast turn between two
        # passes; an idle read off its screen may be its limit's end, not a turn
        if state == "idle" and signal in TURN_WORDS:
            return f"{breaker.probe_agent} ended a turn on its probe"
    if status in ("in_progress", "done") and assignee == breaker.probe_agent:
        return f"{breaker.probe_agent} reported T-{breaker.probe_task} {status}"
    return None


def _close(conn: Conn, ctx: Ctx, breaker: Breaker, why: str) -> None:
    queries.set_state(conn, breaker.id, CLOSED, ctx.now)
    insert_event(
        conn, ctx.now, EventKind.ACCOUNT_LIMIT_ENDED,
        f"{breaker.account}'s usage limit is over ({why}): its agents take tasks again",
        agent=breaker.probe_agent, actor=ctx.actor,
        data={"account": breaker.account, "since": breaker.opened_at},
    )  # fmt: skip


def probe_taken(conn: Conn, ctx: Ctx, account: str, agent: str, task_id: int) -> None:
    """``task_id`` went to ``agent`` as the probe of ``account``'s half-open breaker."""
    queries.take_probe(conn, account, (agent, task_id, ctx.now), PROBING, OPEN)


def count_moved(conn: Conn, moved: dict[str, int]) -> None:
    """Add to each account's count of tasks that went to another account's agents."""
    for account, n in moved.items():
        queries.add_moved(conn, account, n, CLOSED)


def accounts_of(ctx: Ctx, agents: Iterable[str]) -> set[str]:
    """The accounts of ``agents`` (configured ones)."""
    prints = ctx.settings.credential_prints
    return {account_of(ctx.agents[a], prints) for a in agents if a in ctx.agents}
