"""Claude Code's permission dialog through its ``PermissionRequest`` hook: the choices a
person has (its own dialog's, one option per suggestion it carries, or a plan's two) and the
JSON the hook prints for the one chosen (``DIALOG``, the hooks' ``HookFiles.dialog``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from core.clis import hook_files
from core.clis.base import HookDialog
from core.clis.claude_code import ask_user
from core.clis.claude_code.permissions import suggestion_label, suggestions_of
from core.models import ALLOW_ALWAYS, ALLOW_ONCE, REJECT_ONCE, PromptOption

PERMISSION_REQUEST = hook_files.PERMISSION_EVENT
EXIT_PLAN_MODE = "ExitPlanMode"  # the tool by which it asks to leave plan mode
# The choices of Claude Code's own permission dialog, in its order and with its keys.
ALLOW, ALWAYS, DENY = "1", "2", "3"
PERMISSION_OPTIONS = (
    PromptOption(ALLOW, "Yes", ALLOW_ONCE),
    PromptOption(ALWAYS, "Yes, and don't ask again", ALLOW_ALWAYS),
    PromptOption(DENY, "No", REJECT_ONCE),
)
# Plan mode: Claude Code asks to leave it with the ExitPlanMode tool (its input: the plan);
# the person approves the plan (allow) or sends Claude back to planning (deny).
PLAN_OPTIONS = (
    PromptOption(ALLOW, "Yes, go ahead with the plan", ALLOW_ONCE),
    PromptOption(DENY, "No, keep planning", REJECT_ONCE),
)


def asks_plan(payload: Mapping[str, Any]) -> bool:
    """A request to leave plan mode (the ``ExitPlanMode`` tool): a plan to approve."""
    return payload.get("tool_name") == EXIT_PLAN_MODE


def request_options(payload: Mapping[str, Any]) -> tuple[PromptOption, ...]:
    """The choices a person has: a plan's two, else the request's own (``Yes``, one per
    rule or mode Claude Code suggests, ``No``: ``permission_options``)."""
    return PLAN_OPTIONS if asks_plan(payload) else permission_options(payload)


def permission_options(payload: Mapping[str, Any]) -> tuple[PromptOption, ...]:
    """A permission request's choices: ``1`` Yes, one per suggestion it carries (each does
    what it says: that suggestion alone is kept, ``decision_json``), and No last. Without
    suggestions, ``PERMISSION_OPTIONS``. One option per suggestion, not one "Yes, and don't
    ask again" keeping them all: Claude Code 2.1.328 suggests a folder for the session and
    accept-edits mode together, and its own dialog offers neither that way."""
    suggestions = suggestions_of(payload)
    if not suggestions:
        return PERMISSION_OPTIONS
    middle = [
        PromptOption(str(i), suggestion_label(s), ALLOW_ALWAYS)
        for i, s in enumerate(suggestions, 2)
    ]
    no = PromptOption(str(len(middle) + 2), "No", REJECT_ONCE)
    return (PERMISSION_OPTIONS[0], *middle, no)


def decision_json(key: str, by: str, payload: Mapping[str, Any]) -> str:
    """Claude Code's ``PermissionRequest`` answer for the chosen option: allow (a
    suggestion's option also keeps that suggestion, so it does what it says) or deny, the
    last option (a plan: Claude keeps planning)."""
    decision: dict[str, Any]
    plan = asks_plan(payload)
    options = request_options(payload)
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


def questions(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The model's own questions (``AskUserQuestion``'s input), None for any other tool."""
    given = payload.get("tool_input")
    if payload.get("tool_name") != ask_user.ASK_USER or not isinstance(given, Mapping):
        return None
    return given


def questions_json(reply: str, payload: Mapping[str, Any]) -> str:
    """The ``PermissionRequest`` answer to the model's questions: allow, the input given back
    with the person's answers (as over stream-json, ``ask_user.answer``)."""
    decision = ask_user.answer(reply, questions(payload) or {})
    return json.dumps({"hookSpecificOutput": {"hookEventName": PERMISSION_REQUEST,
                                              "decision": decision}})  # fmt: skip


DIALOG = HookDialog(
    PERMISSION_REQUEST, asks_plan, request_options, decision_json, questions, questions_json
)
