"""The real opencode (pinned in tools/install_agents.py) in tmux against localmodel.

Started ONCE for the module with its own HOME: a ``local`` provider through
``@ai-sdk/openai-compatible`` on localmodel's Chat Completions API, no model list fetch, no
update, no LSP download, no mouse, no default plugins (else it installs ``@opencode-ai/plugin``
from the npm registry into its config folder at start). Skipped with the reason when the
binary is missing or another version (a failure under ``SWARM_REQUIRE_AGENTS=1``: see
tests/agents/live.py). ``SWARM_SAVE_PANES=1`` saves the panes it reaches as the fixtures
``panes/opencode/opencode-VERSION-*.txt``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.agents._text_rules import classify, load_rule_sets
from tests.agents.deliveries import check_deliveries, check_reset
from tests.agents.launch import launch, stop
from tests.agents.live import (
    LiveCLI,
    capture_when,
    check_ledger_is_localmodels,
    reading,
    save_pane,
    usage_of_turns,
)
from tests.agents.mcp_live import TURN, Desk, desk_fixture, task_now

pytestmark = pytest.mark.xdist_group("opencode-live")  # one worker starts it, once

CLI = "opencode"
READY = "Ask anything"  # the empty input's placeholder on its start screen
WORKING = "esc interrupt"
SCRIPT = (
    """
default = [{ text = "localmodel default answer" }]

[[turns]]
match = "say hello"
text = "hello from localmodel"

[[turns]]
match = "make a file"
steps = [{ text = "Creating it.", shell = "touch made-by-localmodel.txt" }, { text = "file made" }]

[[turns]]
match = "hit the rate limit"
steps = [{ rate_limit = true, retry_after = 1, times = 2 }, { text = "through at last" }]

[[turns]]
match = "count my tokens"
steps = [{ text = "tokens counted", input_tokens = 4321, output_tokens = 87 }]

[[turns]]
match = "take your time"
steps = [{ text = "slowly, piece by piece", delay = 3 }]
"""
    + TURN
)


desk = desk_fixture(CLI)  # agent A's SWARM_HOME (store on PostgreSQL) and work folder


@pytest.fixture(scope="module")
def opencode(desk: Desk) -> Iterator[LiveCLI]:
    """opencode in tmux (120x40) against localmodel, at its input."""
    live = launch(CLI, desk.work.parent, SCRIPT, work=desk.work, env=desk.cli_env)
    try:
        yield live
    finally:
        stop(live)


def _idle(live: LiveCLI, timeout: float = 60.0) -> None:
    """Wait until no turn is under way (its status line has no "esc interrupt")."""
    live.wait("ctrl+p commands")
    deadline = time.monotonic() + timeout
    while WORKING in live.screen():
        assert time.monotonic() < deadline, f"opencode stayed busy: {live.screen()}"
        time.sleep(0.1)


def test_starts_at_its_input(opencode: LiveCLI) -> None:
    screen = opencode.screen()
    assert "Build · Local model localmodel" in screen
    assert "1.18.33" in screen
    save_pane(opencode, CLI, "idle-start")


@pytest.mark.timeout(200)  # the first turn waits for swarm's MCP server to start (see below)
def test_a_pasted_prompt_is_answered(opencode: LiveCLI) -> None:
    """The first prompt: opencode asks for a title at once, then sends the turn only when its
    MCP servers have listed their tools (6 s after the title, quiet; swarm's own server takes
    1.8 s to start). In CI under the suite's load the test's 60 s once ran out while the turn
    was still under way, so the first turn is given the MCP test's allowance."""
    _idle(opencode)
    opencode.send("say hello")
    opencode.wait("hello from localmodel", timeout=150)
    request = opencode.model.wait_request("say hello")
    assert (request["path"], request["status"]) == ("/v1/chat/completions", 200)
    assert request["outcome"] == "turn step 1: text 'hello from localmodel'"
    _idle(opencode, timeout=150)
    save_pane(opencode, CLI, "answer")


@pytest.mark.timeout(180)  # its MCP server's start (7 s on a loaded machine), then one turn
def test_swarms_mcp_report_reaches_swarm(opencode: LiveCLI, desk: Desk) -> None:
    """The model calls ``report`` through swarm's local server in the work folder's
    opencode.json: swarm has A's task started, with its note."""
    _idle(opencode)
    opencode.send("report to swarm")
    opencode.wait("reported", timeout=150)  # 60 s ran out once under load (the suite's own)
    status, events = task_now(desk)
    assert status == "in_progress" and any("begun" in e for e in events), events


