"""The real Gemini CLI (pinned in tools/install_agents.py) in tmux against localmodel.

Started ONCE for the module with its own HOME (an API key, folder trust off) against
localmodel's Gemini API. Skipped with the reason when the binary is missing or another
version (a failure under ``SWARM_REQUIRE_AGENTS=1``: see tests/agents/live.py).
``SWARM_SAVE_PANES=1`` saves the panes it reaches as the fixtures
``panes/gemini/gemini-VERSION-*.txt``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agents.deliveries import check_deliveries
from tests.agents.launch import launch, stop
from tests.agents.live import LiveCLI, save_pane

pytestmark = pytest.mark.xdist_group("gemini-live")  # one worker starts it, once

CLI = "gemini"
READY = "Type your message or @path/to/file"
SCRIPT = """
default = [{ text = "localmodel default answer" }]

[[turns]]
match = "say hello"
text = "hello from localmodel"

[[turns]]
match = "make a file"
steps = [{ text = "Creating it.", shell = "touch made-by-localmodel.txt" }, { text = "file made" }]

[[turns]]
match = "take your time"
steps = [{ text = "slowly, piece by piece", delay = 3 }]
"""


@pytest.fixture(scope="module")
def gemini(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCLI]:
    """Gemini CLI in tmux (120x40) against localmodel, at its input."""
    live = launch(CLI, tmp_path_factory.mktemp("gemini").resolve(), SCRIPT)
    try:
        live.wait("Gemini CLI v0.61.0")
        yield live
    finally:
        stop(live)


def test_starts_at_its_input(gemini: LiveCLI) -> None:
    assert "Authenticated with gemini-api-key" in gemini.screen()
    save_pane(gemini, CLI, "idle-start")


def test_a_pasted_prompt_is_answered(gemini: LiveCLI) -> None:
    gemini.send("say hello")
    gemini.wait("✦ hello from localmodel")
    router = gemini.model.wait_request("say hello", ":generateContent")  # it picks a model
    assert router["body"]["generationConfig"]["responseMimeType"] == "application/json"
    request = gemini.model.wait_request("say hello", ":streamGenerateContent")
    assert "say hello" in json.dumps(request["body"]["contents"])
    assert request["outcome"] == "turn step 1: text 'hello from localmodel'"
    gemini.wait(READY)
    save_pane(gemini, CLI, "answer")


def test_a_slow_answer_shows_it_thinking(gemini: LiveCLI) -> None:
    gemini.wait(READY)
    gemini.send("take your time")
    gemini.wait("(esc to cancel")
    save_pane(gemini, CLI, "working")
    gemini.wait("✦ slowly, piece by piece")


def test_a_scripted_shell_command_asks_then_runs(gemini: LiveCLI) -> None:
    """Gemini CLI's default mode asks before a shell command; allowed once, it runs."""
    gemini.wait(READY)
    gemini.send("make a file")
    gemini.wait("Allow execution of [Shell]?")
    lines = gemini.wait("3. No, suggest changes (esc)")
    assert any("1. Allow once" in line for line in lines)
    assert not (gemini.root / "work" / "made-by-localmodel.txt").exists()
    save_pane(gemini, CLI, "permission-dialog")
    gemini.keys("1")
    gemini.wait("✦ file made")
    assert (gemini.root / "work" / "made-by-localmodel.txt").is_file()


async def test_swarms_tmux_deliveries_are_each_taken_once_whole(
    gemini: LiveCLI, tmp_path: Path
) -> None:
    """One prompt of each shape (lines, tabs, quotes, 2 KB) through swarm's own tmux
    deliverer: each taken once, whole, none recorded delivered that the CLI never took."""
    gemini.wait(READY)
    await check_deliveries(gemini, CLI, tmp_path)
