"""The real Claude Code in tmux against localmodel, read by swarm's own text watcher.

Claude Code is started ONCE for the module (its own HOME, a trusted work folder, no
telemetry) against ``python -m localmodel`` on a free port; each test reads its live pane
through ``TextWatcher`` with the bundled rule files. The binary is found by
tests/agents/live.py (``SWARM_CLAUDE_BIN``, ``.cache/agents``, PATH) at its pinned version:
else skipped with the reason, a failure under ``SWARM_REQUIRE_AGENTS=1`` (CI).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.agent_state import AgentState
from core.agents._text_rules import STILL, load_rule_sets
from core.dialogs import permissions as prompts
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch.text_signal import TextWatcher
from tests.agents.deliveries import check_deliveries
from tests.agents.launch import launch, stop
from tests.agents.live import (
    LiveCLI,
    check_ledger_is_localmodels,
    pane_swarm,
    until_seconds_move,
    usage_of_turns,
)
from tests.helpers import write_agents

pytestmark = pytest.mark.xdist_group("claude-code-live")  # one worker starts it, once

SCRIPT = """
default = [{ text = "localmodel default answer" }]

# Claude Code's session-title request quotes the session's last 1,000 characters: without a
# turn of its own it gets whichever turn those name (a 429 after "limit me" was tried)
[[turns]]
match = "Write the title"
steps = [{ text = '{"title": "Scripted session"}' }]

[[turns]]
match = "make a file"
steps = [{ text = "Creating it.", shell = "touch made-by-localmodel.txt" }, { text = "file made" }]

[[turns]]
match = "count my tokens"
steps = [{ text = "tokens counted", input_tokens = 4321, output_tokens = 87 }]

[[turns]]
match = "freeze now"
steps = [{ text = "A start, then a freeze until released", chunk_chars = 8, stall_after = 1 }]

[[turns]]
match = "retry a limit"
steps = [{ rate_limit = true, retry_after = 40, reset_in = 300 }]

[[turns]]
match = "limit me"
steps = [{ rate_limit = true, retry_after = 30, reset_in = 300, should_retry = false }]
"""


@pytest.fixture(scope="module")
def claude(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCLI]:
    """Claude Code in tmux (120x40) against localmodel, at its input box."""
    live = launch("claude-code", tmp_path_factory.mktemp("claude").resolve(), SCRIPT)
    try:
        yield live
    finally:
        stop(live)


@pytest.fixture
async def service(
    home: Path, tmp_path: Path, clock: ManualClock, claude: LiveCLI
) -> AsyncIterator[SwarmService]:
    """Agent A: the live Claude Code's pane, read with the claude-code rules."""
    svc = await pane_swarm(home, tmp_path, claude, "claude-code", clock)
    yield svc
    await svc.close()


async def look(service: SwarmService) -> tuple[AgentState, str, float | None]:
    """One tick of swarm's text watcher over A's pane: its state, evidence and reset."""
    rule_sets, errors = load_rule_sets(service.settings.home)
    assert errors == []
    watcher = TextWatcher(service, rule_sets)
    try:
        (seen,) = await watcher.tick()
    finally:
        await watcher.close()
    return seen.state, seen.evidence, seen.until


async def test_idle_after_start(service: SwarmService) -> None:
    state, evidence, _ = await look(service)
    assert state is AgentState.IDLE, evidence
    assert "rule input" in evidence


async def test_a_bash_permission_dialog_is_waiting_with_its_options(
    service: SwarmService, claude: LiveCLI
) -> None:
    claude.send("make a file")
    claude.wait("Do you want to proceed?")
    state, evidence, _ = await look(service)
    assert state is AgentState.WAITING, evidence
    (prompt,) = await service.store.read(prompts.open_prompts, "A")
    assert [o.key for o in prompt.options] == ["1", "2", "3", "4"]
    assert (prompt.options[0].label, prompt.options[-1].label) == ("Yes", "No")
    assert "touch made-by-localmodel.txt" in prompt.text
    await asyncio.sleep(1)  # a key pressed as the dialog appears can be lost
    claude.tmux.run("send-keys", "-t", claude.target, "1")  # approve in the terminal
    claude.wait("file made", timeout=30)
    claude.wait("? for shortcuts")
    state, evidence, _ = await look(service)
    assert state is AgentState.IDLE, evidence


async def test_a_scripted_429_is_limited(service: SwarmService, claude: LiveCLI) -> None:
    claude.wait("? for shortcuts")  # at its input box
    claude.send("limit me")
    claude.wait("Request rejected (429)")
    state, evidence, until = await look(service)
    assert state is AgentState.LIMITED, evidence
    assert "rule rate-limited" in evidence and until is None  # no reset shown


