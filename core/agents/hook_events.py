"""What an agent CLI's hook says, read from its JSON by the CLI whose JSON it is (each CLI's
``hooks.read``: Claude Code's command hooks, the JSON on stdin with ``hook_event_name``, which
Codex CLI's hooks.json sends too; Codex CLI's ``notify`` program, ``"type":
"agent-turn-complete"``); and the JSON a ``PermissionRequest`` hook answers with.

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
from core.agents import judge as agent_judge
from core.agents import queries as agent_queries
from core.agents import signals as agent_signals
from core.clis import CLIS
from core.clis.base import UnknownHookEvent as UnknownHookEvent  # raised by parse
from core.clis.claude_code.hooks import EXIT_PLAN_MODE, PERMISSION_REQUEST
from core.clis.claude_code.permissions import suggestion_label, suggestions_of
from core.context import Ctx
from core.dialogs import permissions as prompts
from core.dialogs.permissions import PromptOption
from core.formats.text import one_line, shorten
from core.store.conn import Conn

log = logging.getLogger(__name__)
# a pane's prompt opened this long before a hook's PermissionRequest is that dialog's twin
TWIN_S = 30.0
TWIN_CHARS = 60  # characters of a tool's acting field a pane's twin dialog must show

# The choices of Claude Code's own permission dialog, in its order and with its keys.
ALLOW, ALWAYS, DENY = "1", "2", "3"
PERMISSION_OPTIONS = (
    PromptOption(ALLOW, "Yes"),
    PromptOption(ALWAYS, "Yes, and don't ask again"),
    PromptOption(DENY, "No"),
)
# Plan mode: Claude Code asks to leave it with the ExitPlanMode tool (its input: the plan);
# the person approves the plan (allow) or sends Claude back to planning (deny).
PLAN_OPTIONS = (
    PromptOption(ALLOW, "Yes, go ahead with the plan"),
    PromptOption(DENY, "No, keep planning"),
)
# The fields of a tool's input that say what it does, shown last and in this order, so the
# tail a long prompt always shows is the end of what runs (``command``'s ``curl ... | sh``);
# ``description`` is the model's own account of it, shown first and marked as such; any other
# field goes between them.
ACTING = (
    "url", "file_path", "path", "notebook_path", "pattern", "old_string", "query", "statement",
    "sql", "code", "script", "command", "content", "new_string", "new_source", "edits",
)  # fmt: skip
DESCRIPTION = "description"
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

    @property
    def asks_permission(self) -> bool:
        """A ``PermissionRequest``: swarm opens a prompt and waits for a person's decision."""
        return self.name == PERMISSION_REQUEST

    @property
    def asks_plan(self) -> bool:
        """A ``PermissionRequest`` to leave plan mode: a plan to approve."""
        return self.asks_permission and self.payload.get("tool_name") == EXIT_PLAN_MODE

    @property
    def options(self) -> tuple[PromptOption, ...]:
        """The choices a person has: a plan's two, else the request's own (``Yes``, one per
        rule or mode Claude Code suggests, ``No``: ``permission_options``)."""
        return PLAN_OPTIONS if self.asks_plan else permission_options(self.payload)

    def prompt_text(self) -> str:
        """The request in words: the tool and every field of its input, the model's own
        ``description`` first (marked as such), the fields that act last (``url``,
        ``file_path``, ``sql``, ``command``, ``content``...: the tail of a long request is
        always what runs); or the plan to approve."""
        tool = shorten(one_line(str(self.payload.get("tool_name") or "a tool")), 100)
        given = self.payload.get("tool_input")
        if self.asks_plan:
            plan = given.get("plan") if isinstance(given, Mapping) else None
            words = plan.strip() if isinstance(plan, str) and plan.strip() else "(no plan text)"
            return f"Approve Claude's plan?\n\n{words}"
        if not given:
            return f"Allow {tool}?"
        if not isinstance(given, Mapping):
            return f"Allow {tool}:\n{_value(given)}"
        return "\n".join([f"Allow {tool}:", *input_lines(given)])


def input_lines(given: Mapping[str, Any]) -> list[str]:
    """A tool's input as lines a person reads: the model's description first, the fields that
    act last (``ACTING``'s order), each ``name: value``."""
    return [_field(k, given[k]) for k in _field_order(given)]


def _field_order(given: Mapping[str, Any]) -> list[str]:
    """The input's keys: the model's description first, the others as given, the known
    acting fields last (in ``ACTING``'s order)."""
    acting = [k for k in ACTING if k in given]
    rest = [str(k) for k in given if k not in acting and k != DESCRIPTION]
    return ([DESCRIPTION] if DESCRIPTION in given else []) + rest + acting


