"""One state per agent from its signals' latest observations, with the evidence that decided it.

The rules, in order (docs/agent-state.md says them to users):

1. **Waiting**: an open permission prompt or an open question on the agent's task makes it
   ``waiting``, whatever the signals say: a person has to answer. **Errored** next: its
   sandbox's model gateway is not running (its ``gateway-down`` alert open,
   ``core.watch.gateways``): whatever it does, its model is out of reach until it is back.
2. **Limited**: a ``limited`` observation (any signal) holds until its reset time, or for
   ``limit_backoff_s`` from when the limit was first seen when the agent showed none, unless
   a hook, terminal text or a report saw the agent work after it (a screen change alone does
   not: ``worked_since``); a decided limit (``agent_state.state_until``)
   holds until its end even when no signal shows it any more. No limit holds longer than
   ``LIMIT_MAX_S`` (a week): a reset further away is taken as none shown. A limit a hook
   says is checked against the agent's pane where swarm reads one: the pane read
   ``PANE_CHECK_S`` or more after it showing no limit and no error ends it
   (``pane_denies``: a hook's word alone never holds an agent the pane shows free).
3. **The pane over an older hook's work**: terminal text that shows the turn stopped (a
   dialog, an error, a retry, an API wait, a reconnect: ``PANE_OVER_HOOK``), read after the
   hook's latest ``working`` and fresh, decides: the hook spoke before the CLI began to wait
   (Claude Code's "Waiting for API response · will retry in 3m 47s" read working on its
   ``UserPromptSubmit``; Codex's "Reconnecting... 1/5", on its last tool call).
4. **Strongest fresh signal**: hook, then text, then screen, then report. An observation is
   fresh while it is no older than its signal's horizon: ``sampled_s`` (three watch looks) for
   text and screen, which are read every look; ``event_s`` (the stall time) for hooks and
   reports, which speak only when something happens. So a stale observation never outweighs a
   fresh one, and a strong signal that went quiet gives way to a weaker one still watching.
   A screen not judged yet (``unknown``: its first look, or quiet looks not yet enough) is
   no evidence: a fresh report decides over it (``swarm task start`` reads ``working`` at
   once); with none, it stays ``unknown``. Terminal text's ``unknown`` (a screen no rule
   knows) is evidence and decides as ever.
5. **Nothing fresh**: the newest observation's state, except that old ``working`` news is no
   evidence of work: ``unknown`` then. No observation at all: ``unknown`` (never ``idle``).

``stalled`` is decided by the watcher's stall rules (``core.watch.stalls``), which use each
signal's ``active_at``; :func:`apply` keeps a stall until working evidence, a wait or a limit
ends it, so a hook's ``idle`` between two ticks does not flap the state.

Each agent is judged on its own rows (:func:`isolated`): one whose judgement fails is held
from new work with an ``unjudged`` alert, logged once, and the others go on.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TypeVar

from core.agent_state import (
    LIMIT_MAX_S,
    SIGNAL_ORDER,
    AgentState,
    Observation,
    Signal,
    believable_until,
)
from core.agents import _alert_queries as alert_queries
from core.agents import _limit_events as limit_events
from core.agents import _limit_probes as limit_probes
from core.agents import _queries as agent_queries
from core.agents import _signal_queries as signal_queries
from core.agents import _signals as agent_signals
from core.agents._alerts import GATEWAY_DOWN, UNJUDGED, clear_alert, open_alert
from core.agents._signals import StateRow
from core.context import Ctx
from core.dialogs import permissions as prompts
from core.errors import StoreError
from core.formats.text import head_tail, shorten
from core.formats.timetext import local_text
from core.store.conn import Conn

log = logging.getLogger(__name__)
T = TypeVar("T")
DAY_S = 86400.0
DURATION_MAX = 10**12  # seconds: more is shown as this (30,000 years)
EVIDENCE_TEXT = 500  # characters of an unjudged alert's text

CUT = " … "  # between the head and the tail of a long prompt in the evidence
SAMPLED = frozenset({Signal.TEXT, Signal.SCREEN})  # read at every watch look
HELD = frozenset({AgentState.WAITING, AgentState.LIMITED})  # no stall, no nudge, no reassign
# a hook's limit, checked against the pane read this long after it (the CLI draws its error
# line after its StopFailure hook starts); a pane showing a limit or an error confirms it
PANE_CHECK_S = 5.0
CONFIRMS = frozenset({AgentState.LIMITED, AgentState.ERRORED, AgentState.UNKNOWN})
# what the pane shows that outweighs an older hook's working: the turn is not progressing
PANE_OVER_HOOK = frozenset({AgentState.WAITING, AgentState.ERRORED})
ENDS_STALL = frozenset(
    {AgentState.WORKING, AgentState.WAITING, AgentState.LIMITED, AgentState.OFFLINE}
)


@dataclass(frozen=True)
class Freshness:
    """How long each kind of observation counts, and the limit backoff (seconds)."""

    sampled_s: float = 15.0  # text and screen: three watch looks (SWARM_WATCH_INTERVAL x 3)
    event_s: float = 600.0  # hooks and reports: SWARM_STALL_AFTER
    limit_backoff_s: float = 1800.0  # SWARM_LIMIT_BACKOFF

    @classmethod
    def of(cls, interval_s: float, stall_after_s: float, limit_backoff_s: float) -> Freshness:
        """From the watch interval, the stall time and the limit backoff."""
        return cls(3 * interval_s, stall_after_s, limit_backoff_s)


@dataclass(frozen=True)
class Verdict:
    """A decided state: which signal decided it (None: a rule), what was seen, until when."""

    state: AgentState
    signal: Signal | None
    evidence: str
    until: float | None = None
    probe: bool = False  # a limit that named no reset: ``until`` is its next probe


def clock_time(at: float) -> str:
    """``10:42:07``, local time (what a person reads next to their own clock); any value."""
    return local_text(at, "%H:%M:%S")


def until_text(at: float, now: float) -> str:
    """When something ends: ``17:08:22`` within a day of ``now``, else with its date
    (``2026-03-14 17:08:22``); any value."""
    return clock_time(at) if abs(at - now) < DAY_S else local_text(at)


def duration(seconds: float) -> str:
    """``45 s``, ``3 m 10 s``, ``2 h 5 m`` (any value: NaN is 0, at most ``DURATION_MAX``)."""
    seconds = 0 if math.isnan(seconds) else round(min(max(seconds, 0), DURATION_MAX))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} m {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} m"


def is_fresh(obs: Observation, now: float, fresh: Freshness) -> bool:
    """True while ``obs`` is no older than its signal's horizon."""
    horizon = fresh.sampled_s if obs.signal in SAMPLED else fresh.event_s
    return now - obs.at <= horizon


