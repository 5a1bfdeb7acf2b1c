"""What an agent CLI's hook says, read from its JSON by the CLI whose JSON it is (each CLI's
``hooks.read``: Claude Code's command hooks, the JSON on stdin with ``hook_event_name``, which
Codex CLI's hooks.json sends too; Codex CLI's ``notify`` program, ``"type":
"agent-turn-complete"``), recorded as its agent's observation. A ``PermissionRequest``'s
prompt, its text and its answer are ``core.dialogs.hooks``'.

Each known event becomes a state with its evidence (``hook: Stop``). Unknown events and
malformed JSON raise ``UnknownHookEvent`` with a one-line reason: ``swarm hook`` logs it and
exits 0, since a hook must never fail its agent.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.agent_state import AgentState, Observation, Signal
from core.agents import _judge as agent_judge
from core.agents import _queries as agent_queries
from core.agents import _session_queries as session_queries
from core.agents import _signals as agent_signals
from core.clis import CLIS
from core.clis.base import HookDialog
from core.clis.base import UnknownHookEvent as UnknownHookEvent  # raised by parse
from core.context import Ctx
from core.dialogs import hooks as hook_prompts
from core.dialogs import permissions as prompts
from core.formats.text import one_line
from core.models import PromptOption
from core.store.conn import Conn

log = logging.getLogger(__name__)
# Events that say a prompt was submitted to the agent (by swarm or a person): the agent is
# busy with it, but that is no progress of its own (the stall clock does not restart).
PROMPT_SUBMITTED = frozenset(event for cli in CLIS for event in cli.turn_start)


@dataclass(frozen=True)
class HookEvent:
    """One hook call: the event, the state it shows and the evidence in plain words;
    ``ends_turn``: the agent's turn (and any permission dialog in it) is over, as its CLI
    reads the event (Claude Code's ``Stop``, ``UserPromptSubmit``, ``SessionStart``,
    ``SessionEnd``, an ``idle_prompt`` notification, Codex's turn complete; not
    ``PreToolUse``, ``SubagentStop`` or a ``permission_prompt`` notification: they come while
    a dialog of the same session may still be open: parallel tools, subagents, the dialog
    itself)."""

    name: str
    state: AgentState
    evidence: str
    cwd: str | None = None
    session: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    ends_turn: bool = False
    dialog: HookDialog | None = None  # its CLI's, when the event is that dialog's request

    @property
    def asks_permission(self) -> bool:
        """Its CLI's permission request (Claude Code's ``PermissionRequest``): swarm opens a
        prompt and waits for a person's decision."""
        return self.dialog is not None

    @property
    def asks_plan(self) -> bool:
        """A permission request to leave plan mode: a plan to approve."""
        return self.dialog is not None and self.dialog.plan(self.payload)

    def options(self) -> tuple[PromptOption, ...]:
        """The choices of its permission request, in its CLI's order (none: it asks none)."""
        return self.dialog.options(self.payload) if self.dialog is not None else ()

    def answer(self, key: str, by: str) -> str:
        """What its hook prints for the option ``key`` that ``by`` chose."""
        assert self.dialog is not None, "an answer to an event that asks nothing"
        return self.dialog.answer(key, by, self.payload)


def parse(raw: str) -> HookEvent:
    """The event of one hook call's JSON, read by the first CLI whose JSON it is."""
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise UnknownHookEvent(f"hook input is not JSON: {one_line(str(exc))[:120]}") from None
    if not isinstance(payload, dict):
        raise UnknownHookEvent("hook input is not a JSON object")
    cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
    session = payload.get("session_id") or payload.get("thread-id")
    session = str(session) if session is not None else None
    for cli in CLIS:
        reading = cli.hooks.read(payload) if cli.hooks is not None else None
        if reading is not None:
            name, state, evidence, ends = reading
            dialog = cli.hooks.dialog if cli.hooks is not None else None
            asks = dialog if dialog is not None and dialog.event == name else None
            return HookEvent(name, state, evidence, cwd, session, payload, ends, asks)
    kind = payload.get("type")
    what = f"type {one_line(str(kind))[:60]!r}" if kind else "no hook_event_name"
    raise UnknownHookEvent(f"unknown hook event ({what})")


