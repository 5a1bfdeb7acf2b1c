"""What a protocol agent's host journal says (``core.hosts.wire``), written as swarm's records:
its ``protocol`` observation (the strongest signal), the permission prompts it asks with the
agent's own options, each turn's end with its stop reason and usage (``agent.turn``), and
what it said as its transcript (``core.agents._transcriber``).

A batch of one agent's entries is one transaction, and the observation keeps the host (its
pid) and the last entry taken in (``detail``: ``host``, ``seq``): an entry taken in before is
skipped, so a journal read again after a restart changes nothing twice.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core import agent_state
from core.agent_state import AgentState, Observation, Signal
from core.agents import _alerts as alerts
from core.agents import _judge as agent_judge
from core.agents import _queries as agent_queries
from core.agents import _signals as agent_signals
from core.agents._transcriber import TaskOfDelivery, Transcriber
from core.context import Ctx
from core.costs import turns as turn_cost
from core.dialogs import protocol_requests
from core.dialogs.protocol_requests import NO_ASKS, AgentAsks
from core.event_kinds import EventKind
from core.formats.text import one_line, shorten
from core.history import audit_queries
from core.hosts import turns
from core.hosts.answers import answers_of
from core.hosts.entries import (
    AgentError,
    Entry,
    Exited,
    HostError,
    PermissionAsked,
    PermissionDone,
    ReaderFailed,
    Ready,
    Refused,
    Session,
    Turn,
    TurnEnd,
    TurnError,
    Unreachable,
    Update,
)
from core.models import task_ref
from core.store.conn import Conn
from core.store.tables import insert_event

# updates that are no work of the agent's: its commands, modes, titles, usage, and the
# prompt's own words echoed back (a loaded session replays them)
QUIET = frozenset(
    {"available_commands_update", "current_mode_update", "config_option_update",
     "session_info_update", "usage_update", "user_message_chunk"}
)  # fmt: skip
_LIMIT = re.compile(
    r"(?i)\b429\b|rate.?limit|quota|resource.?exhausted|too many requests|usage limit"
)
UNREACHABLE = Unreachable.TYPE  # not the host's: the watcher could not reach it
API_RETRY = turns.API_RETRY  # an update: the agent retries a failed API call
READER_FAILED = ReaderFailed.TYPE  # not the host's: swarm's reader of its journal failed


@dataclass(frozen=True)
class Seen:
    """The state one entry shows, in words."""

    state: AgentState
    evidence: str
    work: bool = True
    until: float | None = None  # a limit's reset, when the agent said it


def record(
    conn: Conn,
    ctx: Ctx,
    agent: str,
    host: int,
    entries: Sequence[Entry],
    fresh: agent_judge.Freshness,
    task_of: TaskOfDelivery,
    asks: AgentAsks = NO_ASKS,
) -> int:
    """Take ``agent``'s journal entries (read once: ``core.hosts.entries.read``) from host
    ``host`` in, in order (one transaction), a turn's task read by ``task_of`` (the
    deliveries' owner's), then judge the agent; the last entry's number now on record. The
    agent's decided state and observations are read once, at the start
    (``agent_signals.look``)."""
    look = agent_signals.look(conn, agent)
    protocol = look.seen.get(Signal.PROTOCOL)
    if protocol is None and look.unreadable is not None:  # its row, maybe: its detail alone
        known_host, known_seq = agent_queries.protocol_cursor(conn, agent)
    else:
        known_host, known_seq = agent_queries.cursor_of(protocol.detail if protocol else None)
    host = host or known_host  # 0: the host was not reached (the cursor stays as it is)
    last = known_seq if known_host == host else 0
    seen: Seen | None = None
    taken: Seen | None = None  # a prompt taken among them: the turn began
    said: Transcriber | None = None
    for entry in entries:
        if entry.seq and entry.seq <= last:
            continue
        seen = _take(conn, ctx, agent, entry, task_of, asks) or seen
        taken = seen if isinstance(entry.body, Turn) else taken
        said = said or Transcriber(conn, agent, ctx.now, task_of)
        said.take(entry)
        last = max(last, entry.seq)
    if said is not None:
        said.finish()
    if seen is None:
        if last == known_seq and known_host == host:
            return last
        seen = Seen(protocol.state, protocol.evidence, protocol.work) if protocol else None
    detail = {"host": host, "seq": last}
    if taken is not None and seen is not None and seen.state is not AgentState.WORKING:
        # a whole turn between two looks (milliseconds): the agent worked, then ended it;
        # judged so, its state is idle since now, not since before the prompt
        _observe(conn, ctx, agent, taken, detail, fresh, look)
    if seen is not None:
        _observe(conn, ctx, agent, seen, detail, fresh, look)
    else:
        _judge(conn, ctx, agent, fresh)
    return last


def _observe(
    conn: Conn,
    ctx: Ctx,
    agent: str,
    seen: Seen,
    detail: dict[str, Any],
    fresh: agent_judge.Freshness,
    look: agent_signals.Look,
) -> None:
    """``seen`` as the agent's protocol observation now, judged (unless it only repeats the
    work its decided state already says: ``_decided_so``) on ``look``, the agent's rows as
    read at the take-in's start (its decided state read again once a judgement stored
    one)."""
    look.observed(agent_signals.record(conn, Observation(
        agent, Signal.PROTOCOL, seen.state, ctx.now, seen.evidence, until=seen.until,
        detail=detail, work=seen.work,
    )))  # fmt: skip
    if look.judged:  # a judgement of this take-in may have stored another state
        look.decided, look.judged = agent_signals.get_state(conn, agent), False
    if not _decided_so(conn, agent, seen, look.decided):
        observed = look.seen if look.unreadable is None else None  # else said by the judge
        agent_judge.judge_and_apply(conn, ctx, agent, fresh, look.decided, observed)
        look.judged = True


def _decided_so(conn: Conn, agent: str, seen: Seen, decided: agent_signals.StateRow) -> bool:
    """Whether ``agent``'s decided state is this working observation's own (the protocol
    signal, the same words) and it has no open question: a stream's next update. Judging
    it again would decide the same: no other signal outranked the protocol's then and time
    only makes them staler; another signal's limit is judged when it is recorded (a
    question is not: hence its check), and the watch tick judges every agent anyway."""
    if seen.state is not AgentState.WORKING or not seen.work:
        return False
    words = agent_signals.stored_evidence(seen.evidence)
    if (decided.state, decided.signal, decided.evidence) != (
        AgentState.WORKING, Signal.PROTOCOL, words
    ):  # fmt: skip
        return False
    return agent_queries.oldest_open_question(conn, agent) is None


def _judge(conn: Conn, ctx: Ctx, agent: str, fresh: agent_judge.Freshness) -> None:
    agent_judge.judge_and_apply(conn, ctx, agent, fresh)


def _take(
    conn: Conn, ctx: Ctx, agent: str, read: Entry, task_of: TaskOfDelivery, asks: AgentAsks
) -> Seen | None:
    """One entry's records; the state it shows (None: it shows none)."""
    match read.body:
        case PermissionAsked(unread=int()) as asked:
            return _unread_request(asked)
        case PermissionAsked() as asked:
            return _permission(conn, ctx, agent, asked, asks)
        case PermissionDone() as done:
            return _permission_done(conn, ctx, agent, done, asks)
        case Ready(session=session, lost=lost) | Session(session=session, lost=lost):
            return _session(conn, ctx, agent, session, lost)
        case Turn(delivery=delivery):
            words = f"protocol: prompt taken (delivery {delivery})"
            return Seen(AgentState.WORKING, words, work=False)
        case Update() as update:
            return _update(update, read.at)
        case TurnEnd() as end:
            return _turn_end(conn, ctx, agent, end, read, task_of, asks)
        case TurnError() as error:
            return _turn_error(conn, ctx, agent, error, read, task_of, asks)
    return _take_trouble(conn, ctx, agent, read, asks)


