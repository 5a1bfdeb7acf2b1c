"""Turns that end without a report.

An agent that holds a task, was seen working after the task's prompt reached it, and is now
judged ``idle`` (its hook's ``Stop``, its protocol's turn end, its idle pane) has ended its
turn without reporting: the task is still its own, neither done nor failed. The first such
end is nudged at once (one note: "your turn ended without reporting T-4: ..."); a turn that
ends after that nudge reached it, still without a report, opens an ``unreported`` alert, a
"Needs you" item, cleared when the agent no longer holds the task, works again, or ends a
turn of a prompt that reached it since (judged afresh). So an
unreported end is seen when the turn ends, not when the lease (``SWARM_LEASE``) runs out.

A turn's end is when the agent's state became ``idle``, or when its hook or its protocol
said the turn ended (their ``idle`` observation: a short turn between two looks counts too);
it must come after the prompt's delivery (the first silent end) or after the last nudge (the
second). An idle pane is such an end only when its look was captured after the delivery (a
look under way as the prompt was typed, recorded after it, shows the last turn's end). A
turn quicker than one look (idle at the look before the prompt and at the one after, never
seen working) ends at the first idle look one watch interval after the last message reached
the agent, none of its task's messages still on the way. A protocol turn that names the held
task's prompt ends it though recorded before the prompt's delivery (a turn that ended while
swarm was down, its prompt found taken before by the retry after the restart). The
nudge is counted with the stall rules' (``agent_watch.nudges``): one budget of nudges per
set of tasks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.agent_state import AgentState, Signal
from core.agents import STOPPED, UNREPORTED, OpenAlerts, clock_time, open_alert
from core.agents import signals as agent_signals
from core.context import Ctx
from core.delivery import message_queries, messages
from core.event_kinds import EventKind
from core.history.event_queries import newest_of_kinds
from core.models import task_ref
from core.sandbox import swarm_for
from core.store.conn import Conn
from core.store.tables import insert_event
from core.tasks import queries as task_queries
from core.watch import queries
from core.watch.settings import WatchSettings

TURN_END = "turn_end"  # the nudge's reason in its event's data


@dataclass(frozen=True)
class TurnEnd:
    """An agent whose turn is over while it holds tasks: when it ended."""

    agent: str
    tasks: tuple[int, ...]
    ended_at: float  # its state became idle, or its hook or protocol said the turn ended
    delivered_at: float  # the held task's prompt reached it


TURN_SIGNALS = (Signal.HOOK, Signal.PROTOCOL)  # their idle word is the turn's end itself
# the signals whose idle is a turn's end: the agent's own word, or its pane at its prompt (a
# still screen is no end: the agent may think without drawing)
IDLE_SIGNALS = (*TURN_SIGNALS, Signal.TEXT)
QUIET_S = 45.0  # idle this long holding a task, nothing on its way, no end seen: an item


def ended_turns(conn: Conn, ctx: Ctx, settle_s: float) -> list[TurnEnd]:
    """The agents judged idle now by their hook, protocol or pane, holding a task, whose
    turn ended after its prompt came: their state became idle then, or their hook (``Stop``)
    or protocol said so then, or their pane was idle at a look ``settle_s`` after the last
    message reached them (:func:`_quick_end`)."""
    return _scan(conn, ctx, settle_s)[0]


def _scan(conn: Conn, ctx: Ctx, settle_s: float) -> tuple[list[TurnEnd], list[TurnEnd]]:
    """:func:`ended_turns`, and the agents idle as long as ``QUIET_S`` holding a task whose
    turn's end none of those ways found, nothing on its way to them (:func:`_quiet`)."""
    held: dict[str, dict[int, float]] = {}  # agent -> its tasks, when each was assigned
    for task_id, agent, assigned_at, *_ in task_queries.active_tasks(conn):
        held.setdefault(agent, {})[task_id] = float(assigned_at or 0.0)
    if not held:
        return [], []
    states = agent_signals.get_states(conn)
    idle = {
        agent: state
        for agent in held
        if agent in ctx.agents
        and (state := states.get(agent, agent_signals.no_state(agent))).state is AgentState.IDLE
        and state.signal in IDLE_SIGNALS
    }
    if not idle:
        return [], []
    observed = agent_signals.observations(conn, list(idle), unreadable={})
    delivered_at = message_queries.prompt_delivered_each(conn)
    found, quiet = [], []
    for agent, state in idle.items():
        end = _end_of(conn, agent, state, held[agent], observed.get(agent, {}),
                      delivered_at.get(agent, 0.0), settle_s)  # fmt: skip
        if end is not None:
            found.append(end)
        elif (still := _quiet(conn, ctx, agent, state, held[agent])) is not None:
            quiet.append(still)
    return found, quiet