@dataclass(frozen=True)
class HeldLimit:
    """The agent's decided usage limit: since when, until when, in what words."""

    since: float
    until: float | None
    signal: Signal | None
    evidence: str


def current_limit(
    seen: Mapping[Signal, Observation],
    now: float,
    backoff_s: float,
    held: HeldLimit | None = None,
) -> Verdict | None:
    """The usage limit still in force, if any. ``held``: the limit already decided; its
    start is the backoff's start while the limit is shown again and again, and it holds until
    its end even when no signal shows it any more, unless the agent was seen working since.
    No limit holds longer than ``LIMIT_MAX_S`` from ``now`` (a reset further away, as a row
    stored before that cap may hold, is taken as no reset shown)."""
    backoff_s = min(backoff_s, LIMIT_MAX_S)
    limited_since = held.since if held is not None else None
    for obs in (seen[s] for s in SIGNAL_ORDER if s in seen):
        if obs.state is not AgentState.LIMITED:
            continue
        if worked_since(seen, obs.at):
            continue  # seen working since: the limit is over
        if obs.signal is Signal.HOOK and pane_denies(seen, obs.at):
            continue  # the pane, read since, shows the agent free
        started = limited_since if limited_since is not None else obs.at
        reset = believable_until(obs.until, obs.at)
        end = reset if reset is not None else min(started + backoff_s, now + backoff_s)
        if end > now:
            how = "until" if reset is not None else "no reset time shown: next probe at"
            words = f"{obs.evidence} ({how} {until_text(end, now)})"
            return Verdict(AgentState.LIMITED, obs.signal, words, end, probe=reset is None)
    until = believable_until(held.until, now) if held is not None else None
    if held is None or until is None or until <= now:
        return None
    if worked_since(seen, held.since):
        return None  # seen working since: the limit is over
    if held.signal is Signal.HOOK and pane_denies(seen, held.since):
        return None  # a hook's limit the pane does not show
    return Verdict(AgentState.LIMITED, held.signal, held.evidence, until)