def _field(key: str, value: Any) -> str:
    """``command: make test``; a value of several lines starts on the next line."""
    name = shorten(one_line(key), 60)
    if key == DESCRIPTION:
        name = "description (the model's words)"
    shown = _value(value)
    return f"{name}:\n{shown}" if "\n" in shown else f"{name}: {shown}"


def _value(value: Any) -> str:
    """A string as it is; anything else as JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


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
            return HookEvent(name, state, evidence, cwd, session, payload, ends)
    kind = payload.get("type")
    what = f"type {one_line(str(kind))[:60]!r}" if kind else "no hook_event_name"
    raise UnknownHookEvent(f"unknown hook event ({what})")


def permission_options(payload: Mapping[str, Any]) -> tuple[PromptOption, ...]:
    """A permission request's choices: ``1`` Yes, one per suggestion it carries (each does
    what it says: that suggestion alone is kept, ``decision_json``), and No last. Without
    suggestions, ``PERMISSION_OPTIONS``. (Before: "2. Yes, and don't ask again" kept every
    suggestion, whatever they were: 2.1.328 suggests a folder for the session and accept
    edits mode, and its own dialog says neither that way.)"""
    suggestions = suggestions_of(payload)
    if not suggestions:
        return PERMISSION_OPTIONS
    middle = [PromptOption(str(i), suggestion_label(s)) for i, s in enumerate(suggestions, 2)]
    return (PromptOption(ALLOW, "Yes"), *middle, PromptOption(str(len(middle) + 2), "No"))


def decision_json(key: str, by: str, payload: Mapping[str, Any]) -> str:
    """Claude Code's ``PermissionRequest`` answer for the chosen option: allow (a
    suggestion's option also keeps that suggestion, so it does what it says) or deny, the
    last option (a plan: Claude keeps planning)."""
    decision: dict[str, Any]
    plan = payload.get("tool_name") == EXIT_PLAN_MODE
    options = PLAN_OPTIONS if plan else permission_options(payload)
    if key == options[-1].key and plan:
        words = f"{by} did not approve the plan through swarm: keep planning."
        decision = {"behavior": "deny", "message": words}
    elif key == options[-1].key:
        decision = {"behavior": "deny", "message": f"Denied by {by} through swarm."}
    else:
        decision = {"behavior": "allow"}
        suggestions = suggestions_of(payload)
        chosen = int(key) - 2 if key.isdigit() else -1
        if not plan and 0 <= chosen < len(suggestions):
            decision["updatedPermissions"] = [dict(suggestions[chosen])]
    out = {"hookSpecificOutput": {"hookEventName": PERMISSION_REQUEST, "decision": decision}}
    return json.dumps(out)


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
    dialog."""
    when = ctx.now if at is None else at
    if not ask and at is not None and _hook_spoke_after(conn, agent, at):
        log.info("hook: %s of %s came before the hook's latest word: not recorded", event.name,
                 agent)  # fmt: skip
        return None
    text = prompts.escaped(event.prompt_text()) if ask else ""
    too_long = len(text) > prompts.PROMPT_TEXT_LIMIT
    evidence = event.evidence
    if too_long:
        evidence += f": {len(text):,} characters, too long to show: answer it in its terminal"
    work = event.name not in PROMPT_SUBMITTED  # a prompt given to it is not its progress
    seen = Observation(agent, Signal.HOOK, event.state, when, evidence, work=work)
    agent_signals.record(conn, seen)
    found = None
    if ask and not too_long:
        found = prompts.open_prompt(
            conn,
            ctx,
            agent,
            Signal.HOOK,
            text,
            event.options,
            task_id=held_task(conn, agent),
            session=event.session,
            hook=hook,
            expires_at=None if wait_s is None else ctx.now + wait_s,
        )
        _close_pane_twins(conn, ctx, found, event)
    elif not ask and event.ends_turn:
        _close_session(conn, ctx, agent, event, when)
    # the hook's observation and prompt are kept even when the agent cannot be judged
    judge = functools.partial(agent_judge.judge, conn, agent, ctx.now, fresh)
    verdict = agent_judge.isolated(conn, ctx, agent, judge)
    if verdict is not None:
        agent_judge.apply(conn, ctx, agent, verdict)
    return found if ask else verdict


