"""Claude Code's permission request over stream-json (``core.clis.claude_code.stream_json``): its
options are Yes, one per suggestion it carries in words, No; choosing a suggestion keeps that
one alone (before: "Yes, and don't ask again" kept every suggestion, whatever they said)."""

from __future__ import annotations

import os
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
    """The plan of plan mode's request: the plan file's text as the model's own tool calls
    made it (its ``Write``, then its edits), else what it said in the turn; cut past
    PLAN_MAX."""
    seen = plan_mode.PlanSeen()
    seen.said("My plan: ")
    seen.said("touch x.")
    assert seen.plan() == "My plan: touch x."
    plan = "/home/me/.claude/plans/swarm-a-plan.md"
    seen.tool("Read", {"file_path": plan})
    seen.tool("Write", {"file_path": str(tmp_path / "notes.md"), "content": "no"})  # no plan
    assert seen.plan() == "My plan: touch x."
    seen.tool("Write", {"file_path": plan, "content": "# Plan\n1. touch x\n"})
    assert seen.plan() == "# Plan\n1. touch x"
    seen.tool("Edit", {"file_path": plan, "old_string": "touch x", "new_string": "touch y"})
    seen.tool("MultiEdit", {"file_path": plan, "edits": [
        {"old_string": "# Plan", "new_string": "# The plan"},
        {"old_string": "absent", "new_string": "refused by the CLI: the file stays"},
    ]})  # fmt: skip
    seen.turn_started()  # the next turn: its words start empty, the plan file stays
    assert seen.plan() == "# The plan\n1. touch y"
    seen.tool("Write", {"file_path": plan, "content": "x" * (plan_mode.PLAN_MAX + 10)})
    assert seen.plan().endswith(f"… (cut: the whole plan is in {plan})")


def test_plan_mode_reads_no_file_the_model_names(tmp_path: Path) -> None:
    """The host runs outside the agent's sandbox, and the plan file's path is the model's to
    name: a file of the person's "under" ``.claude/plans/..``, a FIFO that never answers,
    ``/dev/zero``. Before, the host read the path named: the person's file was shown in
    the request (in Discord), a FIFO held the host, ``/dev/zero`` filled its memory. Now
    nothing is read: an edit of a file whose text the host never saw is no plan."""
    secret = tmp_path / "secret"
    secret.write_text("the person's key\n", encoding="utf-8")
    fifo = tmp_path / ".claude" / "plans" / "fifo.md"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    for path in (f"{tmp_path}/.claude/plans/../../secret", str(fifo), "/dev/zero/.claude/plans/"):
        seen = plan_mode.PlanSeen()
        seen.said("its words")
        seen.tool("Edit", {"file_path": path, "old_string": "a", "new_string": "b"})
        assert seen.plan() == "its words"  # at once: nothing read
    seen.tool("Write", {"file_path": str(fifo), "content": "a" * 1000})
    seen.tool("Edit", {"file_path": str(fifo), "old_string": "a", "new_string": "b" * 10**6,
                       "replace_all": True})  # fmt: skip
    assert seen.plan() == "its words"  # an edit that would make it 1 GB is not kept


def test_plan_mode_answers_leave_into_the_chosen_mode_or_keep_planning() -> None:
    accept = plan_mode.answer("plan-accept-edits", {})
    assert accept["behavior"] == "allow"
    assert accept["updatedPermissions"] == [MODE]
    approve = plan_mode.answer("plan-approve-edits", {})
    assert approve["updatedPermissions"][0]["mode"] == "default"
    assert plan_mode.answer("keep-planning", {})["behavior"] == "deny"
    assert plan_mode.answer(None, {}) == {"behavior": "deny", "message": "Cancelled."}