def pane_denies(seen: Mapping[Signal, Observation], since: float) -> bool:
    """Whether the agent's pane, read ``PANE_CHECK_S`` or more after ``since``, shows it
    neither limited nor in error (nor a screen no rule knows): a hook's limit is then not
    believed. No pane read since: nothing to check against (the limit holds)."""
    text = seen.get(Signal.TEXT)
    return text is not None and text.at >= since + PANE_CHECK_S and text.state not in CONFIRMS


def worked_since(seen: Mapping[Signal, Observation], since: float) -> bool:
    """True when a signal saw the agent do work after ``since``: a hook or terminal text
    saw it working (not a hook's answer to a prompt given to it: ``Observation.work``), or
    it reported. A change of its window's picture is not enough: the window re-placed,
    raised or redrawn changes it too, often by swarm's own doing."""
    return any(
        o.state is AgentState.WORKING and o.work and o.signal is not Signal.SCREEN and o.at > since
        for o in seen.values()
    )


def combine(
    seen: Mapping[Signal, Observation],
    now: float,
    fresh: Freshness,
    *,
    waiting: str | None = None,
    held: HeldLimit | None = None,
    errored: str | None = None,
) -> Verdict:
    """The agent's state from its observations (rules in the module's docstring);
    ``errored``: why it cannot work whatever its signals say (its model gateway is down)."""
    if waiting:
        return Verdict(AgentState.WAITING, None, waiting)
    if errored:
        return Verdict(AgentState.ERRORED, None, errored)
    limit = current_limit(seen, now, fresh.limit_backoff_s, held)
    if limit is not None:
        return limit
    stopped = pane_over_hook(seen, now, fresh)
    if stopped is not None:
        return Verdict(stopped.state, stopped.signal, stopped.evidence)
    ordered = [seen[s] for s in SIGNAL_ORDER if s in seen]
    usable = [obs for obs in ordered if obs.state is not AgentState.LIMITED]
    undecided = None  # a screen not judged yet: no evidence, unless nothing else is fresh
    for obs in usable:
        if not is_fresh(obs, now, fresh):
            continue
        if obs.signal is Signal.SCREEN and obs.state is AgentState.UNKNOWN:
            undecided = undecided or obs
            continue
        return Verdict(obs.state, obs.signal, obs.evidence)
    if undecided is not None:
        return Verdict(undecided.state, undecided.signal, undecided.evidence)
    if not usable:
        return Verdict(AgentState.UNKNOWN, None, "no signal has seen it yet")
    newest = max(usable, key=lambda o: o.at)
    if newest.state is AgentState.WORKING:
        return Verdict(
            AgentState.UNKNOWN,
            newest.signal,
            f"no news for {duration(now - newest.at)} (last: {newest.evidence})",
        )
    return Verdict(newest.state, newest.signal, newest.evidence)