def test_a_slow_answer_shows_it_working(opencode: LiveCLI) -> None:
    _idle(opencode)
    opencode.send("take your time")
    opencode.wait(WORKING)
    save_pane(opencode, CLI, "working")
    # its answer now, not at the end of its delay (its request may come after the status line)
    opencode.model.release_until("take your time", "/v1/chat/completions")
    opencode.wait("slowly, piece by piece", timeout=60)


def test_a_scripted_shell_command_runs_without_asking(opencode: LiveCLI) -> None:
    """opencode's build agent runs a shell command in its folder unasked."""
    _idle(opencode)
    opencode.send("make a file")
    opencode.wait("$ touch made-by-localmodel.txt", timeout=60)
    opencode.wait("file made", timeout=60)
    assert (opencode.root / "work" / "made-by-localmodel.txt").is_file()


async def test_swarms_tmux_deliveries_are_each_taken_once_whole(
    opencode: LiveCLI, tmp_path: Path
) -> None:
    """One prompt of each shape (lines, tabs, quotes, 2 KB) through swarm's own tmux
    deliverer: each taken once, whole, none recorded delivered that the CLI never took."""
    _idle(opencode)
    await check_deliveries(opencode, CLI, tmp_path)


def test_a_429_it_retries_reads_limited_then_idle_after_the_answer(opencode: LiveCLI) -> None:
    """A 429: 1.18 retries it, its footer saying "Rate limit reached for requests. Please
    try again in 1s. [retrying in 1s attempt #2]  esc interrupt": limited (before: working,
    the rule file had no limit rule). The 3rd request gets through: idle after the answer."""
    rules = {rs.cli: rs for rs in load_rule_sets(None)[0]}[CLI]
    _idle(opencode)
    opencode.send("hit the rate limit")
    screen = capture_when(opencode, "[retrying", timeout=60)
    seen = classify(rules, screen.split("\n"), time.time())
    assert seen is not None and (seen.rule, seen.state.value) == ("retrying-limit", "limited")
    save_pane(opencode, CLI, "limit-429-retrying-live", screen)
    opencode.wait("through at last", timeout=60)
    _idle(opencode)
    seen = reading(opencode, CLI)
    assert seen is not None and seen.state.value == "idle"
    save_pane(opencode, CLI, "limit-then-answer")


async def test_a_reset_starts_a_new_session_with_no_dialog(
    opencode: LiveCLI, tmp_path: Path
) -> None:
    """swarm's reset between tasks through its tmux deliverer: 1.18's "/new" opens no dialog
    (Codex's did: the next prompt went into it); its start screen comes back and the next
    prompt is taken, alone in its conversation."""
    _idle(opencode)
    await check_reset(opencode, CLI, tmp_path, _idle, READY)


@pytest.mark.timeout(300)
async def test_a_tmux_agents_turns_in_the_ledger_are_what_localmodel_reported(
    opencode: LiveCLI, tmp_path: Path
) -> None:
    """Issue 51, item 4: a tmux agent's turns read from opencode's own database (its
    ``$XDG_DATA_HOME``, the environment swarm runs with) into the cost ledger at the watch's
    ticks, with the task the agent holds: "count my tokens" (4321 in, 87 out), then "make a
    file" (a shell call its build agent runs unasked, and the answer after it). The agent's
    sums are localmodel's count of what it reported to the requests offering tools; its
    request for the session's title (its title agent's prompt, no tools) is not a message it
    stores (:func:`check_ledger_is_localmodels`). opencode's cost of 0 (its model has no
    price) is no cost: the price table prices it."""

    def count() -> None:
        opencode.send("count my tokens")
        opencode.wait("tokens counted", timeout=150)
        _idle(opencode)

    def make() -> None:
        opencode.send("make a file")
        opencode.wait("file made", timeout=150)
        _idle(opencode)

    folder = ("XDG_DATA_HOME", opencode.root / "home" / ".local" / "share")
    ready = functools.partial(_idle, opencode)
    counted = await usage_of_turns(opencode, CLI, tmp_path, folder, ready, [count, make])
    check_ledger_is_localmodels(counted, lambda r: "title" in _system(r).lower())
    assert {(r["source"], r["model"], r["cost_from"]) for r in counted.rows} == {
        ("transcript", "local-model", "price"),
    }, counted.rows  # fmt: skip


def _system(request: dict[str, Any]) -> str:
    """The system messages of a Chat Completions request."""
    messages = request["body"].get("messages") or []
    return " ".join(str(m.get("content")) for m in messages if m.get("role") == "system")