async def test_a_frozen_stream_is_working_but_no_progress(
    service: SwarmService, claude: LiveCLI
) -> None:
    """A stream frozen after its first bytes: for ~45 s Claude Code shows only its spinner
    line moving (glyph, seconds; the token count stays) over "esc to interrupt". The first
    look is working; a later one is working but no progress, so the stall clock runs (before:
    progress at every look until the "Waiting for API response" line)."""
    claude.wait("? for shortcuts")
    claude.send("freeze now")
    claude.wait("tokens)")  # its spinner line, with the token count
    # its turn's first hints ("← for agents" in the footer, "◐ medium · /effort") go after
    # a few seconds: a real change, so the looks are taken once they are gone
    claude.wait_last("  ⏸ manual mode on · esc to interrupt", timeout=20)
    assert "/effort" not in claude.screen()
    rule_sets, errors = load_rule_sets(service.settings.home)
    assert errors == []
    watcher = TextWatcher(service, rule_sets)
    try:
        (first,) = await watcher.tick()
        until_seconds_move(claude, claude.screen())  # nothing else does
        (second,) = await watcher.tick()
    finally:
        await watcher.close()
        # the stream goes on; the turn ends. Started as a user starts it, Claude Code also
        # asks for the session's title (its prompt holds "freeze now"): frozen too, at once
        assert claude.model.admin.release() in (1, 2)
    claude.wait("? for shortcuts", timeout=60)
    assert (first.state, first.work) == (AgentState.WORKING, True), first.evidence
    assert (second.state, second.work) == (AgentState.WORKING, False), second.evidence
    assert STILL in second.evidence


async def test_a_429_it_retries_is_limited_until_the_retry_it_shows(
    service: SwarmService, claude: LiveCLI
) -> None:
    """A 429 with ``retry-after: 40``: Claude Code retries on its own and says when ("✻ API
    error · retrying in 39s · attempt 1/10"); swarm reads limited with that reset."""
    claude.wait("? for shortcuts")
    claude.send("retry a limit")
    lines = claude.wait("API error · retrying in")
    shown = next(x for x in lines if "retrying in" in x)
    state, evidence, until = await look(service)
    claude.keys("Escape")  # the turn interrupted: no retry left running; Claude Code puts
    claude.wait_last("  ⏸ manual mode on", timeout=30)  # the prompt back into its input
    claude.keys("C-e", "C-u")  # swarm's clear keys for it
    claude.wait("? for shortcuts", timeout=30)
    assert state is AgentState.LIMITED and "rule api-retrying" in evidence, evidence
    seconds = int(shown.split("retrying in ")[1].split("s")[0])
    now = service.clock.now()
    assert until is not None and now + seconds - 5 <= until <= now + seconds + 1, (shown, until)


async def test_swarms_tmux_deliveries_are_each_taken_once_whole(
    claude: LiveCLI, tmp_path: Path
) -> None:
    """One prompt of each shape (lines, tabs, quotes, 2 KB) through swarm's own tmux
    deliverer: each taken once, whole, none recorded delivered that Claude Code never took."""
    claude.wait("? for shortcuts")
    await check_deliveries(claude, "claude-code", tmp_path)


