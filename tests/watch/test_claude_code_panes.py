"""Claude Code 2.1.328's real screens (captured unedited with ``tmux capture-pane -p -J``
against localmodel, saved as ``panes/claude-code/claude-code-2.1.328-*.txt``): what each one
reads as with the claude-code rule file."""

from __future__ import annotations

import datetime as dt

import pytest

from core.agent_state import AgentState
from core.tasks.prompts import PromptOption
from core.watch.text_rules import BUNDLED_DIR, classify, load_rule_sets

VERSION = "2.1.328"
NOW = dt.datetime(2027, 1, 15, 8, 0, tzinfo=dt.UTC).timestamp()
RULE_SETS, _ = load_rule_sets(None)
CLAUDE = {rs.cli: rs for rs in RULE_SETS}["claude-code"]

# fixture (without "claude-code-VERSION-") -> (rule, state, reset in seconds or None)
REAL = {
    "idle-start": ("input", AgentState.IDLE, None),
    "idle-past-prompts": ("input", AgentState.IDLE, None),
    "after-approve": ("input", AgentState.IDLE, None),
    "working-slow-stream": ("working", AgentState.WORKING, None),
    "stall-4s": ("working", AgentState.WORKING, None),
    "permission-dialog": ("permission", AgentState.WAITING, None),
    "mcp-permission-dialog": ("permission", AgentState.WAITING, None),
    "limit-429-retrying": ("api-retrying", AgentState.LIMITED, 17),
    "limit-429-rejected": ("rate-limited", AgentState.LIMITED, None),
    "overload-529-retrying": ("overloaded", AgentState.LIMITED, 2),
    "error-500": ("api-error", AgentState.ERRORED, None),
    "stall-waiting-for-api": ("api-wait", AgentState.ERRORED, None),
    "stall-released": ("input", AgentState.IDLE, None),
    "bypass-warning": ("bypass-warning", AgentState.WAITING, None),
    "auto-mode-start": ("input", AgentState.IDLE, None),
}


def real_pane(name: str) -> list[str]:
    """A saved real pane of Claude Code VERSION, as captured."""
    path = BUNDLED_DIR / "panes" / "claude-code" / f"claude-code-{VERSION}-{name}.txt"
    return path.read_text(encoding="utf-8").split("\n")


@pytest.mark.parametrize("name", sorted(REAL))
def test_each_real_pane_reads_as_its_state(name: str) -> None:
    """Before: the 429s read as idle, the 500 as idle (the rule wanted ``⎿``), the 429 and
    529 retries and the frozen stream's "Waiting for API response" as working."""
    rule, state, reset_in = REAL[name]
    found = classify(CLAUDE, real_pane(name), NOW)
    assert found is not None and (found.rule, found.state) == (rule, state)
    assert found.until == (None if reset_in is None else NOW + reset_in)


def test_every_real_pane_is_in_the_table() -> None:
    saved = sorted(
        p.name.removeprefix(f"claude-code-{VERSION}-").removesuffix(".txt")
        for p in (BUNDLED_DIR / "panes" / "claude-code").glob(f"claude-code-{VERSION}-*.txt")
    )
    assert saved == sorted(REAL)


def test_the_four_option_permission_dialog() -> None:
    found = classify(CLAUDE, real_pane("permission-dialog"), NOW)
    assert found is not None and found.state is AgentState.WAITING
    assert found.options == (
        PromptOption("1", "Yes"),
        PromptOption("2", "Yes, and always allow access to /tmp/ccpanes/work from this project"),
        PromptOption("3", "Yes, and switch to auto mode · auto mode handles these prompts for you"),
        PromptOption("4", "No"),
    )
    shown = found.prompt.splitlines()
    assert " touch created-by-localmodel.txt" in shown and shown[-1].strip().startswith("Esc")
    assert found.questions and not found.ambiguous


def test_the_mcp_three_option_dialog() -> None:
    found = classify(CLAUDE, real_pane("mcp-permission-dialog"), NOW)
    assert found is not None and found.state is AgentState.WAITING
    assert [o.label for o in found.options] == [
        "Yes",
        "Yes, and don't ask again for swarm — Report commands in /tmp/ccpanes/work",
        "No",
    ]
    assert any('status: "done"' in line for line in found.prompt.splitlines())


def test_idle_is_read_from_the_input_box_not_from_past_prompts() -> None:
    """Before: any ``❯ list files`` echoed in the scrollback was the input box. Now only a
    ``❯`` line between two horizontal borders is: the real pane's scrollback alone (its
    input box and footer cut) is no idle, its whole screen is."""
    lines = real_pane("idle-past-prompts")
    found = classify(CLAUDE, lines, NOW)
    assert found is not None and found.state is AgentState.IDLE
    assert found.line == "❯"  # the box's line, not an echoed prompt
    border = next(i for i, line in enumerate(lines) if line.startswith("────"))
    scrollback = lines[:border]
    assert any(line.startswith("❯ list files") for line in scrollback)
    assert classify(CLAUDE, scrollback, NOW) is None  # unknown, not idle


def test_the_500_shows_the_resend_placeholder_in_the_box_yet_reads_errored() -> None:
    found = classify(CLAUDE, real_pane("error-500"), NOW)
    assert found is not None and found.state is AgentState.ERRORED
    assert found.line.startswith("● API Error: 500 Internal server error")
