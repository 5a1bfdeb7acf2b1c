"""Claude Code's permission suggestions in words: a ``PermissionRequest`` hook's or a
stream-json ``can_use_tool`` request's ``permission_suggestions`` (rules to keep, folders to
allow, a mode to switch to, each with where it is kept), offered to the person one option
each, so that choosing one does what it says (that suggestion alone is kept)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.formats.text import one_line, shorten

MAX_SUGGESTIONS = 7  # a request's suggestions offered (keys 2-8; No is at most 9)
SUGGESTION_CHARS = 200  # characters of a suggestion's option
DESTINATIONS = {
    "session": "for this session",
    "localSettings": "in this project (its local settings)",
    "projectSettings": "in this project",
    "userSettings": "in all your projects",
}
MODES = {"acceptEdits": "accept edits", "bypassPermissions": "bypass permissions"}


def suggestions_of(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The rules and modes a ``PermissionRequest`` suggests (``permission_suggestions``), at
    most ``MAX_SUGGESTIONS``; none when it has none or they are not objects."""
    found = payload.get("permission_suggestions")
    if not isinstance(found, list):
        return []
    return [s for s in found if isinstance(s, Mapping)][:MAX_SUGGESTIONS]


def suggestion_label(suggestion: Mapping[str, Any]) -> str:
    """A suggestion in words: ``Yes, and don't ask again for Bash(make test) in this
    project``, ``Yes, and allow access to /work for this session``, ``Yes, and switch to
    accept edits mode for this session`` (the agent's text on one line, shortened)."""
    kind = str(suggestion.get("type") or "")
    where = DESTINATIONS.get(str(suggestion.get("destination") or ""), "")
    if kind in ("addRules", "replaceRules"):
        rules = suggestion.get("rules")
        named = (
            [_rule_name(r) for r in rules if isinstance(r, Mapping)]
            if isinstance(rules, list)
            else []
        )
        verb = str(suggestion.get("behavior") or "allow")
        said = (
            f"don't ask again for {', '.join(named)}"
            if verb == "allow"
            else f"{verb} {', '.join(named)}"
        )
    elif kind == "addDirectories" and isinstance(suggestion.get("directories"), list):
        said = "allow access to " + ", ".join(str(d) for d in suggestion["directories"])
    elif kind == "setMode":
        mode = str(suggestion.get("mode") or "")
        said = f"switch to {MODES.get(mode, mode)} mode"
    else:
        said = f"apply its suggestion {kind or '(of no type)'}"
    return shorten(one_line(f"Yes, and {said} {where}".strip()), SUGGESTION_CHARS)


def _rule_name(rule: Mapping[str, Any]) -> str:
    tool, content = rule.get("toolName"), rule.get("ruleContent")
    return f"{tool}({content})" if content else str(tool)