@pytest.mark.timeout(180)  # a second start of the CLI, its MCP server's start, two turns
def test_swarms_mcp_server_is_asked_for_once_then_its_report_reaches_swarm(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """swarm's server in the project's ``.mcp.json``, as ``swarm agents mcp install`` writes
    it: the first start asks "New MCP server found in this project: swarm", its options
    chosen with the arrows (an Enter starts without swarm's tools). swarm reads it waiting
    with no keys (no prompt opened: the terminal-dialog alert; before, no rule knew it: its
    state unknown). Once the person uses the server, the model's ``report`` (loaded through
    ``ToolSearch``, then the tool's own permission dialog, answered 1) reaches swarm's store
    on PostgreSQL, named only in the CLI's environment."""
    from tests.agents.live import reading
    from tests.agents.mcp_live import TURN, desk_on_postgresql, task_now

    with desk_on_postgresql(request, tmp_path.resolve(), "claude-code") as desk:
        live = launch("claude-code", desk.work.parent, SCRIPT + TURN, work=desk.work,
                      env=desk.cli_env, ready="New MCP server found")  # fmt: skip
        try:
            live.wait("Enter to confirm")
            seen = reading(live, "claude-code")
            assert seen is not None, live.screen()
            assert (seen.rule, seen.state, seen.options) == (
                "mcp-server-found", AgentState.WAITING, ()
            )  # fmt: skip
            time.sleep(1.0)  # keys pressed as it shows are lost (as the permission dialog's)
            live.keys("Up")  # the person's choice, a line at a time
            live.wait("❯ Use this and all future")
            live.keys("Up")
            live.wait("❯ Use this MCP server")
            time.sleep(0.3)
            live.keys("Enter")
            asked_for_the_tool(live)
            time.sleep(1.0)
            live.keys("1")
            live.wait("reported", timeout=60)
            status, events = task_now(desk)
            assert status == "in_progress" and any("begun" in e for e in events), events
        finally:
            stop(live)


def asked_for_the_tool(live: LiveCLI, timeout: float = 90.0) -> None:
    """Ask for the report until the tool's permission dialog shows: the CLI connects its MCP
    servers in the background, and a turn before swarm's is connected gets no swarm tool
    (the script says "no tool 'report'"): asked again then."""
    deadline = time.monotonic() + timeout
    while True:
        live.wait("? for shortcuts")
        failed = live.screen().count("no tool 'report'")
        live.send("report to swarm")
        while True:
            screen = live.screen()
            if "Do you want to proceed?" in screen:
                return
            if screen.count("no tool 'report'") > failed:
                break
            assert time.monotonic() < deadline, screen
            time.sleep(0.2)
        time.sleep(1.0)


@pytest.mark.timeout(120)  # a second start of the CLI
async def test_the_first_start_fullscreen_offer_waits_for_the_person_and_their_choice_is_typed(
    home: Path, tmp_path: Path, clock: ManualClock
) -> None:
    """A user's first start of 2.1.328 may offer "Try the new fullscreen renderer?" (decided
    per user; ``CLAUDE_CODE_FORCE_FULLSCREEN_UPSELL``, the CLI's own switch, shows it to any
    user). Before: no rule knew it, the agent read idle, then unknown, and the first task's
    delivery failed on it. Now it is a dialog: swarm's tmux deliverer types nothing into it
    (the delivery waits, no try used), a prompt with the dialog's own two options is opened,
    and the person's "2. Not now" typed by swarm brings the CLI to its input."""
    from automation.tmux.delivery import TmuxDeliverer
    from core.coordinator.prompt_keys import PromptKeys
    from core.delivery._killswitch import KillSwitch
    from core.protocols import Parcel
    from tests.agents.launch import agent_of

    live = launch("claude-code", tmp_path / "offer", SCRIPT, ready="Enter to confirm",
                  env={"CLAUDE_CODE_FORCE_FULLSCREEN_UPSELL": "1"})  # fmt: skip
    config = write_agents(
        tmp_path / "agents.toml",
        [{"id": "A", "role": "dev", "tmux": live.target, "tmux_socket": str(live.tmux.socket),
          "cli": "claude-code"}],
    )  # fmt: skip
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    service = await SwarmService.open(settings, clock)
    deliverer = TmuxDeliverer(home, KillSwitch(home))
    rule_sets, _ = load_rule_sets(None)
    text = TextWatcher(service, rule_sets)
    try:
        (seen,) = await text.tick()
        assert seen.state is AgentState.WAITING and "rule fullscreen-offer" in seen.evidence
        (prompt,) = await service.store.read(prompts.open_prompts, "A")
        assert [(o.key, o.label) for o in prompt.options] == [
            ("1", "Yes, try it"), ("2", "Not now")
        ]  # fmt: skip
        assert prompt.text.splitlines()[1].strip() == "Try the new fullscreen renderer?"
        receipt = await deliverer.deliver(Parcel(1, agent_of(live, "claude-code"), "hi", "t"))
        assert (receipt.ok, receipt.deferred) == (False, True), receipt
        assert "Try the new fullscreen renderer?" in live.screen()  # nothing typed into it
        await asyncio.sleep(1.0)  # a key pressed as a dialog appears can be lost
        await service.store.write("Ada", prompts.decide, prompt.id, "2")
        assert await PromptKeys(service, deliverer, text).fire() == 1
        live.wait("? for shortcuts", timeout=30)
        (seen,) = await text.tick()
        assert seen.state is AgentState.IDLE, seen.evidence
        assert "fullscreen" not in live.screen()  # "Not now": the classic renderer stays
    finally:
        await text.close()
        deliverer.close()
        await service.close()
        stop(live)


async def test_a_tmux_agents_turns_in_the_ledger_are_what_localmodel_reported(
    claude: LiveCLI, tmp_path: Path
) -> None:
    """Issue 51, item 4: a tmux agent's turns read from Claude Code's own session transcript
    (its ``$CLAUDE_CONFIG_DIR``, the environment swarm runs with) into the cost ledger at the
    watch's ticks, with the task the agent holds: "count my tokens" (4321 in, 87 out, input
    and cache together), then "make a file" (a Bash call, approved if asked, and the answer
    after it). The agent's sums are localmodel's count of what it reported to the requests
    offering tools; Claude Code's title requests ("Write the title ...", no tools) are not in
    its transcript (:func:`check_ledger_is_localmodels`). 2.1.328 writes its cost only when
    the session ends: the turn's is the price table's (its claude-opus-5-5 is listed)."""

    def count() -> None:
        claude.send("count my tokens")
        claude.wait("tokens counted", timeout=60)
        claude.wait("? for shortcuts")

    def make() -> None:
        claude.send("make a file")
        if claude.wait_any(("Do you want to proceed?", "file made"), timeout=60) != "file made":
            time.sleep(1)  # a key pressed as the dialog appears can be lost
            claude.keys("1")
            claude.wait("file made", timeout=30)
        claude.wait("? for shortcuts")

    folder = ("CLAUDE_CONFIG_DIR", claude.root / "home" / ".claude")
    ready = functools.partial(claude.wait, "? for shortcuts")
    counted = await usage_of_turns(claude, "claude-code", tmp_path, folder, ready, [count, make])
    check_ledger_is_localmodels(counted, lambda r: "Write the title" in str(r["prompt"]))
    assert {(r["source"], r["model"], r["cost_from"]) for r in counted.rows} == {
        ("transcript", "claude-opus-5-5", "price"),
    }, counted.rows  # fmt: skip
