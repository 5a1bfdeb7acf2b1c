"""Qwen Code's real screens at its pinned version (captured unedited with ``tmux capture-pane
-p -J`` against localmodel, saved in ``core/clis/qwen_code/panes/``): what each one reads as
with its rule file, and with no ``cli`` key (auto-detection among every CLI's rules)."""

from __future__ import annotations

import datetime as dt

import pytest

from core.agent_state import AgentState
from core.agents._text_rules import classify, classify_any, load_rule_sets
from core.models import PromptOption
from tests.watch.pane_labels import real_panes

NOW = dt.datetime(2027, 1, 15, 8, 0, tzinfo=dt.UTC).timestamp()
RULE_SETS, _ = load_rule_sets(None)
QWEN = next(rs for rs in RULE_SETS if rs.cli == "qwen-code")
# screen (without "qwen-code-<version>-") -> (rule, state)
READS = {
    "idle-start": ("input", AgentState.IDLE),  # its first start: no dialog, the input box
    "input": ("input", AgentState.IDLE),  # after an answer ("◆︎ allowed file made")
    "suggestion": ("input", AgentState.IDLE),  # the follow-up it suggests in its input
    "working": ("working", AgentState.WORKING),  # "(7s · esc to cancel)"
    "confirmation": ("confirmation", AgentState.WAITING),  # "Allow execution of: 'touch'?"
    "api-error": ("api-error", AgentState.ERRORED),  # "✕ [API Error: Invalid URL]"
}


def lines(screen: str) -> list[str]:
    return real_panes("qwen-code")[screen].read_text(encoding="utf-8").split("\n")


def test_every_real_pane_is_in_the_table() -> None:
    assert sorted(real_panes("qwen-code")) == sorted(READS)


@pytest.mark.parametrize("screen", sorted(READS))
def test_each_real_pane_reads_as_its_state(screen: str) -> None:
    rule, state = READS[screen]
    found = classify(QWEN, lines(screen), NOW)
    assert found is not None and (found.rule, found.state) == (rule, state)
    detected = classify_any(RULE_SETS, lines(screen), NOW)
    assert detected is not None and detected.state is state


def test_its_prompt_echo_is_no_input_box() -> None:
    """``> make the allowed file`` above its answer is the prompt's echo: only the line
    between the input box's two borders is its input (``framed``)."""
    screen = lines("input")
    box = max(i for i, line in enumerate(screen) if line.startswith(">"))
    found = classify(QWEN, screen[: box - 1], NOW)
    assert found is None or found.rule != "input"


def test_its_dialog_is_one_item_with_its_own_options() -> None:
    found = classify(QWEN, lines("confirmation"), NOW)
    assert found is not None and "Allow execution of: 'touch'?" in found.prompt
    assert found.options == (
        PromptOption("1", "Yes, allow once"),
        PromptOption("2", "Switch to Default Mode and allow once (recommended)"),
        PromptOption("3", "No, suggest changes (esc)"),
    )