def _take_trouble(conn: Conn, ctx: Ctx, agent: str, read: Entry, asks: AgentAsks) -> Seen | None:
    """An entry of the agent's or its host's trouble: its exit, a failure, a refusal."""
    match read.body:
        case Exited(code=code):
            protocol_requests.close_open(conn, ctx, agent, "the agent exited", asks)
            return Seen(AgentState.OFFLINE, f"protocol: the agent exited ({code})")
        case HostError(message=message):
            protocol_requests.close_open(conn, ctx, agent, "the agent's host failed", asks)
            return Seen(AgentState.OFFLINE, f"protocol: {_words(message)}")
        case Unreachable(message=message, gone=gone):
            if gone:  # no host runs: nothing can answer its requests
                protocol_requests.close_open(
                    conn, ctx, agent, "the agent's host is not running", asks
                )
            return Seen(AgentState.OFFLINE, f"protocol: {_words(message)}")
        case AgentError(message=message) | ReaderFailed(message=message):
            return Seen(AgentState.ERRORED, f"protocol: {_words(message)}", work=False)
        case Refused() as refused:
            _refused(conn, ctx, agent, refused)
    return None


def _session(conn: Conn, ctx: Ctx, agent: str, session: str | None, lost: str) -> Seen:
    """A session open (``lost``: the saved one it replaced, not loaded)."""
    words = f"protocol: session {_short(session)} open" + (
        f" (a new one: its session {_short(lost)} could not be loaded, its conversation "
        "is not in it)" if lost else ""
    )  # fmt: skip
    if lost:
        _session_lost(conn, ctx, agent, session, lost)
    return Seen(AgentState.IDLE, words)