def _end_of(
    conn: Conn,
    agent: str,
    state: Any,
    assigned: dict[int, float],
    seen: dict[Signal, Any],
    delivered: float,
    settle_s: float,
) -> TurnEnd | None:
    """``agent``'s turn end after its held tasks' prompt came (None: none seen)."""
    tasks = list(assigned)
    ends = [state.since or 0.0]
    ends += [o.at for s, o in seen.items() if s in TURN_SIGNALS and o.state is AgentState.IDLE]
    if state.signal is Signal.TEXT:
        text = seen.get(Signal.TEXT)
        if text is None or _captured_before(text, delivered):
            return None  # its idle pane was captured before the prompt came: the last turn's end
        ends.append(_quick_end(conn, agent, tasks, text.at, settle_s))
    if delivered and max(ends) > delivered:
        return TurnEnd(agent, tuple(tasks), max(ends), delivered)
    if state.signal is Signal.PROTOCOL and max(ends) > min(assigned.values()):
        return _taken_before(conn, agent, assigned)  # an end after it was given a task
    return None


def _quiet(
    conn: Conn, ctx: Ctx, agent: str, state: Any, assigned: dict[int, float]
) -> TurnEnd | None:
    """An agent idle for ``QUIET_S`` or more holding tasks, the last message to it as old,
    none of its tasks' messages on the way, yet no turn end found: a task it would hold
    silently until its lease ran out. Its "end" is when it became idle."""
    since = float(state.since or 0.0)
    if ctx.now - since < QUIET_S:
        return None
    last = message_queries.last_delivered(conn, agent)
    reached = last[1] if last is not None else 0.0
    if ctx.now - max(since, reached) < QUIET_S:
        return None
    if any(message_queries.pending(conn, agent, task) for task in assigned):
        return None
    return TurnEnd(agent, tuple(assigned), since, reached)


def _taken_before(conn: Conn, agent: str, assigned: dict[int, float]) -> TurnEnd | None:
    """The end of the turn of a held task's prompt recorded before that prompt's delivery:
    swarm stopped while its host waited for the agent to take the prompt, the turn ended
    while swarm was down, and the retry after the restart found the prompt taken before
    (delivered then, after the end). The host's turn names its delivery: that end is the
    prompt's, though earlier; the prompt reached the agent by then, after it was queued."""
    turn = newest_of_kinds(conn, agent, (EventKind.AGENT_TURN,) * 3)
    delivery = _delivery_named(turn.data) if turn is not None else None
    if turn is None or delivery is None:
        return None
    said = message_queries.delivery_message(conn, delivery)
    if said is None or said.agent != agent or said.state != "delivered" or said.task_id is None:
        return None
    since = assigned.get(said.task_id)
    if since is None or said.created_at < since:  # not a prompt of the task as it is held now
        return None
    return TurnEnd(agent, tuple(assigned), float(turn.ts), said.created_at)


def _delivery_named(data: str | None) -> int | None:
    """The delivery a turn's event names (its data's ``delivery``), or None."""
    try:
        named = json.loads(data or "{}").get("delivery")
    except (ValueError, AttributeError):
        return None
    return named if isinstance(named, int) and not isinstance(named, bool) else None


def _quick_end(conn: Conn, agent: str, tasks: list[int], looked: float, settle_s: float) -> float:
    """A turn quicker than one look: the pane idle before the prompt and at a look after it,
    never seen working. Its end is that look (0: none) when the look began ``settle_s`` after
    the last message reached the agent (the CLI has drawn what it took by then) and no
    message of its tasks is on its way (a nudge queued or being typed: no turn of it yet)."""
    last = message_queries.last_paste(conn, agent)
    if last is None or last.state != "delivered":
        return 0.0
    if looked < float(last.updated_at) + settle_s:
        return 0.0
    if any(message_queries.pending(conn, agent, task) for task in tasks):
        return 0.0
    return looked


