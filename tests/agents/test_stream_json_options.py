"""Claude Code's permission request over stream-json (``core.clis.claude_code.stream_json``): its
options are Yes, one per suggestion it carries in words, No; choosing a suggestion keeps that
one alone (before: "Yes, and don't ask again" kept every suggestion, whatever they said)."""

from __future__ import annotations

from pathlib import Path

from core.clis.claude_code import plan_mode
from core.clis.claude_code.stream_json import _options, _suggestion

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


def test_plan_mode_shows_the_plan_file_it_wrote_else_its_words(tmp_path: Path) -> None:
    """The plan of plan mode's request: the plan file the model wrote or edited (the only
    file plan mode lets it write), else what it said in the turn; cut past PLAN_MAX."""
    seen = plan_mode.PlanSeen()
    seen.said("My plan: ")
    seen.said("touch x.")
    assert seen.plan() == "My plan: touch x."
    plan = tmp_path / ".claude" / "plans" / "swarm-a-plan.md"
    plan.parent.mkdir(parents=True)
    plan.write_text("# Plan\n1. touch x\n", encoding="utf-8")
    seen.tool("Read", {"file_path": str(tmp_path / "other.md")})
    seen.tool("Write", {"file_path": str(tmp_path / "notes.md")})  # not a plan file
    assert seen.plan() == "My plan: touch x."
    seen.tool("Write", {"file_path": str(plan), "content": "# Plan"})
    assert seen.plan() == "# Plan\n1. touch x"
    seen.turn_started()  # the next turn: its words start empty, the plan file stays
    assert seen.plan() == "# Plan\n1. touch x"
    plan.write_text("x" * (plan_mode.PLAN_MAX + 10), encoding="utf-8")
    assert seen.plan().endswith(f"… (cut: the whole plan is in {plan})")


def test_plan_mode_answers_leave_into_the_chosen_mode_or_keep_planning() -> None:
    accept = plan_mode.answer("plan-accept-edits", {})
    assert accept["behavior"] == "allow"
    assert accept["updatedPermissions"] == [MODE]
    approve = plan_mode.answer("plan-approve-edits", {})
    assert approve["updatedPermissions"][0]["mode"] == "default"
    assert plan_mode.answer("keep-planning", {})["behavior"] == "deny"
    assert plan_mode.answer(None, {}) == {"behavior": "deny", "message": "Cancelled."}