def pane_over_hook(
    seen: Mapping[Signal, Observation], now: float, fresh: Freshness
) -> Observation | None:
    """The terminal text's observation when it outweighs the hook's: fresh, read after the
    hook's latest word, which was ``working``, and showing the turn stopped
    (``PANE_OVER_HOOK``); else None."""
    text, hook = seen.get(Signal.TEXT), seen.get(Signal.HOOK)
    if text is None or hook is None or hook.state is not AgentState.WORKING:
        return None
    if text.state not in PANE_OVER_HOOK or text.at <= hook.at:
        return None
    return text if is_fresh(text, now, fresh) else None


def waiting_for(conn: Conn, agent: str) -> str | None:
    """What ``agent`` waits for a person to answer: its oldest open prompt or question."""
    for prompt in prompts.open_prompts(conn, agent):
        return _prompt_words(prompt)
    row = agent_queries.oldest_open_question(conn, agent)
    return None if row is None else _question_words(row)


def _prompt_words(prompt: prompts.Prompt) -> str:
    return f"prompt {prompt.id} open: {head_tail(_spaced(prompt.text), 120, mark=CUT)}"


def _question_words(question: agent_queries.OpenQuestion) -> str:
    return f"question on T-{question.task_id} open: {shorten(_spaced(question.text), 120)}"


def _spaced(text: str) -> str:
    """``text`` on one line: its line breaks and runs of blanks as one space (evidence is
    one line; a plan's or a prompt's paragraphs read better so than escaped)."""
    return " ".join(text.split())


def judge(
    conn: Conn,
    agent: str,
    now: float,
    fresh: Freshness,
    decided: StateRow | None = None,
    seen: Mapping[Signal, Observation] | None = None,
) -> Verdict:
    """``agent``'s state now, from the store (no stall rule: see ``core.watch.stalls``);
    ``decided``: its decided state, already read (its limit, if any, is the one held);
    ``seen``: its observations, already read."""
    if seen is None:
        seen = agent_signals.observations(conn, [agent]).get(agent, {})
    held = held_limits(conn, agent).get(agent) if decided is None else held_of(decided)
    fresh = replace(fresh, limit_backoff_s=probe_wait(conn, agent, seen, held, now, fresh))
    down = alert_queries.open_text(conn, agent, GATEWAY_DOWN)
    return combine(seen, now, fresh, waiting=waiting_for(conn, agent), held=held, errored=down)


def probe_wait(
    conn: Conn,
    agent: str,
    seen: Mapping[Signal, Observation],
    held: HeldLimit | None,
    now: float,
    fresh: Freshness,
) -> float:
    """How long a limit of ``agent``'s that names no reset holds before its next probe
    (``limit_probes``); its state changes are read only when it is or is seen limited."""
    setting = fresh.limit_backoff_s
    if held is None and all(o.state is not AgentState.LIMITED for o in seen.values()):
        return setting
    since = held.since if held is not None else None
    failed = limit_probes.failed_probes(conn, agent, now, since)
    return limit_probes.probe_wait(failed, setting)


def judge_and_apply(
    conn: Conn,
    ctx: Ctx,
    agent: str,
    fresh: Freshness,
    decided: StateRow | None = None,
    seen: Mapping[Signal, Observation] | None = None,
) -> Verdict | None:
    """Judge ``agent`` (on its own rows: ``isolated``) and store the verdict; the verdict
    (None: it could not be judged). ``decided``, ``seen``: its decided state and its
    observations, already read."""
    before = decided or agent_signals.get_state(conn, agent)
    verdict = isolated(conn, ctx, agent, lambda: judge(conn, agent, ctx.now, fresh, before, seen))
    if verdict is not None:
        apply(conn, ctx, agent, verdict, before=before)
    return verdict