def _captured_before(text: Any, delivered: float) -> bool:
    """Whether the pane's latest look (its observation's time: when it was captured) began
    before the prompt's delivery: a look that waited for the reading or the store is
    recorded after a delivery it did not see."""
    return text is None or float(text.at) <= delivered


def check(
    conn: Conn, ctx: Ctx, settings: WatchSettings, alerts: OpenAlerts
) -> tuple[list[str], list[str]]:
    """Nudge each agent whose turn ended without a report for the first time; open an
    ``unreported`` alert at a silent end after that nudge; clear it once the agent holds no
    task or is not idle. The agents nudged and the agents whose alert opened. ``alerts``:
    the open alerts, as the tick read them."""
    found, still = _scan(conn, ctx, settings.interval_s)
    ends = {end.agent: end for end in found}
    quiet = {end.agent: end for end in still}
    stopped = {agent for agent, end in {**ends, **quiet}.items() if _stopped_since(conn, end)}
    for agent in ctx.agents:
        if agent not in ends and agent not in quiet and alerts.has(agent, UNREPORTED):
            alerts.clear(conn, ctx, agent, UNREPORTED, _cleared_text(conn, agent))
        if agent not in stopped and alerts.has(agent, STOPPED):
            alerts.clear(conn, ctx, agent, STOPPED, f"{agent} goes on: no longer stopped")
    opened = [a for a, end in quiet.items() if _quiet_item(conn, ctx, end, a in stopped, alerts)]
    if not ends:
        return [], opened
    rows = queries.watch_rows(conn)
    done = {
        end.agent: _stopped(conn, ctx, end, alerts)
        if end.agent in stopped
        else _judge_end(conn, ctx, settings, end, rows.get(end.agent), alerts)
        for end in ends.values()
    }
    nudged = [agent for agent, said in done.items() if said == "nudged"]
    return nudged, [agent for agent, said in done.items() if said == "opened"] + opened


def _quiet_item(conn: Conn, ctx: Ctx, end: TurnEnd, stopped: bool, alerts: OpenAlerts) -> bool:
    """The "Needs you" item of an agent idle holding its task with nothing on its way and no
    turn end seen (a stopped one's is the stop's item); True when it opened now."""
    if stopped:
        return _stopped(conn, ctx, end, alerts) == "stopped"
    if alerts.has(end.agent, UNREPORTED):
        return False
    refs = ", ".join(task_ref(t) for t in end.tasks)
    text = (
        f"{end.agent} holds {refs} but has been idle since {clock_time(end.ended_at)} with "
        f"nothing on its way to it, no report and no turn end seen: look at what it did, or "
        f"nudge, retry, reassign or cancel {task_ref(end.tasks[0])}"
    )
    return open_alert(conn, ctx, end.agent, UNREPORTED, text, end.tasks[0])


def _stopped_since(conn: Conn, end: TurnEnd) -> bool:
    """Whether a person stopped ``end``'s turn (``agent.stopped``) after the last message
    reached the agent: its end is the person's, not a silence to nudge."""
    stop = newest_of_kinds(conn, end.agent, (EventKind.AGENT_STOPPED,) * 3)
    if stop is None:
        return False
    last = message_queries.last_paste(conn, end.agent)
    reached = float(last.updated_at) if last is not None and last.state == "delivered" else 0.0
    return float(stop.ts) > max(end.delivered_at, reached)


def _stopped(conn: Conn, ctx: Ctx, end: TurnEnd, alerts: OpenAlerts) -> str | None:
    """A turn a person stopped: no nudge, no ``unreported`` item (the agent would carry on
    with what the person stopped); one "Needs you" item asking what next (``STOPPED``: go
    on, hand on, reassign, cancel, accept as done, fail); ``"stopped"`` when it opened now."""
    refs = ", ".join(task_ref(t) for t in end.tasks)
    text = (
        f"{end.agent} was stopped on {refs} and waits for what next: nudge it to go on, hand "
        "its task on or reassign it, cancel it, accept it as done, or fail it"
    )
    if alerts.has(end.agent, STOPPED):
        return None
    return "stopped" if alerts.open(conn, ctx, end.agent, STOPPED, text, end.tasks[0]) else None