def _session_lost(conn: Conn, ctx: Ctx, agent: str, session: str | None, lost: str) -> None:
    """A "Needs you" item: the agent's saved session could not be loaded, so what it knew
    (of the task it holds) is not in its new one; cleared by its next turn's end."""
    task = agent_queries.task_in_hand(conn, agent)
    held = f"{task_ref(task)}, the task it holds" if task is not None else "its work"
    text = (
        f"{agent}'s saved session {_short(lost)} could not be loaded: its new session "
        f"{_short(session)} starts without that conversation, so {agent} does not remember "
        f"{held}: tell it what it needs (swarm send {agent} ...), or reassign or cancel "
        "its task"
    )
    alerts.open_alert(conn, ctx, agent, alerts.SESSION_LOST, text, task)


def _unread_request(asked: PermissionAsked) -> Seen:
    """A permission request too long to read (a host from before entries were bounded):
    no item can offer its options; the agent waits for an answer until its turn is
    stopped."""
    words = (
        f"protocol: a permission request of {asked.unread} bytes could not be read "
        f"({_short(asked.request)}): stop its turn (swarm desktop down, then up)"
    )
    return Seen(AgentState.ERRORED, words, work=False)


def _refused(conn: Conn, ctx: Ctx, agent: str, refused: Refused) -> None:
    """A caller the agent's host refused (a process of an agent: it may not answer, prompt
    or read a host), audited."""
    op, why, times = _words(refused.op) or "a request", _words(refused.why), refused.times
    again = f" ({times} times)" if times > 1 else ""
    text = f"{agent}'s protocol host refused {op}{again}: {why}"
    data = {"command": f"host {op}", "why": why, "pid": refused.pid, "times": times}
    insert_event(conn, ctx.now, EventKind.ACCESS_REFUSED, text, agent=agent, actor=agent, data=data)
    caller = f"pid {refused.pid}"
    audit_queries.insert_audit(conn, ctx.now, caller, agent, f"host {op}", False, f"refused: {why}")
    if times > 1:  # again and again: a person should look
        alerts.open_alert(conn, ctx, agent, alerts.HOST_REFUSALS, (
            f"{agent}'s own processes keep calling its protocol host ({op}, refused {times} "
            "times in a second): something in its session tries to answer, prompt or read "
            "its host; see swarm events --kind access.refused"
        ))  # fmt: skip


def _update(update: Update, at: float) -> Seen | None:
    kind = update.kind
    if kind in QUIET or update.outside:  # (outside a turn: a loaded session's history)
        return None
    if kind == API_RETRY:
        return _retrying(update, at)
    if kind in ("tool_call", "tool_call_update"):
        title = _words(update.title or None) or "a tool"
        status = update.status
        return Seen(
            AgentState.WORKING, f"protocol: tool call {title}" + (f" ({status})" if status else "")
        )
    if kind == "plan":
        return Seen(AgentState.WORKING, "protocol: planning")
    if kind == "agent_thought_chunk":
        return Seen(AgentState.WORKING, "protocol: thinking")
    return Seen(AgentState.WORKING, "protocol: answering")


def _retrying(update: Update, at: float) -> Seen:
    """An API call the agent retries: ``limited`` until the retry it said for a rate limit
    (a 429, or an error it names a rate limit), else ``errored`` while it retries."""
    retry = update.retry
    status, error = retry.status, _words(retry.error or None)
    wait = retry.delay_ms
    retry_at = agent_state.retry_at(at, wait / 1000) if wait is not None else None
    attempt = f"{_said_count(retry.attempt)} of {_said_count(retry.max_retries)}"
    what = f"API error {status}" if status is not None else "no answer from the API"
    words = f"protocol: {what}{f' ({error})' if error else ''}"
    if retry.counted:  # a retry its log said counts none
        words += f", retry {attempt}"
    if retry_at is not None:
        words += f" at {agent_judge.clock_time(retry_at)}"
    if status == 429 or _LIMIT.search(error):
        return Seen(AgentState.LIMITED, words, work=False, until=retry_at)
    return Seen(AgentState.ERRORED, words, work=False)


