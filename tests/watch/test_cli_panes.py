"""The real screens of Gemini CLI, Codex, Aider and opencode at their pinned versions
(captured unedited with ``tmux capture-pane -p -J`` against localmodel, saved as
``panes/<cli>/<cli>-<version>-<screen>.txt``): what each one reads as with its CLI's rule
file. Claude Code's are in test_claude_code_panes.py."""

from __future__ import annotations

import datetime as dt

import pytest

from core.agent_state import AgentState
from core.agents._text_rules import classify, load_rule_sets, sandbox_failure
from tests.watch.pane_labels import real_panes

NOW = dt.datetime(2027, 1, 15, 8, 0, tzinfo=dt.UTC).timestamp()
RULE_SETS = {rs.cli: rs for rs in load_rule_sets(None)[0]}
IDLE, WORKING, WAITING = AgentState.IDLE, AgentState.WORKING, AgentState.WAITING
LIMITED, ERRORED = AgentState.LIMITED, AgentState.ERRORED

# cli -> screen (without "<cli>-<version>-") -> (rule, state, reset in seconds or None)
READS: dict[str, dict[str, tuple[str, AgentState, float | None]]] = {
    "gemini": {
        "idle-start": ("input", IDLE, None),
        "interrupted": ("input", IDLE, None),  # Escape's "ℹ Request cancelled." over its input
        "answer": ("input", IDLE, None),
        "working": ("working", WORKING, None),
        "permission-dialog": ("confirmation", WAITING, None),
        "quota-dialog-switch": ("quota-dialog", WAITING, None),
        "quota-dialog-keep-trying": ("quota-dialog", WAITING, None),
        "quota-daily": ("quota", LIMITED, None),
        "quota-dialog": ("quota-dialog", WAITING, None),
        "quota-then-answer": ("input", IDLE, None),
        "error-400": ("api-error", ERRORED, None),
        # a per-minute 429: 0.61 retries on and on behind its spinner (7 min seen), no line
        # says so: working (cannot be seen on the pane; pane_labels says limited)
        "limit-429-minute": ("working", WORKING, None),
        # --approval-mode yolo: "*   Type your message" (before: unknown from the start)
        "yolo-start": ("input", IDLE, None),
        "yolo-working": ("working", WORKING, None),
        "yolo-shell-ran": ("input", IDLE, None),
        "auto-edit-start": ("input", IDLE, None),  # --approval-mode auto_edit
    },
    "codex": {
        "idle-start": ("input", IDLE, None),
        # Escape's "■ Conversation interrupted ...": a stop, no error (before: errored)
        "interrupted": ("input", IDLE, None),
        "answer": ("input", IDLE, None),
        "working": ("working", WORKING, None),
        # a turn's prompt with no "Worked for" (nor "■") below it: its answer is arriving
        # (before: idle, the composer; one look could not tell) or its stream is frozen
        "streaming": ("turn", WORKING, None),
        "stream-frozen": ("turn", WORKING, None),
        "hooks-review": ("hooks-review", WAITING, None),
        "new-chat-where": ("new-chat-where", WAITING, None),  # its /new in a git workspace
        "limit-429": ("rate-limited", LIMITED, None),
        "quota-exceeded": ("rate-limited", LIMITED, None),
        "limit-then-answer": ("input", IDLE, None),
        "reconnecting": ("reconnecting", ERRORED, None),
        "reconnecting-stream": ("reconnecting", ERRORED, None),
        # a 429 it retries: "Server is busy, reconnecting 1/5" (before: working)
        "busy-reconnecting": ("busy-reconnecting", LIMITED, None),
        "busy-reconnecting-3": ("busy-reconnecting", LIMITED, None),
        # its sandboxes and approval policies: read-only with on-request (its dialog for an
        # escalated command), and no sandbox nor approval at all
        "approval-dialog": ("approval", WAITING, None),
        "read-only-start": ("input", IDLE, None),
        "full-access-start": ("input", IDLE, None),
        "full-access-answer": ("input", IDLE, None),
        "error-500": ("error", ERRORED, None),
        "error-after-limit": ("error", ERRORED, None),  # before: limited (the 429 above it)
        # its own sandbox failed on its command (bwrap without user namespaces): its turn is
        # over and it reads idle; the failure is an alert of its own (sandbox_failure)
        "sandbox-failed": ("input", IDLE, None),
        "stream-disconnected": ("error", ERRORED, None),
    },
    "aider": {
        "idle-start": ("input", IDLE, None),
        "interrupted": ("input", IDLE, None),  # Ctrl+C's "^C again to exit" over its input
        "answer": ("input", IDLE, None),
        "working": ("waiting-for-model", WORKING, None),
        "confirm-command": ("confirm", WAITING, None),
        "limit-429-retrying": ("rate-limit", LIMITED, 0.5),  # "Retrying in 0.5 seconds..."
        "limit-429-gave-up": ("rate-limit", LIMITED, None),
        "limit-then-answer": ("input", IDLE, None),
        "error-500-retrying": ("api-error", ERRORED, None),
        "error-500-gave-up": ("api-error", ERRORED, None),
        "streaming": ("streaming", WORKING, None),  # before: idle (the echo read as input)
        # started as docs/agents.md says (the model's own "whole" edit format): a bare "> "
        "whole-idle-start": ("input", IDLE, None),
        "whole-answer": ("input", IDLE, None),
        "whole-streaming": ("streaming-bare", WORKING, None),  # before: unknown (no rule)
        "whole-interrupted": ("input", IDLE, None),
    },
    "opencode": {
        # 1.18's permission dialog, chosen with the arrows (before: errored)
        "permission-external-dir": ("permission", WAITING, None),
        "idle-start": ("input", IDLE, None),
        # Escape twice: "▣  Build · Local model · interrupted"
        "interrupted": ("input", IDLE, None),
        "answer": ("input", IDLE, None),
        "working": ("working", WORKING, None),
        # one Escape of its two: "esc again to interrupt" for 5 s, the turn running on
        "interrupt-armed": ("working", WORKING, None),
        "limit-429-retrying": ("retrying-limit", LIMITED, 4),  # "[retrying in 4s attempt #2]"
        "limit-429-retrying-live": ("retrying-limit", LIMITED, 1),  # "... try again in 1s."
        "limit-429-gave-up": ("gave-up-limit", LIMITED, 1),
        "limit-then-answer": ("input", IDLE, None),
        "error-500-retrying": ("retrying", ERRORED, None),
        "error-500-gave-up": ("api-error", ERRORED, None),
    },
}


