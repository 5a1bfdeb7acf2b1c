"""The real Aider (pinned in tools/install_agents.py, in its own venv) in tmux against localmodel.

Started ONCE for the module with its own HOME in a git repository, on localmodel's Chat
Completions API (``--model openai/local-model``, the diff edit format, no update check, no
analytics). Skipped with the reason when the binary is missing or another version (a failure
under ``SWARM_REQUIRE_AGENTS=1``: see tests/agents/live.py). ``SWARM_SAVE_PANES=1`` saves the
panes it reaches as the fixtures ``panes/aider/aider-VERSION-*.txt``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.agents._text_rules import classify, load_rule_sets
from tests.agents.deliveries import check_deliveries
from tests.agents.launch import launch, stop
from tests.agents.live import LiveCLI, capture_when, save_pane

pytestmark = pytest.mark.xdist_group("aider-live")  # one worker starts it, once

CLI = "aider"
READY = "diff>"  # its input prompt, named after the edit format
SCRIPT = """
default = [{ text = "localmodel default answer" }]

[[turns]]
match = "say hello"
text = "hello from localmodel"

[[turns]]
match = "run a command"
text = "Run this:\\n\\n```bash\\ntouch made-by-localmodel.txt\\n```\\n"

[[turns]]
match = "hit the rate limit"
steps = [{ rate_limit = true, reset_in = 20, times = 6 }, { text = "through at last" }]

[[turns]]
match = "take your time"
steps = [{ text = "slowly, piece by piece", delay = 3 }]
"""


@pytest.fixture(scope="module")
def aider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCLI]:
    """Aider in tmux (120x40) against localmodel, at its input."""
    live = launch(CLI, tmp_path_factory.mktemp("aider").resolve(), SCRIPT)
    try:
        live.wait_last(READY, timeout=90)
        yield live
    finally:
        stop(live)


def test_starts_at_its_input(aider: LiveCLI) -> None:
    screen = aider.screen()
    assert "Aider v0.86.2" in screen
    assert "Model: openai/local-model with diff edit format" in screen
    save_pane(aider, CLI, "idle-start")


def test_a_pasted_prompt_is_answered(aider: LiveCLI) -> None:
    aider.wait_last(READY)
    aider.send("say hello")
    aider.wait("hello from localmodel")
    request = aider.model.wait_request("say hello")
    assert (request["path"], request["status"]) == ("/v1/chat/completions", 200)
    assert request["body"]["stream"] is True
    assert request["outcome"] == "turn step 1: text 'hello from localmodel'"
    aider.wait_last(READY)
    save_pane(aider, CLI, "answer")


def test_a_slow_answer_shows_it_waiting(aider: LiveCLI) -> None:
    aider.wait_last(READY)
    aider.send("take your time")
    aider.wait("Waiting for openai/local-model")
    save_pane(aider, CLI, "working")
    aider.model.admin.release()  # its answer now, not at the end of its delay
    aider.wait("slowly, piece by piece")
    aider.wait_last(READY)


def test_a_suggested_shell_command_asks_then_runs(aider: LiveCLI) -> None:
    """Aider offers the answer's bash block as a command and runs it only when told yes."""
    aider.wait_last(READY)
    aider.send("run a command")
    aider.wait_last("Run shell command? (Y)es/(N)o/(D)on't ask again [Yes]:")
    assert not (aider.root / "work" / "made-by-localmodel.txt").exists()
    save_pane(aider, CLI, "confirm-command")
    aider.keys("y", "Enter")
    aider.wait("Running touch made-by-localmodel.txt")
    aider.wait_last(READY)
    assert (aider.root / "work" / "made-by-localmodel.txt").is_file()


async def test_swarms_tmux_deliveries_are_each_taken_once_whole(
    aider: LiveCLI, tmp_path: Path
) -> None:
    """One prompt of each shape (lines, tabs, quotes, 2 KB) through swarm's own tmux
    deliverer: each taken once, whole, none recorded delivered that the CLI never took."""
    aider.wait_last(READY)
    await check_deliveries(aider, CLI, tmp_path)


def test_a_429_it_retries_reads_limited_until_its_retry(aider: LiveCLI) -> None:
    """A 429: 0.86 prints "litellm.RateLimitError: ..." and "Retrying in 0.5 seconds...",
    and its spinner ("Waiting for openai/local-model") comes back below: limited until the
    retry (before: working, from the spinner). The retry gets through; the answer's
    "Tokens: ..." line below the old errors ends them: idle."""
    rules = {rs.cli: rs for rs in load_rule_sets(None)[0]}[CLI]
    aider.wait_last(READY)
    aider.send("hit the rate limit")
    screen = capture_when(aider, "Retrying in 0.5 seconds")
    now = time.time()
    seen = classify(rules, screen.split("\n"), now)
    assert seen is not None and (seen.rule, seen.state.value) == ("rate-limit", "limited")
    assert seen.until == now + 0.5
    save_pane(aider, CLI, "limit-429-retrying", screen)
    aider.wait("through at last")
    aider.wait_last(READY)
    seen = classify(rules, aider.screen().split("\n"), time.time())
    assert seen is not None and seen.state.value == "idle"
    save_pane(aider, CLI, "limit-then-answer")
