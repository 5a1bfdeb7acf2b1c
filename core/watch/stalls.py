"""Stall rules and the agents' states: one watch tick over the database at one moment
(``ctx.now``).

Working evidence is what the agent itself does: a change of its watched screen region (not
one caused by our own delivery), a hook or terminal text that saw it working
(``agent_signals.active_at``), a report through the CLI (``agent_state.last_report_at``:
task start, progress, done, fail). swarm's own actions are not the agent's activity: a nudge
or any other message swarm delivers does not restart the clock; only the task's own prompt
reaching the agent does (plus ``grace``). An inbox agent (no screen) is judged on its
reports, hooks and text only.

An agent with an active task, not ``waiting`` or ``limited``, and no working evidence for
``stall_after`` is stalled: ONE alert is opened for the episode and it is nudged, at most
``max_nudges`` times per set of tasks and ``nudge_cooldown`` apart; after ``reassign_after``
its tasks go back to the queue. The alert is cleared once, when the episode ends: working
evidence, the tasks gone, or the agent now waiting for a person or limited. A ``waiting`` or
``limited`` agent is never nudged or reassigned, and its clock restarts when that ends.

The stall clock starts at the latest of: the last working evidence, the assignment, the
task prompt's delivery plus ``grace``, the end of the last waiting or limited spell, when
watching the agent began (``agent_watch.watch_since``) and, for screen agents, the first
frame taken of it, so an agent is judged stalled only after it was *observed* quiet for
``stall_after``. These are stored, so a coordinator restart keeps the clock (watching starts
over only after a gap longer than ``stall_after``, when the screen could not be seen).
Agents whose last deliveries all failed are unreachable. Each agent's state is judged and
stored on its own: one whose rows cannot be judged gets an ``unjudged`` alert (cleared when it
can be again) and the tick goes on for the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial

from core.agent_state import AgentState, Observation, Signal
from core.agents import (
    HELD,
    HELD_BEHIND_TURN,
    HOOKS_SILENT,
    STALLED,
    UNREACHABLE,
    UNREPORTED,
    Freshness,
    OpenAlerts,
    Verdict,
    clock_time,
    duration,
    limit_events,
)
from core.agents import judge as agent_judge
from core.agents import queries as agent_queries
from core.agents import signals as agent_signals
from core.assignment import lifecycle
from core.context import Ctx
from core.delivery import message_queries, messages
from core.event_kinds import EventKind
from core.models import Agent, DeliveryState, Task, TaskStatus, task_ref
from core.sandbox import swarm_for
from core.store.conn import Conn
from core.store.tables import insert_event
from core.tasks import list_tasks
from core.tasks import queries as task_queries
from core.watch import held_messages, queries, silent_hooks, turn_ends
from core.watch.settings import WatchSettings


@dataclass
class TickReport:
    """What one tick saw and did (agent ids, task ids)."""

    active: list[str] = field(default_factory=list)
    echoes: list[str] = field(default_factory=list)
    stalled: list[str] = field(default_factory=list)
    nudged: list[str] = field(default_factory=list)
    reassigned: list[int] = field(default_factory=list)
    handed_on: list[int] = field(default_factory=list)  # from a limited agent
    opened: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    nudged_turns: list[str] = field(default_factory=list)  # a turn ended without a report
    unreported: list[str] = field(default_factory=list)  # ...again after the nudge: an alert


@dataclass(frozen=True)
class _Held:
    id: int
    assigned_at: float
    attempts: int
    max_attempts: int


@dataclass(frozen=True)
class _View:
    agent: str
    tasks: list[_Held]
    last_activity: float
    watched: str | None
    nudges: int
    last_nudge_at: float | None
    screen: bool = False  # judged on its screen too (an inbox agent is not)
    held: Verdict | None = None  # waiting or limited: no stall, no nudge, no reassignment
    reads_working: bool = False  # its signals read working (a frozen turn: no progress)
    protocol: bool = False  # on the protocol route: its host's updates are its activity, and
    # nothing is typed into it (no nudge: a prompt would wait for the frozen turn's end)

    @property
    def key(self) -> str | None:
        """The task set a nudge count belongs to."""
        return ",".join(str(t.id) for t in self.tasks) or None

    @property
    def refs(self) -> str:
        return ", ".join(task_ref(t.id) for t in self.tasks)


def tick(
    conn: Conn,
    ctx: Ctx,
    settings: WatchSettings,
    screen_changed: Iterable[str],
    since: float,
    first_frames: Mapping[str, float] | None = None,
    starts: Mapping[str, float] | None = None,
) -> TickReport:
    """Record screen activity, then judge every agent: stalls, then its state.

    ``since``: when this watcher began; ``first_frames``: agent -> when its screen was first
    captured (agents watched on screen only); ``starts``: each agent's watch clock, already
    stored (:func:`watch_clocks`, a transaction of its own), else stored here.
    """
    report = TickReport()
    fresh = freshness(ctx, settings)
    _record_screen(conn, ctx, settings, screen_changed, report)
    queries.keep_first_frames(conn, first_frames or {})
    if starts is None:
        starts = watch_clocks(conn, ctx, settings, since)
    _observe_screens(conn, ctx, settings, report)
    verdicts = _verdicts(conn, ctx, fresh)
    states = agent_signals.get_states(conn)
    for agent, verdict in verdicts.items():  # a wait that ends now restarts the clock now
        was = states.get(agent, agent_signals.no_state(agent)).state
        agent_judge.resume_clock(conn, agent, was, verdict.state, ctx.now)
    alerts = OpenAlerts(conn)
    for view in _views(conn, ctx, settings, starts, verdicts):
        _judge(conn, ctx, settings, view, report, alerts)
    applied = set()
    for agent, verdict in verdicts.items():
        stall = _stall_verdict(conn, agent) if agent in report.stalled else None
        before = states.get(agent, agent_signals.no_state(agent))
        store = partial(
            agent_judge.apply, conn, ctx, agent, stall or verdict, force=True, before=before
        )
        if agent_judge.isolated(conn, ctx, agent, store) is not None:
            applied.add(agent)
    agent_judge.judged_again(conn, ctx, applied)
    report.nudged_turns, report.unreported = turn_ends.check(conn, ctx, settings, alerts)
    report.opened += [f"{agent} {UNREPORTED}" for agent in report.unreported]
    report.opened += [
        f"{agent} {HELD_BEHIND_TURN}" for agent in held_messages.check(conn, ctx, settings, alerts)
    ]
    silent = silent_hooks.check(conn, ctx, settings.hooks_silent_s)
    report.opened += [f"{agent} {HOOKS_SILENT}" for agent in silent]
    if settings.limit_handoff_s is not None:
        _hand_on(conn, ctx, settings.limit_handoff_s, report)
    _check_reachable(conn, ctx, settings, report, alerts)
    return report


def _hand_on(conn: Conn, ctx: Ctx, after_s: float, report: TickReport) -> None:
    """A limited agent's tasks go back to the queue once it has been limited ``after_s``
    (from the limit's first start when it flapped: ``limit_events.episode_start``), each
    when another configured agent that is not limited can take it; a task pinned to it
    stays (the needs-you queue asks the person). Its turn is not counted as an attempt: the
    limit is not the task's failure."""
    ends = agent_judge.limited_agents(conn, ctx.now, ctx.settings.limit_backoff_s)
    for agent, until in ends.items():
        since = (
            limit_events.episode_start(conn, agent) or agent_signals.get_state(conn, agent).since
        )
        if agent not in ctx.agents or since is None or ctx.now - since < after_s:
            continue
        others = [a for a in ctx.agents.values() if a.id != agent and a.id not in ends]
        for task in _held_by(conn, agent):
            if task.pinned == agent or not any(
                a.can_take(task.role, task.capabilities) for a in others
            ):
                continue
            why = (
                f"{agent} is limited until {agent_judge.until_text(until, ctx.now)}: handed on "
                f"after {minutes(ctx.now - since)} limited"
            )
            lifecycle.release(conn, ctx, task.id, why, backoff=0.0, counts=False)
            report.handed_on.append(task.id)


def _held_by(conn: Conn, agent: str) -> list[Task]:
    return [
        t
        for status in (TaskStatus.assigned, TaskStatus.in_progress)
        for t in list_tasks(conn, status, agent=agent, limit=1000)
        if t.agent == agent
    ]


def _verdicts(conn: Conn, ctx: Ctx, fresh: Freshness) -> dict[str, Verdict]:
    """Each agent's state, judged on its own rows: an agent whose rows cannot be judged is
    left out (an ``unjudged`` alert, ``agent_judge.hold_unjudged``) and the others go on."""
    verdicts, unjudged = agent_judge.judge_all(conn, ctx.agents, ctx.now, fresh)
    for agent, why in unjudged.items():
        agent_judge.hold_unjudged(conn, ctx, agent, why)
    return verdicts


def freshness(ctx: Ctx, settings: WatchSettings) -> Freshness:
    """How long observations count, from the watch settings and the limit backoff."""
    return Freshness.of(settings.interval_s, settings.stall_after_s, ctx.settings.limit_backoff_s)


def has_screen(agent: Agent) -> bool:
    """True for an agent with a watched screen region (judged on it once a frame is taken;
    an inbox agent without one, or without a display, has no screen)."""
    return agent.watch is not None


def record_screen(
    conn: Conn,
    ctx: Ctx,
    settings: WatchSettings,
    changed: Iterable[str],
    first_seen: Mapping[str, float],
) -> list[str]:
    """A delivery node's part of the tick: the screen activity of its agents (``changed``,
    less our own pastes) and when it first captured each (``first_seen``); the active ones."""
    for agent, seen in first_seen.items():
        queries.first_seen(conn, agent, seen)
    report = TickReport()
    _record_screen(conn, ctx, settings, changed, report)
    return report.active


def _record_screen(
    conn: Conn,
    ctx: Ctx,
    settings: WatchSettings,
    changed: Iterable[str],
    report: TickReport,
) -> None:
    for agent in changed:
        if _own_echo(conn, ctx, settings, agent):
            report.echoes.append(agent)
            continue
        queries.screen_changed(conn, agent, ctx.now)
        report.active.append(agent)


def _own_echo(conn: Conn, ctx: Ctx, settings: WatchSettings, agent: str) -> bool:
    """True while a delivery to the agent is being pasted, or just was."""
    row = message_queries.last_paste(conn, agent)
    return row is not None and (
        row.state == DeliveryState.delivering or ctx.now - row.updated_at <= settings.echo_s
    )


def watch_clocks(conn: Conn, ctx: Ctx, settings: WatchSettings, since: float) -> dict[str, float]:
    """agent -> since when it has been watched without a gap (stored: a restart keeps it;
    a gap longer than ``stall_after`` starts it again at this watcher's start). Stored in a
    transaction of its own before the tick's (``Watcher.tick``): the tick runs long on a busy
    machine, and every agent's ``agent_watch`` row held all that time kept a node's write of
    an agent's wait ending (its stall clock's restart), and every call queued behind it on
    the node's connection, waiting for the tick's commit (up to a second, on PostgreSQL)."""
    stored = queries.watch_clocks(conn)
    starts = {}
    for agent in ctx.agents:
        began, ticked = stored.get(agent, (None, None))
        if began is None or ticked is None or ctx.now - ticked > settings.stall_after_s:
            began = since
        starts[agent] = began
    queries.store_watch_clocks(conn, starts, ctx.now)
    return starts


def screen_seen(conn: Conn, ctx: Ctx) -> dict[str, tuple[float, float | None]]:
    """Screen agents whose screen was captured: agent -> (first frame, last change)."""
    return {
        agent: (float(seen), active)
        for agent, seen, active in queries.screen_times(conn)
        if seen is not None and agent in ctx.agents and has_screen(ctx.agents[agent])
    }


def _observe_screens(conn: Conn, ctx: Ctx, settings: WatchSettings, report: TickReport) -> None:
    """The screen signal's observation of each watched agent: a change since the last look
    is ``working``, none is ``idle`` (our own pastes are neither: see ``_own_echo``)."""
    for agent, (seen, active) in screen_seen(conn, ctx).items():
        changed = agent in report.active or (
            active is not None and ctx.now - active < settings.interval_s
        )
        quiet = ctx.now - max(seen, active or 0.0)
        if changed:
            state, words = AgentState.WORKING, f"screen: changed at {clock_time(ctx.now)}"
        elif quiet < settings.interval_s:  # its first look: no evidence either way yet
            state, words = AgentState.UNKNOWN, f"screen: first look at {clock_time(seen)}"
        else:
            state, words = AgentState.IDLE, f"screen: no change for {duration(quiet)}"
        agent_signals.record(conn, Observation(agent, Signal.SCREEN, state, ctx.now, words))


def _views(
    conn: Conn,
    ctx: Ctx,
    settings: WatchSettings,
    starts: Mapping[str, float],
    verdicts: Mapping[str, Verdict],
) -> Iterator[_View]:
    held: dict[str, list[_Held]] = {}
    for task in task_queries.active_tasks(conn):
        found = _Held(task.id, task.assigned_at or 0.0, task.attempts, task.max_attempts)
        held.setdefault(task.assignee, []).append(found)
    watch = queries.watch_rows(conn)
    reports = agent_queries.last_reports(conn)
    active = agent_signals.active_times(conn)
    delivered = message_queries.prompt_delivered_each(conn)
    for agent_id, agent in ctx.agents.items():
        mine = held.get(agent_id, [])
        row = watch.get(agent_id)
        screen = has_screen(agent) and row is not None and row.screen_seen_at is not None
        resumed = (row.resumed_at or 0.0) if row else 0.0
        times = [starts[agent_id], reports.get(agent_id) or 0.0, resumed]
        times += [at for sig, at in active.get(agent_id, {}).items() if sig is not Signal.SCREEN]
        times += [t.assigned_at for t in mine]
        if screen:
            assert row is not None
            times += [row.screen_active_at or 0.0, row.screen_seen_at or 0.0]
        if mine:
            times.append(delivered.get(agent_id, 0.0) + settings.grace_s)
        verdict = verdicts.get(agent_id)
        yield _View(
            agent_id,
            mine,
            max(times),
            row.watched_tasks if row else None,
            row.nudges if row else 0,
            row.last_nudge_at if row else None,
            screen,
            verdict if verdict is not None and verdict.state in HELD else None,
            verdict is not None and verdict.state is AgentState.WORKING,
            agent.delivery == "protocol",
        )


def _stall_verdict(conn: Conn, agent: str) -> Verdict | None:
    """The stall as a state, in the open alert's words; None once its tasks were taken back
    (the alert is then cleared)."""
    text = agent_queries.open_alert_text(conn, agent, STALLED)
    return None if text is None else Verdict(AgentState.STALLED, None, text)


def _judge(
    conn: Conn,
    ctx: Ctx,
    settings: WatchSettings,
    view: _View,
    report: TickReport,
    alerts: OpenAlerts,
) -> None:
    if view.key != view.watched:  # another set of tasks: its nudges count from zero
        queries.set_watched(conn, view.agent, view.key)
        view = dataclasses.replace(view, watched=view.key, nudges=0, last_nudge_at=None)
    quiet = ctx.now - view.last_activity
    if (
        view.held is not None
        or not view.tasks
        or quiet < settings.stall_after_s
        or _fresh(ctx, settings, view)
    ):
        _not_stalled(conn, ctx, view, report, alerts)
        return
    report.stalled.append(view.agent)
    what = _quiet_words(view)
    text = f"{view.agent} stalled: no {what} for {minutes(quiet)} on {view.refs}"
    if alerts.open(conn, ctx, view.agent, STALLED, text, view.tasks[0].id):
        report.opened.append(f"{view.agent} {STALLED}")
    if quiet >= settings.reassign_after_s:
        _reassign(conn, ctx, view, quiet, report, alerts)
    elif _may_nudge(ctx, settings, view):
        _nudge(conn, ctx, settings, view, quiet, report)


def _not_stalled(conn: Conn, ctx: Ctx, view: _View, report: TickReport, alerts: OpenAlerts) -> None:
    """Clear ``view``'s stall alert, if open, saying why it is no stall now."""
    if view.held is not None:
        why = f"it is {view.held.state.value} ({view.held.evidence})"
    else:
        why = "no active task" if not view.tasks else "activity seen"
    text = f"{view.agent} is no longer stalled: {why}"
    _clear(conn, ctx, view.agent, STALLED, text, report, alerts)


def _fresh(ctx: Ctx, settings: WatchSettings, view: _View) -> bool:
    """Within the grace period after the latest assignment."""
    return ctx.now - max(t.assigned_at for t in view.tasks) < settings.grace_s


def _quiet_words(view: _View) -> str:
    """What the agent gave none of: the update of its protocol, any activity on its screen,
    or a report or hook."""
    return "update" if view.protocol else "activity" if view.screen else "report or hook"


def _may_nudge(ctx: Ctx, settings: WatchSettings, view: _View) -> bool:
    if view.protocol or view.nudges >= settings.max_nudges:
        return False
    return view.last_nudge_at is None or ctx.now - view.last_nudge_at >= settings.nudge_cooldown_s


def _nudge(
    conn: Conn,
    ctx: Ctx,
    settings: WatchSettings,
    view: _View,
    quiet: float,
    report: TickReport,
) -> None:
    first = task_ref(view.tasks[0].id)
    swarm = swarm_for(ctx.agents.get(view.agent), ctx.settings.agent_swarm)
    what = "activity seen" if view.screen else "report"
    text = (
        f"No {what} from you for {minutes(quiet)} on {view.refs}. If you are still "
        f'working, report progress: {swarm} task start {first} --note "..."; if you are '
        f'stuck, say why: {swarm} task fail {first} --reason "...".'
    )
    message_id = messages.queue(
        conn,
        ctx,
        [view.agent],
        text,
        target=messages.note_to(view.agent),
        task_id=view.tasks[0].id,
    )
    queries.count_nudge(conn, view.agent, ctx.now)
    count = view.nudges + 1
    insert_event(
        conn,
        ctx.now,
        EventKind.AGENT_NUDGED,
        f"{view.agent} nudged ({count}/{settings.max_nudges}) about {view.refs}: "
        f"no {_quiet_words(view)} for {minutes(quiet)}",
        task_id=view.tasks[0].id,
        agent=view.agent,
        actor=ctx.actor,
        data={"message": message_id, "nudge": count},
    )
    report.nudged.append(view.agent)


def _reassign(
    conn: Conn, ctx: Ctx, view: _View, quiet: float, report: TickReport, alerts: OpenAlerts
) -> None:
    why = f"{view.agent} stalled: no {_quiet_words(view)} for "
    why += minutes(quiet)
    for held in view.tasks:
        if held.attempts >= held.max_attempts:
            lifecycle.fail_held(conn, ctx, held.id, view.agent, f"{why} ({held.attempts} attempts)")
        else:
            lifecycle.release(conn, ctx, held.id, why, backoff=0.0)
        report.reassigned.append(held.id)
    _clear(
        conn,
        ctx,
        view.agent,
        STALLED,
        f"{view.agent}: {view.refs} taken back after {minutes(quiet)} without activity"
        + ("; it gets no new task while it still shows that turn" if view.reads_working else ""),
        report,
        alerts,
    )
    queries.set_watched(conn, view.agent, None)
    queries.taken_back(conn, view.agent, ctx.now)


def _clear(
    conn: Conn, ctx: Ctx, agent: str, kind: str, text: str, report: TickReport, alerts: OpenAlerts
) -> None:
    if alerts.clear(conn, ctx, agent, kind, text):
        report.cleared.append(f"{agent} {kind}")


def _check_reachable(
    conn: Conn, ctx: Ctx, settings: WatchSettings, report: TickReport, alerts: OpenAlerts
) -> None:
    """Unreachable: an agent's last N finished deliveries failed; cleared when one gets
    through. Each agent's last finished delivery is read at once; its last N only when that
    one failed."""
    count = settings.unreachable_after
    last = message_queries.last_finished_each(conn)
    for agent in ctx.agents:
        if agent in last and last[agent] is None:
            continue  # none finished
        if last.get(agent) == DeliveryState.delivered:
            text = f"{agent} is reachable again: a delivery got through"
            _clear(conn, ctx, agent, UNREACHABLE, text, report, alerts)
            continue
        rows = message_queries.last_finished_deliveries(conn, agent, count)
        if len(rows) == count and all(r.state == DeliveryState.failed for r in rows):
            text = f"{agent} unreachable: its last {count} deliveries failed ({rows[0].reason})"
            if alerts.open(conn, ctx, agent, UNREACHABLE, text):
                report.opened.append(f"{agent} {UNREACHABLE}")
        elif rows and rows[0].state == DeliveryState.delivered:
            text = f"{agent} is reachable again: a delivery got through"
            _clear(conn, ctx, agent, UNREACHABLE, text, report, alerts)


def minutes(seconds: float) -> str:
    """``45 s``, ``10 min`` or ``1.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