def real_pane(cli: str, screen: str) -> list[str]:
    """A saved real pane, as captured."""
    return real_panes(cli)[screen].read_text(encoding="utf-8").split("\n")


CASES = [(cli, screen) for cli, screens in READS.items() for screen in screens]


@pytest.mark.parametrize(("cli", "screen"), CASES, ids=[f"{c}/{s}" for c, s in CASES])
def test_each_real_pane_reads_as_its_state(cli: str, screen: str) -> None:
    """Before (issue 38, item 4): opencode had no limit or error rule (its retries read
    working, its given-up errors idle); Aider's 429 and 500 retries read working (its spinner
    below them); Codex's API-key 429 and spent quota read errored (any
    "■" line), its "Reconnecting... 1/5" working (its "esc to interrupt"); Gemini's
    "exhausted your daily quota" and "✕ [API Error: ...]" read idle (11 and 9 lines up: the
    rules looked at the last 8, none knew "exhausted"), its quota dialogs as nothing."""
    rule, state, reset_in = READS[cli][screen]
    found = classify(RULE_SETS[cli], real_pane(cli, screen), NOW)
    assert found is not None and (found.rule, found.state) == (rule, state)
    assert found.until == (None if reset_in is None else NOW + reset_in)


@pytest.mark.parametrize("cli", sorted(READS))
def test_every_real_pane_is_in_the_table(cli: str) -> None:
    assert sorted(real_panes(cli)) == sorted(READS[cli])


@pytest.mark.parametrize(("cli", "screen"), CASES, ids=[f"{c}/{s}" for c, s in CASES])
def test_only_codexs_failed_sandbox_pane_shows_a_sandbox_failure(cli: str, screen: str) -> None:
    """Codex's own line under its command's "• Exited (status 1)"; no other saved pane."""
    found = sandbox_failure(RULE_SETS[cli], real_pane(cli, screen))
    if (cli, screen) != ("codex", "sandbox-failed"):
        assert found is None, found
        return
    assert found is not None and found.rule == "sandbox-exec"
    assert found.line.startswith("└ bwrap: Creating new namespace failed: nesting depth")
    assert "-s danger-full-access" in found.hint


