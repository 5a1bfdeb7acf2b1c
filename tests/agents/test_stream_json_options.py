"""Claude Code's permission request over stream-json (``core.hosts.stream_json``): its options
are Yes, one per suggestion it carries in words, No; choosing a suggestion keeps that one
alone (before: "Yes, and don't ask again" kept every suggestion, whatever they said)."""

from __future__ import annotations

from core.hosts.stream_json import _options, _suggestion

RULE = {"type": "addRules", "rules": [{"toolName": "Bash", "ruleContent": "touch x"}],
        "behavior": "allow", "destination": "localSettings"}  # fmt: skip
LOCAL = "(its local settings)"
MODE = {"type": "setMode", "mode": "acceptEdits", "destination": "session"}


def test_each_suggestion_is_an_option_in_words_between_yes_and_no() -> None:
    options = _options([RULE, MODE])
    assert [(o["id"], o["name"]) for o in options] == [
        ("allow", "Yes"),
        (
            "keep-0",
            "Yes, and don't ask again for Bash(touch x) in this project (its local settings)",
        ),
        ("keep-1", "Yes, and switch to accept edits mode for this session"),
        ("deny", "No"),
    ]
    assert [o["id"] for o in _options([])] == ["allow", "deny"]


def test_a_chosen_suggestion_is_the_one_kept() -> None:
    assert _suggestion([RULE, MODE], "keep-1") is MODE
    assert _suggestion([RULE, MODE], "keep-0") is RULE
    for other in ("allow", "deny", "keep-2", "keep-x", "keep--1", ""):
        assert _suggestion([RULE, MODE], other) is None