def held_of(decided: StateRow) -> HeldLimit | None:
    """The usage limit a decided state holds (None: it is not ``limited``), as
    :func:`held_limits` reads it."""
    if decided.state is not AgentState.LIMITED:
        return None
    return HeldLimit(decided.since or 0.0, decided.until, decided.signal, decided.evidence)


def judge_all(
    conn: Conn, agents: Iterable[str], now: float, fresh: Freshness
) -> tuple[dict[str, Verdict], dict[str, str]]:
    """Each of ``agents``' state now, as :func:`judge` decides it, from one read of each
    table (the watch tick judges every agent); and agent -> why, for those whose rows could
    not be judged (each agent on its own rows: the others are judged all the same)."""
    wanted = list(agents)
    unjudged: dict[str, str] = {}
    seen = agent_signals.observations(conn, wanted, unjudged)
    held = held_limits(conn)
    prompt_rows = prompts.oldest_open_rows(conn)
    questions = agent_queries.oldest_open_questions(conn)
    verdicts = {}
    for agent in wanted:
        if agent in unjudged:
            continue
        try:
            prompt = prompt_rows.get(agent)
            question = questions.get(agent)
            waiting = (
                _prompt_words(prompts.prompt_of(prompt)) if prompt is not None
                else _question_words(question) if question is not None
                else None
            )  # fmt: skip
            mine, limit = seen.get(agent, {}), held.get(agent)
            wait = probe_wait(conn, agent, mine, limit, now, fresh)
            verdicts[agent] = combine(mine, now, replace(fresh, limit_backoff_s=wait),
                                      waiting=waiting, held=limit)  # fmt: skip
        except Exception as exc:  # one agent's data: the others are judged all the same
            unjudged[agent] = f"{type(exc).__name__}: {exc}"
    return verdicts, unjudged


def held_limits(conn: Conn, agent: str | None = None) -> dict[str, HeldLimit]:
    """agent -> its decided usage limit, for the agents (or ``agent``) whose decided state is
    ``limited`` (a stored value that cannot be read counts as none: the next decision
    replaces it)."""
    rows = signal_queries.limited_states(conn, agent)
    return {
        agent: HeldLimit(
            agent_signals.stored_time(since) or 0.0,
            agent_signals.stored_time(until),
            Signal(signal) if signal in agent_signals.SIGNALS else None,
            evidence or "",
        )
        for agent, since, until, signal, evidence in rows
    }


def apply(
    conn: Conn,
    ctx: Ctx,
    agent: str,
    verdict: Verdict,
    *,
    force: bool = False,
    before: StateRow | None = None,
) -> bool:
    """Store ``verdict`` as ``agent``'s state (a stall stays until something ends it, or
    ``force``: the watcher's stall rules, which decide stalls, say so).

    Leaving ``waiting`` or ``limited`` restarts the stall clock (``agent_watch.resumed_at``);
    a limit's start and end are events of their own (``agent.limited``,
    ``agent.limit_ended``: one post each; a flap of the same limit is ``agent.limit_flapped``,
    not posted: ``core.agents._limit_events``). True when the state changed. ``before``: the
    decided state, already read in this transaction.
    """
    before = before or agent_signals.get_state(conn, agent)
    keeps_stall = verdict.state in ENDS_STALL or verdict.state is AgentState.STALLED
    if before.state is AgentState.STALLED and not keeps_stall and not force:
        return False
    # the stall clock's row before the state's, as the watch tick takes them (a node that
    # took them the other way round deadlocked with it on PostgreSQL about every 5 s)
    resume_clock(conn, agent, before.state, verdict.state, ctx.now)
    changed = agent_signals.set_state(
        conn, agent, verdict.state, ctx.now, verdict.signal, verdict.evidence,
        until=verdict.until, before=before,
    )  # fmt: skip
    if not changed:
        return False
    if verdict.state is AgentState.LIMITED:
        until = f" until {until_text(verdict.until, ctx.now)}" if verdict.until else ""
        limit_events.started(
            conn, ctx, agent, verdict.until, until, verdict.evidence, probe=verdict.probe
        )
    elif before.state is AgentState.LIMITED:
        limit_events.ended(conn, ctx, agent, verdict.state)
    return True


