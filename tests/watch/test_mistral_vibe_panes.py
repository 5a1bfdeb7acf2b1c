"""Mistral Vibe's real screens at its pinned version (its Rust TUI, captured unedited with
``tmux capture-pane -p -J`` against localmodel, saved in ``core/clis/mistral_vibe/panes/``):
what each one reads as with its rule file, and with no ``cli`` key (auto-detection among
every CLI's rules)."""

from __future__ import annotations

import datetime as dt

import pytest

from core.agent_state import AgentState
from core.agents._text_rules import classify, classify_any, load_rule_sets
from core.models import PromptOption
from tests.watch.pane_labels import real_panes

NOW = dt.datetime(2027, 1, 15, 8, 0, tzinfo=dt.UTC).timestamp()
RULE_SETS, _ = load_rule_sets(None)
VIBE = next(rs for rs in RULE_SETS if rs.cli == "mistral-vibe")
# screen (without "mistral-vibe-<version>-") -> (rule, state)
READS = {
    "idle-start": ("input", AgentState.IDLE),  # its first start: no dialog, the input box
    "input": ("input", AgentState.IDLE),  # after an answer ("⏵ Ran touch allowed.txt")
    "working": ("working", AgentState.WORKING),  # "Generating… (2s Esc/Ctrl+C to interrupt)"
    "retrying": ("working", AgentState.WORKING),  # a 500 it retries: "Retrying… (1s …)"
    "confirmation": ("confirmation", AgentState.WAITING),  # "Permission for the … tool"
}


def lines(screen: str) -> list[str]:
    return real_panes("mistral-vibe")[screen].read_text(encoding="utf-8").split("\n")


def test_every_real_pane_is_in_the_table() -> None:
    assert sorted(real_panes("mistral-vibe")) == sorted(READS)


@pytest.mark.parametrize("screen", sorted(READS))
def test_each_real_pane_reads_as_its_state(screen: str) -> None:
    rule, state = READS[screen]
    found = classify(VIBE, lines(screen), NOW)
    assert found is not None and (found.rule, found.state) == (rule, state)
    detected = classify_any(RULE_SETS, lines(screen), NOW)
    assert detected is not None and detected.state is state


def test_its_prompt_echo_is_no_input() -> None:
    """``> make the allowed file`` above its answer is the prompt's echo: only the line above
    its box's bottom border and its footer is its input."""
    screen = [line for line in lines("input") if line.strip()]
    found = classify(VIBE, screen[:-3], NOW)
    assert found is None or found.rule != "input"


def test_its_dialog_is_one_item_with_its_own_options() -> None:
    found = classify(VIBE, lines("confirmation"), NOW)
    assert found is not None and "touch allowed.txt" in found.prompt
    assert found.options == (
        PromptOption("1", "Allow once"),
        PromptOption("2", "Allow for remainder of this session"),
        PromptOption("3", "Always allow"),
        PromptOption("4", "Deny"),
    )