def record(
    conn: Conn,
    ctx: Ctx,
    agent: str,
    event: HookEvent,
    fresh: agent_judge.Freshness,
    ask: bool,
    *,
    hook: prompts.HookProcess | None = None,
    wait_s: float | None = None,
    at: float | None = None,
) -> Any:
    """One hook call as one transaction: the hook's observation (and, ``ask``, its permission
    prompt, on the agent's current task, with the ``hook`` process waiting ``wait_s`` for
    it), then the agent's state judged at once. An event that ends the agent's turn closes
    the open prompts of its session opened before it. The prompt when ``ask`` (None when the
    request is too long to show: the agent's own dialog decides), else the verdict.

    ``at``: when the event came (the hook socket took it, and writes it after answering;
    default now, a hook writing its own event). Such an event written after a later hook of
    the agent was records nothing: it would put back an older state and close the newer
    dialog. The session it names is the agent's (``session_queries``), whenever it came."""
    when = ctx.now if at is None else at
    if event.session:  # its session files are charged to it from the sessions it names
        session_queries.name(conn, agent, event.session, when)
    if not ask and at is not None and _hook_spoke_after(conn, agent, at):
        log.info("hook: %s of %s came before the hook's latest word: not recorded", event.name,
                 agent)  # fmt: skip
        return None
    asked = hook_prompts.request_text(event.payload, event.asks_plan) if ask else ""
    text = prompts.escaped(asked) if ask else ""
    too_long = len(text) > prompts.PROMPT_TEXT_LIMIT
    evidence = event.evidence
    if too_long:
        evidence += f": {len(text):,} characters, too long to show: answer it in its terminal"
    work = event.name not in PROMPT_SUBMITTED  # a prompt given to it is not its progress
    seen = Observation(agent, Signal.HOOK, event.state, when, evidence, work=work)
    agent_signals.record(conn, seen)
    found = None
    if ask and not too_long:
        found = hook_prompts.open_hook_prompt(
            conn,
            ctx,
            agent,
            text,
            event.options(),
            event.payload,
            task_id=agent_queries.task_in_hand(conn, agent),
            session=event.session,
            hook=hook,
            expires_at=None if wait_s is None else ctx.now + wait_s,
        )
    elif not ask and event.ends_turn:
        hook_prompts.close_session(
            conn,
            ctx,
            agent,
            event.session,
            event=event.name,
            evidence=event.evidence,
            at=when,
            pane_shows_dialog=functools.partial(_pane_shows_dialog, conn, agent),
        )
    # the hook's observation and prompt are kept even when the agent cannot be judged
    verdict = agent_judge.judge_and_apply(conn, ctx, agent, fresh)
    return found if ask else verdict


def record_taken(
    conn: Conn, ctx: Ctx, taken: list[tuple[str, HookEvent, float]], fresh: agent_judge.Freshness
) -> None:
    """Events that ask nothing (agent, event, when it came), in their order, as one
    transaction (the hook socket's: one commit for what came meanwhile), each by its agent."""
    for agent, event, at in taken:
        record(conn, dataclasses.replace(ctx, actor=agent), agent, event, fresh, False, at=at)


def _hook_spoke_after(conn: Conn, agent: str, at: float) -> bool:
    """Whether ``agent``'s hook observation on record is later than ``at``."""
    row = agent_queries.hook_word(conn, agent)
    return row is not None and row.at > at


def _pane_shows_dialog(conn: Conn, agent: str) -> bool:
    """Whether the agent's pane, as last read, shows a dialog (its text observation says
    ``waiting``): a hook prompt the pane showed stays open until the pane no longer does
    (the watcher closes it then: answered in the terminal)."""
    try:
        seen = agent_signals.observations(conn, [agent]).get(agent, {}).get(Signal.TEXT)
    except ValueError:  # a stored row swarm cannot read: no evidence either way
        return False
    return seen is not None and seen.state is AgentState.WAITING


def release(
    conn: Conn, ctx: Ctx, closed: prompts.Prompt, why: str, fresh: agent_judge.Freshness
) -> None:
    """The hook's own ``waiting`` for a prompt just closed (``closed``, as it was: nothing
    waits for it any more, ``core.dialogs.dead_hooks.abandon``) no longer holds the agent:
    while it is still the hook's latest word it becomes ``unknown`` with ``why``, and the
    agent is judged again."""
    latest = agent_signals.observations(conn, [closed.agent]).get(closed.agent, {})
    seen = latest.get(Signal.HOOK)
    if seen is not None and seen.state is AgentState.WAITING and seen.at <= closed.opened_at:
        words = f"hook: prompt {closed.id} abandoned: {why}"
        agent_signals.record(
            conn, Observation(closed.agent, Signal.HOOK, AgentState.UNKNOWN, ctx.now, words)
        )
    verdict = agent_judge.judge(conn, closed.agent, ctx.now, fresh)
    agent_judge.apply(conn, ctx, closed.agent, verdict)
