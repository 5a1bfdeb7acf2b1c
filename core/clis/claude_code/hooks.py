"""Claude Code's hooks: swarm's command in ``.claude/settings.local.json`` for each event it
listens to, and what each event's JSON (on the hook's stdin, ``hook_event_name``) says."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.agent_state import AgentState
from core.clis import hook_files
from core.clis.base import HookFiles, HookReading, UnknownHookEvent
from core.clis.claude_code import hook_dialog
from core.clis.claude_code.hook_dialog import EXIT_PLAN_MODE, PERMISSION_REQUEST
from core.clis.hook_files import Change
from core.formats.text import one_line, shorten

SETTINGS_FILE = Path(".claude") / "settings.local.json"
# Claude Code's events swarm listens to; the tool events match every tool.
EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    PERMISSION_REQUEST,
    "Notification",
    "Stop",
    "StopFailure",  # Claude Code 2.1: the turn ended by an API error (a rate limit, a 500)
    "SubagentStop",
    "SessionEnd",
)
STATES = {
    "SessionStart": AgentState.IDLE,
    "UserPromptSubmit": AgentState.WORKING,
    "PreToolUse": AgentState.WORKING,
    PERMISSION_REQUEST: AgentState.WAITING,
    "Stop": AgentState.IDLE,
    "StopFailure": AgentState.ERRORED,  # the turn ended by an API error (a rate limit: limited)
    "SubagentStop": AgentState.WORKING,  # a subagent finished; the main agent carries on
    "SessionEnd": AgentState.OFFLINE,
}
NOTIFICATIONS = {
    "permission_prompt": AgentState.WAITING,
    "idle_prompt": AgentState.IDLE,
    "elicitation_dialog": AgentState.WAITING,  # an MCP server asks the person for input
}
# Events after which no permission dialog of their session is still open (not PreToolUse,
# SubagentStop or a permission_prompt notification: they come while a dialog of the same
# session may still be open: parallel tools, subagents, the dialog itself)
ENDS_TURN = frozenset({"Stop", "StopFailure", "UserPromptSubmit", "SessionStart", "SessionEnd"})
# StopFailure's error that is a limit (the others: an API error the person must see)
LIMIT_ERRORS = frozenset({"rate_limit"})


def install(home: Path, folder: Path, command: str, wait_s: float) -> list[Change]:
    """Merge swarm's hooks into ``folder``'s Claude Code settings (the user's are kept)."""
    return [hook_files.install_json(home, folder / SETTINGS_FILE, command, EVENTS, wait_s)]


def remove(home: Path, folder: Path) -> list[Change]:
    """Take swarm's hooks out of ``folder``'s Claude Code settings."""
    return [hook_files.remove_json(home, folder / SETTINGS_FILE)]


def read(payload: Mapping[str, Any]) -> HookReading | None:
    """What one hook call's JSON says (None: it names no ``hook_event_name``)."""
    name = payload.get("hook_event_name")
    if not isinstance(name, str) or not name:
        return None
    state, evidence = _state_of(name, payload)
    if name == "Notification":
        ends = payload.get("notification_type") == "idle_prompt"
    else:
        ends = name in ENDS_TURN
    return HookReading(name, state, evidence, ends)


def _state_of(name: str, payload: Mapping[str, Any]) -> tuple[AgentState, str]:
    shown = shorten(one_line(name), 60)
    if name == "Notification":
        kind = str(payload.get("notification_type") or "")
        if kind not in NOTIFICATIONS:
            raise UnknownHookEvent(f"unknown notification type {shorten(one_line(kind), 60)!r}")
        message = str(payload.get("message") or "").strip()
        words = f"hook: Notification {kind}" + (f": {message}" if message else "")
        return NOTIFICATIONS[kind], shorten(one_line(words), 200)
    if name not in STATES:
        raise UnknownHookEvent(f"unknown hook event {shown!r}")
    detail = ""
    if name in ("PreToolUse", PERMISSION_REQUEST):
        detail = str(payload.get("tool_name") or "")
        if name == PERMISSION_REQUEST and detail == EXIT_PLAN_MODE:
            detail += ": a plan to approve"
    elif name in ("SessionStart",):
        detail = str(payload.get("source") or "")
    elif name == "SessionEnd":
        detail = str(payload.get("reason") or "")
    elif name == "StopFailure":
        return _failure(payload)
    words = f"hook: {name}" + (f" {detail}" if detail else "")
    return STATES[name], shorten(one_line(words), 200)


def _failure(payload: Mapping[str, Any]) -> tuple[AgentState, str]:
    """Claude Code's ``StopFailure``: ``limited`` for a rate limit, else ``errored``, with
    its error type and details in the evidence (the details are the API's words)."""
    error = payload.get("error")
    error = shorten(one_line(error), 40) if isinstance(error, str) and error else "unknown"
    details = payload.get("error_details")
    words = f"hook: StopFailure {error}"
    if isinstance(details, str) and details.strip():
        words += f": {one_line(details)}"
    state = AgentState.LIMITED if error in LIMIT_ERRORS else AgentState.ERRORED
    return state, shorten(words, 200)


HOOKS = HookFiles(
    files=(SETTINGS_FILE,), install=install, remove=remove, read=read, dialog=hook_dialog.DIALOG
)
