"""A hook's permission request as a prompt (Claude Code's ``PermissionRequest``): its text,
its prompt opened with the choices its CLI gives (the pane's twin of its dialog closed: one
dialog, one item), and the prompts of a session whose turn is over closed.

The hook's JSON is read by ``core.agents._hook_events`` (``HookEvent``); the choices and the
JSON the hook answers with are its CLI's (``core.clis.base.HookDialog``: Claude Code's
``core.clis.claude_code.hook_dialog``). What is here takes the request's own fields
(``tool_name``, ``tool_input``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from core.agent_state import Signal
from core.context import Ctx
from core.dialogs import flood
from core.dialogs import permissions as prompts
from core.dialogs.permissions import HookProcess, Prompt
from core.formats.text import one_line, shorten
from core.models import PromptOption
from core.store import row_locks
from core.store.conn import Conn

log = logging.getLogger(__name__)
# a pane's prompt opened this long before a hook's PermissionRequest is that dialog's twin
TWIN_S = 30.0
TWIN_CHARS = 60  # characters of a tool's acting field a pane's twin dialog must show

# The fields of a tool's input that say what it does, shown last and in this order, so the
# tail a long prompt always shows is the end of what runs (``command``'s ``curl ... | sh``);
# ``description`` is the model's own account of it, shown first and marked as such; any other
# field goes between them.
ACTING = (
    "url", "file_path", "path", "notebook_path", "pattern", "old_string", "query", "statement",
    "sql", "code", "script", "command", "content", "new_string", "new_source", "edits",
)  # fmt: skip
DESCRIPTION = "description"


def request_text(payload: Mapping[str, Any], plan: bool) -> str:
    """The request in words: the tool and every field of its input, the model's own
    ``description`` first (marked as such), the fields that act last (``url``,
    ``file_path``, ``sql``, ``command``, ``content``...: the tail of a long request is
    always what runs); or (``plan``) the plan to approve."""
    tool = shorten(one_line(str(payload.get("tool_name") or "a tool")), 100)
    given = payload.get("tool_input")
    if plan:
        words = given.get("plan") if isinstance(given, Mapping) else None
        shown = words.strip() if isinstance(words, str) and words.strip() else "(no plan text)"
        return f"Approve Claude's plan?\n\n{shown}"
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


def open_hook_prompt(
    conn: Conn,
    ctx: Ctx,
    agent: str,
    text: str,
    options: tuple[PromptOption, ...],
    payload: Mapping[str, Any],
    *,
    task_id: int | None,
    session: str | None,
    hook: HookProcess | None,
    expires_at: float | None,
) -> Prompt:
    """Open the prompt of ``agent``'s hook request (``text``: ``request_text``, escaped),
    the ``hook`` process waiting for it until ``expires_at``; the pane's twins of its dialog
    are closed (the pane's look of the same dialog, written at once by another process,
    waits for this one: ``row_locks`` ``dialogs``). Beyond ``flood.PER_MINUTE`` a minute
    of the agent's hooks, it is rejected without asking, as a protocol agent's request is."""
    row_locks.hold_key(conn, "dialogs")
    opened = flood.recent(conn, ctx, agent, Signal.HOOK)
    found = prompts.open_prompt(
        conn,
        ctx,
        agent,
        Signal.HOOK,
        text,
        options,
        task_id=task_id,
        session=session,
        hook=hook,
        expires_at=expires_at,
        quiet=opened >= flood.PER_MINUTE,
    )
    if found.hook == hook and flood.reject_over(conn, ctx, found, opened):
        return prompts.get_prompt(conn, found.id)  # rejected unasked: its hook says so
    _close_pane_twins(conn, ctx, found, payload)
    return found


def _close_pane_twins(conn: Conn, ctx: Ctx, asked: Prompt, payload: Mapping[str, Any]) -> None:
    """Close the prompts the pane's text opened for the dialog this hook now asks about (the
    CLI draws its dialog while its ``PermissionRequest`` hook starts: under load the pane
    is read first): open ones of the agent opened less than ``TWIN_S`` before whose text
    agrees with the hook's (:func:`same_dialog`). One dialog, one item: the person answers
    the hook's. A twin already decided is left to be typed."""
    for twin in prompts.open_prompts(conn, asked.agent):
        if twin.source is not Signal.TEXT or not same_dialog(twin.text, payload):
            continue
        if asked.opened_at - twin.opened_at < TWIN_S:
            prompts.close(conn, ctx, twin.id, f"the same dialog, asked through its hook as "
                          f"R-{asked.id}")  # fmt: skip


def same_dialog(shown: str, payload: Mapping[str, Any]) -> bool:
    """Whether a pane's dialog text ``shown`` is the dialog the hook request ``payload``
    asks about: every field of its tool's input that acts (``command``, ``file_path``,
    ``url``...: its first ``TWIN_CHARS`` characters) shows in it, else (no such field) its
    tool's name does (an MCP tool's as Claude Code draws it: ``server - tool``). Spaces are
    not compared (the pane wraps and indents). A ``PermissionRequest`` "ls docs" is no twin
    of a dialog that asks to run ``curl ... | sh``."""
    pane = _squeezed(shown)
    given = payload.get("tool_input")
    acting = [_value(given[k]) for k in ACTING if isinstance(given, Mapping) and k in given]
    if acting:
        return all(_squeezed(value)[:TWIN_CHARS] in pane for value in acting)
    tool = str(payload.get("tool_name") or "")
    names = [tool]
    if tool.startswith("mcp__") and tool.count("__") >= 2:
        server, _, name = tool[len("mcp__") :].partition("__")
        names.append(f"{server}-{name}")
    return any(_squeezed(name) and _squeezed(name) in pane for name in names)


def _squeezed(text: str) -> str:
    return "".join(text.split())


def close_session(
    conn: Conn,
    ctx: Ctx,
    agent: str,
    session: str | None,
    *,
    event: str,
    evidence: str,
    at: float,
    pane_shows_dialog: Callable[[], bool],
) -> None:
    """Close ``agent``'s open hook prompts of ``session`` opened before its hook ``event``
    (with its ``evidence``) came ``at``: the agent's turn is over, so no dialog of it waits
    any more (its hook, if still waiting, returns no decision). A prompt whose dialog the
    pane showed stays open while ``pane_shows_dialog()`` (the pane, as last read, shows a
    dialog: the watcher closes it once it does not, answered in the terminal)."""
    if session is None:
        return
    why = f"the agent moved on ({evidence})"
    for prompt in prompts.open_prompts(conn, agent):
        ours = prompt.source is Signal.HOOK and prompt.session == session
        if not ours or prompt.opened_at > at:
            continue
        if prompt.pane_seen_at is not None and pane_shows_dialog():
            log.info("hook: %s of %s leaves R-%d open: its pane still shows it", event, agent,
                     prompt.id)  # fmt: skip
        else:
            prompts.close(conn, ctx, prompt.id, why)