def resume_clock(conn: Conn, agent: str, before: AgentState, after: AgentState, now: float) -> None:
    """Restart ``agent``'s stall clock when a waiting or limited spell ends (``before`` to
    ``after``): the time spent waiting for a person or a reset is no stall."""
    if before in HELD and after not in HELD:
        agent_queries.restart_stall_clock(conn, agent, now)


@dataclass
class Limits:
    """The usage limits in force: agent -> when its limit ends; ``unjudged``: agent -> why
    its limit could not be judged (it is held too, and the others go on)."""

    ends: dict[str, float] = field(default_factory=dict)
    unjudged: dict[str, str] = field(default_factory=dict)


def limits(conn: Conn, now: float, backoff_s: float) -> Limits:
    """The usage limits of the agents limited now, each agent judged on its own rows."""
    held = held_limits(conn)
    agents = signal_queries.limited_agents(conn)
    agents |= set(held)
    found = Limits()
    if not agents:
        return found
    seen = agent_signals.observations(conn, agents, found.unjudged)
    for agent in agents - set(found.unjudged):
        try:
            mine, decided = seen.get(agent, {}), held.get(agent)
            wait = probe_wait(conn, agent, mine, decided, now, Freshness(limit_backoff_s=backoff_s))
            limit = current_limit(mine, now, wait, decided)
        except Exception as exc:  # one agent's data: the others are judged all the same
            found.unjudged[agent] = f"{type(exc).__name__}: {exc}"
            continue
        if limit is not None and limit.until is not None:
            found.ends[agent] = limit.until
    return found


def limited_agents(conn: Conn, now: float, backoff_s: float) -> dict[str, float]:
    """agent -> when its usage limit ends, for each agent limited now."""
    return limits(conn, now, backoff_s).ends


# -- one agent's judgement that fails -----------------------------------------------------


def isolated(conn: Conn, ctx: Ctx, agent: str, judge_one: Callable[[], T]) -> T | None:
    """``judge_one()``, a judgement of ``agent`` alone; None when it fails on that agent's
    data (``hold_unjudged``), so the other agents go on. A database error is not one
    agent's: it propagates."""
    try:
        return judge_one()
    except StoreError:
        raise
    except Exception as exc:
        hold_unjudged(conn, ctx, agent, f"{type(exc).__name__}: {exc}", exc)
        return None


def hold_unjudged(
    conn: Conn, ctx: Ctx, agent: str, why: str, exc: BaseException | None = None
) -> None:
    """Say that ``agent`` cannot be judged: an ``unjudged`` alert (the notifier posts it;
    ``swarm status`` and the dashboard show it), logged with the error once, when it opens;
    the agent gets no new task meanwhile."""
    text = shorten(
        f"swarm cannot judge {agent}'s state: {why}; it gets no new task until this is fixed",
        EVIDENCE_TEXT,
    )
    if open_alert(conn, ctx, agent, UNJUDGED, text):
        log.error("%s", text, exc_info=exc)
    else:
        log.debug("%s (still)", text)


def judged_again(conn: Conn, ctx: Ctx, agents: set[str]) -> list[str]:
    """Clear the ``unjudged`` alert of each of ``agents`` (judged now) that has one open;
    the agents cleared."""
    cleared = []
    for agent in sorted(agents & unjudged_agents(conn)):
        if clear_alert(conn, ctx, agent, UNJUDGED, f"{agent}'s state is judged again"):
            log.info("%s's state is judged again", agent)
            cleared.append(agent)
    return cleared


def unjudged_agents(conn: Conn) -> set[str]:
    """The agents with an open ``unjudged`` alert."""
    return alert_queries.open_agents(conn, UNJUDGED)