def _close_pane_twins(conn: Conn, ctx: Ctx, asked: prompts.Prompt, event: HookEvent) -> None:
    """Close the prompts the pane's text opened for the dialog this hook now asks about (the
    CLI draws its dialog while its ``PermissionRequest`` hook starts: under load the pane
    is read first): open ones of the agent opened less than ``TWIN_S`` before whose text
    agrees with the hook's (:func:`same_dialog`). One dialog, one item: the person answers
    the hook's. A twin already decided is left to be typed."""
    for twin in prompts.open_prompts(conn, asked.agent):
        if twin.source is not Signal.TEXT or not same_dialog(twin.text, event):
            continue
        if asked.opened_at - twin.opened_at < TWIN_S:
            prompts.close(conn, ctx, twin.id, f"the same dialog, asked through its hook as "
                          f"R-{asked.id}")  # fmt: skip


def same_dialog(shown: str, event: HookEvent) -> bool:
    """Whether a pane's dialog text ``shown`` is the dialog ``event`` asks about: every field
    of its tool's input that acts (``command``, ``file_path``, ``url``...: its first
    ``TWIN_CHARS`` characters) shows in it, else (no such field) its tool's name does (an
    MCP tool's as Claude Code draws it: ``server - tool``). Spaces are not compared (the
    pane wraps and indents). A ``PermissionRequest`` "ls docs" is no twin of a dialog that
    asks to run ``curl ... | sh``."""
    pane = _squeezed(shown)
    given = event.payload.get("tool_input")
    acting = [_value(given[k]) for k in ACTING if isinstance(given, Mapping) and k in given]
    if acting:
        return all(_squeezed(value)[:TWIN_CHARS] in pane for value in acting)
    tool = str(event.payload.get("tool_name") or "")
    names = [tool]
    if tool.startswith("mcp__") and tool.count("__") >= 2:
        server, _, name = tool[len("mcp__") :].partition("__")
        names.append(f"{server}-{name}")
    return any(_squeezed(name) and _squeezed(name) in pane for name in names)


def _squeezed(text: str) -> str:
    return "".join(text.split())


def held_task(conn: Conn, agent: str) -> int | None:
    """The agent's task in hand (its oldest assigned or in progress), or None."""
    row = conn.execute(
        "SELECT min(id) AS id FROM tasks WHERE assignee = $1 AND status IN ('assigned', "
        "'in_progress')",
        (agent,),
    ).fetchone()
    return None if row["id"] is None else int(row["id"])


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
    return row is not None and float(row["at"]) > at


def _close_session(conn: Conn, ctx: Ctx, agent: str, event: HookEvent, at: float) -> None:
    """Close ``agent``'s open hook prompts of ``event``'s session opened before ``at``: its
    turn is over, so no dialog of it waits any more (its hook, if still waiting, returns no
    decision)."""
    if event.session is None:
        return
    why = f"the agent moved on ({event.evidence})"
    for prompt in prompts.open_prompts(conn, agent):
        ours = prompt.source is Signal.HOOK and prompt.session == event.session
        if not ours or prompt.opened_at > at:
            continue
        if prompt.pane_seen_at is not None and _pane_shows_dialog(conn, agent):
            log.info("hook: %s of %s leaves R-%d open: its pane still shows it", event.name,
                     agent, prompt.id)  # fmt: skip
        else:
            prompts.close(conn, ctx, prompt.id, why)


def _pane_shows_dialog(conn: Conn, agent: str) -> bool:
    """Whether the agent's pane, as last read, shows a dialog (its text observation says
    ``waiting``): a hook prompt the pane showed stays open until the pane no longer does
    (the watcher closes it then: answered in the terminal)."""
    try:
        seen = agent_signals.observations(conn, [agent]).get(agent, {}).get(Signal.TEXT)
    except ValueError:  # a stored row swarm cannot read: no evidence either way
        return False
    return seen is not None and seen.state is AgentState.WAITING


def abandon(conn: Conn, ctx: Ctx, prompt_id: int, why: str, fresh: agent_judge.Freshness) -> bool:
    """Close a hook's prompt that nothing waits for any more (its hook was stopped or is
    gone, or its wait is long over): the hook's own ``waiting`` for it then no longer holds
    the agent: while it is still the hook's latest word it becomes ``unknown`` with ``why``,
    and the agent is judged again. True when this closed it."""
    closed = prompts.close_if_open(conn, ctx, prompt_id, why)
    if closed is None:
        return False
    latest = agent_signals.observations(conn, [closed.agent]).get(closed.agent, {})
    seen = latest.get(Signal.HOOK)
    if seen is not None and seen.state is AgentState.WAITING and seen.at <= closed.opened_at:
        words = f"hook: prompt {prompt_id} abandoned: {why}"
        agent_signals.record(
            conn, Observation(closed.agent, Signal.HOOK, AgentState.UNKNOWN, ctx.now, words)
        )
    verdict = agent_judge.judge(conn, closed.agent, ctx.now, fresh)
    agent_judge.apply(conn, ctx, closed.agent, verdict)
    return True