def _said_count(count: int | None) -> str:
    return "?" if count is None else str(count)


def _permission(conn: Conn, ctx: Ctx, agent: str, asked: PermissionAsked, asks: AgentAsks) -> Seen:
    title = _words(asked.title) or "a tool"
    protocol_requests.open_request(
        conn, ctx, agent, asked, functools.partial(agent_queries.task_in_hand, conn, agent), asks
    )
    return Seen(AgentState.WAITING, f"protocol: asks to {title}")


def _permission_done(
    conn: Conn, ctx: Ctx, agent: str, done: PermissionDone, asks: AgentAsks
) -> Seen:
    protocol_requests.close_request(conn, ctx, agent, done, asks)
    if answers_of(done.option) is not None:
        words = "answered with the person's answers"
    else:
        words = "cancelled" if done.option is None else f"answered {_words(done.option)}"
    return Seen(AgentState.WORKING, f"protocol: permission {words}", work=False)


def _turn_end(
    conn: Conn, ctx: Ctx, agent: str, end: TurnEnd, read: Entry, task_of: TaskOfDelivery,
    asks: AgentAsks,
) -> Seen:  # fmt: skip
    reason = _words(end.stop_reason or None) or "end_turn"
    protocol_requests.close_open(conn, ctx, agent, f"the turn ended ({reason})", asks)
    alerts.clear_alerts(conn, ctx, agent, {
        alerts.SESSION_LOST: f"{agent} took a turn in its new session",
        alerts.HOST_REFUSALS: f"{agent}'s turn ended ({reason})",
    })  # fmt: skip
    said = {"delivery": end.delivery, "stop_reason": end.stop_reason, "usage": end.usage,
            "cost_usd": end.cost_usd}  # fmt: skip
    text = f"{agent}'s turn ended: {reason}"
    _turn_event(conn, ctx, agent, _spent_for(conn, end.delivery, task_of), said, text, read)
    return Seen(AgentState.IDLE, f"protocol: turn ended ({reason})")


def _turn_error(
    conn: Conn, ctx: Ctx, agent: str, error: TurnError, read: Entry, task_of: TaskOfDelivery,
    asks: AgentAsks,
) -> Seen:  # fmt: skip
    message = _words(error.said or None) or "no message"
    details = f"{error.code} {message} {json.dumps(error.data, default=str)}"
    protocol_requests.close_open(conn, ctx, agent, "the turn failed", asks)
    said = {"delivery": error.delivery, "code": error.code, "message": message}
    text = f"{agent}'s turn failed: {message}"
    _turn_event(conn, ctx, agent, _spent_for(conn, error.delivery, task_of), said, text, read)
    state = AgentState.LIMITED if _LIMIT.search(details) else AgentState.ERRORED
    return Seen(state, f"protocol: the turn failed: {message}")


def _turn_event(
    conn: Conn, ctx: Ctx, agent: str, task_id: int | None, said: Mapping[str, Any],
    text: str, read: Entry,
) -> None:  # fmt: skip
    """The turn's ``agent.turn`` event (``said``: its data, those not None) and its cost."""
    data = {k: v for k, v in said.items() if v is not None}
    insert_event(conn, ctx.now, EventKind.AGENT_TURN, text, task_id=task_id,
                 agent=agent, actor=agent, data=data)  # fmt: skip
    turn_cost.record_protocol_turn(conn, ctx, agent, task_id, read)


def _spent_for(conn: Conn, delivery: int | None, task_of: TaskOfDelivery) -> int | None:
    """The task a turn was spent for: its delivery's (the host's ``turn`` entry names the
    delivery that started it; its message's task, None for a message about no task, such
    as a broadcast), not the one the agent holds when the turn's end is read (an agent that
    reported its task done inside the turn holds its next one by then). A delivery not
    known (none named, or gone with old history) is on no task: never guessed."""
    return None if delivery is None else task_of(conn, delivery)[1]


def _words(value: Any) -> str:
    return shorten(one_line(str(value)), 200) if value is not None else ""


def _short(value: Any) -> str:
    return shorten(one_line(str(value or "?")), 40)
