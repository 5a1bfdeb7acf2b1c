"""A Claude Code permission request's options as swarm offers them (issue 53, item 6): the
request's own choices, each doing what it says. The payload is the real one of Claude Code
2.1.328's ``PermissionRequest`` hook (its Bash dialog, captured with a hook that saved its
input), whose dialog said "1. Yes / 2. Yes, and always allow access to <work> from this
project / 3. Yes, and switch to auto mode / 4. No"."""

from __future__ import annotations

import json
from pathlib import Path

from core.clis.claude_code.hook_dialog import PERMISSION_OPTIONS, decision_json, permission_options

PAYLOAD = json.loads(
    (
        Path(__file__).parent / "hook_payloads" / "claude-code-2.1.328-permission-request.json"
    ).read_text(encoding="utf-8")
)


def decision(key: str) -> dict[str, object]:
    said = json.loads(decision_json(key, "Ada", PAYLOAD))["hookSpecificOutput"]["decision"]
    assert isinstance(said, dict)
    return said


def test_each_suggestion_is_an_option_that_keeps_that_suggestion_alone() -> None:
    """Before: "2. Yes, and don't ask again" kept both suggestions (the folder for the
    session and accept edits mode), neither of which its words said."""
    work = PAYLOAD["cwd"]
    assert [(o.key, o.label) for o in permission_options(PAYLOAD)] == [
        ("1", "Yes"),
        ("2", f"Yes, and allow access to {work} for this session"),
        ("3", "Yes, and switch to accept edits mode for this session"),
        ("4", "No"),
    ]
    suggestions = PAYLOAD["permission_suggestions"]
    assert decision("1") == {"behavior": "allow"}
    assert decision("2") == {"behavior": "allow", "updatedPermissions": [suggestions[0]]}
    assert decision("3") == {"behavior": "allow", "updatedPermissions": [suggestions[1]]}
    assert decision("4") == {"behavior": "deny", "message": "Denied by Ada through swarm."}


def test_a_request_without_suggestions_keeps_the_three_options() -> None:
    bare = {k: v for k, v in PAYLOAD.items() if k != "permission_suggestions"}
    assert permission_options(bare) == PERMISSION_OPTIONS
    assert (
        json.loads(decision_json("3", "Ada", bare))["hookSpecificOutput"]["decision"]["behavior"]
        == "deny"
    )


def test_hostile_suggestions_are_words_on_one_line_never_keys_beyond_nine() -> None:
    rule = {"toolName": "Bash\n\x1b[31m", "ruleContent": "x" * 500}
    many = [{"type": "addRules", "rules": [rule], "behavior": "allow"}] * 20
    options = permission_options({**PAYLOAD, "permission_suggestions": [*many, "not an object"]})
    assert [o.key for o in options] == [str(k) for k in range(1, 10)]
    assert all(
        "\n" not in o.label and "\x1b" not in o.label and len(o.label) <= 200 for o in options
    )