def _judge_end(
    conn: Conn,
    ctx: Ctx,
    settings: WatchSettings,
    end: TurnEnd,
    row: queries.WatchRow | None,
    alerts: OpenAlerts,
) -> str | None:
    """Nudge a first silent end, open the alert at a later one: ``"nudged"``, ``"opened"``,
    or None (this end was nudged or alerted already). An alert of an earlier end is cleared
    when a prompt reached the agent since (its task reported and another taken, or a person's
    word, all between two looks): this end is judged afresh."""
    key = ",".join(str(t) for t in end.tasks)
    count, last = 0, None
    if row is None or row.watched_tasks != key:  # another set: its nudges from zero
        queries.set_watched(conn, end.agent, key)
    else:
        count, last = int(row.nudges or 0), row.last_nudge_at
    fresh = last is None or float(last) < end.delivered_at  # no nudge since the prompt came
    if fresh:  # an alert opened before this end's prompt came is of an earlier end
        refs = ", ".join(task_ref(t) for t in end.tasks)
        text = f"{end.agent} no longer has an unreported turn: prompted since, it holds {refs}"
        alerts.clear(conn, ctx, end.agent, UNREPORTED, text, opened_by=end.delivered_at)
    if fresh and count < settings.max_nudges:
        _nudge(conn, ctx, end, count + 1)
        return "nudged"
    nudged_at = None if fresh or last is None else float(last)
    if (fresh or (nudged_at is not None and end.ended_at > nudged_at)) and _alert(
        conn, ctx, end, nudged_at
    ):
        return "opened"
    return None


def _nudge(conn: Conn, ctx: Ctx, end: TurnEnd, count: int) -> None:
    """The one note of a first silent turn end, and its event."""
    ref = task_ref(end.tasks[0])
    agent = ctx.agents[end.agent]
    swarm = swarm_for(agent, ctx.settings.agent_swarm)
    how = f"report done on {ref} with the swarm MCP tools or run " if agent.mcp else "run "
    text = (
        f"Your turn ended without reporting {ref}: {how}`{swarm} task done {ref} --note "
        f'"what you did"` or `{swarm} task fail {ref} --reason "why"`, or keep working.'
    )
    message_id = messages.queue(
        conn, ctx, [end.agent], text, target=messages.note_to(end.agent), task_id=end.tasks[0]
    )
    queries.count_nudge(conn, end.agent, ctx.now)
    insert_event(
        conn,
        ctx.now,
        EventKind.AGENT_NUDGED,
        f"{end.agent} nudged about {ref}: its turn ended at {clock_time(end.ended_at)} "
        "without a report",
        task_id=end.tasks[0],
        agent=end.agent,
        actor=ctx.actor,
        data={"message": message_id, "nudge": count, "reason": TURN_END},
    )


def _alert(conn: Conn, ctx: Ctx, end: TurnEnd, nudged_at: float | None) -> bool:
    """The "Needs you" item of a second silent end (of a first one when no nudge may be
    sent: ``SWARM_MAX_NUDGES`` spent or 0); True when it opened now."""
    refs = ", ".join(task_ref(t) for t in end.tasks)
    nudged = f"nudged at {clock_time(nudged_at)}, " if nudged_at is not None else ""
    agent = ctx.agents.get(end.agent)
    look = (
        f"read its transcript (swarm attach {end.agent})"
        if agent is not None and agent.delivery == "protocol"
        else "look at its pane"
    )
    text = (
        f"{end.agent} ended its turn without reporting {refs} ({nudged}turn over at "
        f"{clock_time(end.ended_at)}): {look}, or retry, reassign or cancel "
        f"{task_ref(end.tasks[0])}"
    )
    return open_alert(conn, ctx, end.agent, UNREPORTED, text, end.tasks[0])


def _cleared_text(conn: Conn, agent: str) -> str:
    held = any(a == agent for _, a, *_ in task_queries.active_tasks(conn))
    why = "it is at work again" if held else "it holds no task now"
    return f"{agent} no longer has an unreported turn: {why}"