def test_codexs_approval_is_shown_from_the_command_it_runs_with_its_own_options() -> None:
    """Issue 53, item 6: the item's first line is what is approved, not the transcript above
    (before: "› say hello" first), and its options are the dialog's, in its words and order."""
    found = classify(RULE_SETS["codex"], real_pane("codex", "approval-dialog"), NOW)
    assert found is not None and found.state is WAITING
    shown = [line.strip() for line in found.prompt.splitlines()]
    assert shown[:2] == ["• Running touch made-by-localmodel.txt",
                         "Would you like to run the following command?"]  # fmt: skip
    assert [(o.key, o.label) for o in found.options] == [
        ("1", "Yes, proceed (y)"),
        ("2", "Yes, and don't ask again for commands that start with "
              "`touch made-by-localmodel.txt` (p)"),
        ("3", "No, and tell Codex what to do differently (esc)"),
    ]  # fmt: skip


def test_geminis_permission_is_shown_from_its_box_not_the_transcript_above() -> None:
    """Before: the item's text began with the transcript above the dialog (a Gemini item's
    summary was "│ T-13 [done] …"); now with the dialog's box, the command first."""
    found = classify(RULE_SETS["gemini"], real_pane("gemini", "permission-dialog"), NOW)
    assert found is not None and found.state is WAITING
    shown = [line.strip() for line in found.prompt.splitlines()]
    assert shown[:2] == ["╭───╮", "│ ? Shell  touch made-by-localmodel.txt │"]
    assert not any("make a file" in line for line in shown)
    assert [o.label for o in found.options] == [
        "Allow once", "Allow for this session", "No, suggest changes (esc)"
    ]  # fmt: skip


def test_geminis_quota_dialogs_are_asked_with_their_options() -> None:
    switch = classify(RULE_SETS["gemini"], real_pane("gemini", "quota-dialog-switch"), NOW)
    assert switch is not None and switch.line == "Usage limit reached for gemini-3.5-flash-lite."
    assert [(o.key, o.label) for o in switch.options] == [
        ("1", "Switch to gemini-3.1-pro-preview-customtools"), ("2", "Stop"),
    ]  # fmt: skip
    keep = classify(RULE_SETS["gemini"], real_pane("gemini", "quota-dialog-keep-trying"), NOW)
    assert keep is not None and [o.label for o in keep.options] == ["Keep trying", "Stop"]
    assert any("/model to switch models." in line for line in keep.prompt.splitlines())


def test_codexs_new_chat_question_is_a_dialog_with_its_two_choices() -> None:
    """0.169's /new in a git workspace asks where the new chat runs: a dialog (nothing is
    pasted into it), its choices without their descriptions (before: idle, the "›" line)."""
    found = classify(RULE_SETS["codex"], real_pane("codex", "new-chat-where"), NOW)
    assert found is not None and (found.rule, found.state) == ("new-chat-where", WAITING)
    assert [(o.key, o.label) for o in found.options] == [
        ("1", "Use current Git worktree"), ("2", "Create new Git worktree"),
    ]  # fmt: skip


def test_an_error_the_next_answer_follows_no_longer_counts() -> None:
    """The daily-quota error stays 12 lines up after a short next turn: the next answer
    ("✦ goodbye from localmodel") below it ends it (``ended_by``), the input box is idle.
    Cut above that answer, the same screen reads limited."""
    lines = real_pane("gemini", "quota-then-answer")
    found = classify(RULE_SETS["gemini"], lines, NOW)
    assert found is not None and found.state is IDLE
    answer = next(i for i, line in enumerate(lines) if line.startswith("✦ goodbye"))
    still = classify(RULE_SETS["gemini"], lines[:answer], NOW)
    assert still is not None and (still.rule, still.state) == ("quota", LIMITED)


def test_codexs_limits_no_answer_followed_still_count_an_answered_one_does_not() -> None:
    """limit-then-answer: a 429, then a spent quota, then an answer ("• goodbye from
    localmodel"): idle; cut above the answer, the same screen reads limited, by the newer
    of the two (a newer "■" below ends an older one)."""
    lines = real_pane("codex", "limit-then-answer")
    assert classify(RULE_SETS["codex"], lines, NOW).state is IDLE  # type: ignore[union-attr]
    answer = next(i for i, line in enumerate(lines) if line.startswith("• goodbye"))
    still = classify(RULE_SETS["codex"], lines[:answer], NOW)
    assert still is not None and (still.rule, still.state) == ("rate-limited", LIMITED)
    assert still.line.startswith("■ Quota exceeded. Check your plan and billing details.")
