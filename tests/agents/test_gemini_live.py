"""The real Gemini CLI (pinned in tools/install_agents.py) in tmux against localmodel.

Started ONCE for the module with its own HOME (an API key, folder trust off) against
localmodel's Gemini API. Skipped with the reason when the binary is missing or another
version (a failure under ``SWARM_REQUIRE_AGENTS=1``: see tests/agents/live.py).
``SWARM_SAVE_PANES=1`` saves the panes it reaches as the fixtures
``panes/gemini/gemini-VERSION-*.txt``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from core.agent_state import Observation
from core.agents._text_rules import STILL, load_rule_sets
from core.clis.logs import LOG_DIR, log_path
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
    reading,
    save_pane,
    until_seconds_move,
    usage_of_turns,
)
from tests.agents.mcp_live import TURN, Desk, desk_fixture, task_now
from tests.helpers import write_agents

pytestmark = pytest.mark.xdist_group("gemini-live")  # one worker starts it, once

CLI = "gemini"
READY = "Type your message or @path/to/file"
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
match = "spend the quota"
steps = [{ rate_limit = true, quota = "day", model = "3.8-flash" }, { text = "never" }]

[[turns]]
match = "send a bad request"
steps = [{ fail = 400, model = "3.8-flash" }, { text = "never" }]

[[turns]]
match = "count my tokens"
steps = [{ text = "tokens counted", input_tokens = 4321, output_tokens = 87 }]

[[turns]]
match = "say goodbye"
text = "goodbye from localmodel"

[[turns]]
match = "take your time"
steps = [{ text = "slowly, piece by piece", delay = 3 }]

[[turns]]
match = "retry the minute"
steps = [{ rate_limit = true, model = "3.8-flash" }, { text = "never" }]

[[turns]]
match = "limit me twice"
steps = [{ rate_limit = true, model = "3.8-flash", retry_after = 3, times = 2 },
         { text = "through after the limit" }]

[[turns]]
match = "fail me once"
steps = [{ fail = 500, model = "3.8-flash", times = 1 }, { text = "through after the error" }]

[[turns]]
match = "think it over"
steps = [{ text = "thought it over", delay = 5 }]  # twice (its router asks first)

[[turns]]
match = "then say thanks"
text = "thanks from localmodel"

[[turns]]
match = "stream it slowly"
[[turns.steps]]
text = "one two three four five six seven eight nine ten eleven twelve thirteen"
chunk_chars = 4
chunk_delay = 0.4
"""
    + TURN
)


desk = desk_fixture(CLI)  # agent A's SWARM_HOME (store on PostgreSQL) and work folder


@pytest.fixture(scope="module")
def logs(desk: Desk) -> Path:
    """The SWARM_HOME whose agent-logs folder the CLI writes its debug log to, as
    ``swarm desktop up`` names it for agent A (``core.clis.logs.log_path``)."""
    home = desk.work.parent / "swarm-home"
    log_path(home, "A").parent.mkdir(parents=True)
    return home


@pytest.fixture(scope="module")
def gemini(desk: Desk, logs: Path) -> Iterator[LiveCLI]:
    """Gemini CLI in tmux (120x40) against localmodel, at its input, writing its debug log
    where swarm reads it."""
    env = {"GEMINI_DEBUG_LOG_FILE": str(log_path(logs, "A")), **desk.cli_env}
    live = launch(CLI, desk.work.parent, SCRIPT, work=desk.work, env=env)
    try:
        live.wait("Gemini CLI v0.61.0")
        # its Enter is ignored until its MCP servers are up (a loaded machine: seconds after
        # its input shows), as a person sees when a prompt stays in the box: wait for it
        _until_logged(log_path(logs, "A"), "MCP context refresh complete", 90)
        yield live
    finally:
        stop(live)


def _until_logged(log: Path, line: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while line not in (log.read_text(errors="replace") if log.exists() else ""):
        assert time.monotonic() < deadline, f"{line!r} never logged in {log}"
        time.sleep(0.1)


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


def test_swarms_mcp_report_reaches_swarm(gemini: LiveCLI, desk: Desk) -> None:
    """The model calls ``report`` through swarm's server in the work folder's
    .gemini/settings.json (trusted there: no confirmation): swarm has A's task started,
    with its note."""
    gemini.wait(READY)
    submit(gemini, "report to swarm")
    gemini.wait("✦ reported")
    status, events = task_now(desk)
    assert status == "in_progress" and any("begun" in e for e in events), events


def test_a_slow_answer_shows_it_thinking(gemini: LiveCLI) -> None:
    gemini.wait(READY)
    gemini.send("take your time")
    gemini.wait("(esc to cancel")
    save_pane(gemini, CLI, "working")
    # its answer now (its router's, then its model's), not at the end of its delay
    gemini.model.release_until("take your time", ":streamGenerateContent")
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


async def test_a_prompt_typed_while_its_turn_runs_is_delivered_when_the_turn_ends(
    gemini: LiveCLI, tmp_path: Path
) -> None:
    """swarm's tmux deliverer types a prompt while the CLI's turn still runs (a Gemini CLI
    that reported its task inside its turn gets its next task's prompt before the turn ends):
    the CLI queues it ("Queued (press ↑ to edit)"), its input empties, and it sends it once
    the turn ends: the receipt says delivered, and the model gets it once."""
    from automation.tmux.delivery import TmuxDeliverer
    from core.delivery._killswitch import KillSwitch
    from core.protocols import Parcel
    from tests.agents.launch import agent_of

    gemini.wait(READY)
    gemini.send("think it over")
    gemini.wait("(esc to cancel")
    deliverer = TmuxDeliverer(tmp_path, KillSwitch(tmp_path))
    try:
        parcel = Parcel(1, agent_of(gemini, CLI), "then say thanks", "test")
        receipt = await deliverer.deliver(parcel)
    finally:
        deliverer.close()
    assert receipt.ok, receipt
    thought = [r for r in gemini.model.requests() if "think it over" in str(r.get("prompt"))]
    assert thought and thought[-1]["status"] == 200  # the turn it was typed into
    # that turn's answer now (its router's, then its model's), not at the end of its delay
    gemini.model.release_until("think it over", ":streamGenerateContent")
    gemini.wait("thanks from localmodel", timeout=30)
    asked = [r for r in gemini.model.requests() if r.get("prompt") == "then say thanks"]
    assert len({json.dumps(r["body"].get("contents", [])[-1:]) for r in asked}) == 1, asked
    turn_over(gemini)


def submit(gemini: LiveCLI, text: str) -> None:
    """Paste ``text`` and press Enter until the model server gets it: an Enter pressed too
    soon after the CLI started is sometimes not taken."""
    gemini.send(text)
    for _ in range(5):
        if gemini.model.asked_within(text, 1.0):
            return
        gemini.keys("Enter")
    raise AssertionError(f"{text!r} was never submitted: {gemini.screen()}")


def test_a_spent_daily_quota_asks_then_reads_limited_until_the_next_answer(
    gemini: LiveCLI,
) -> None:
    """The answering model's daily quota spent (its router's request goes through): 0.61
    asks "Usage limit reached for gemini-3.8-flash." (1. Keep trying / 2. Stop): waiting,
    with those options. Stopped, it prints "✕ [API Error: You have exhausted your daily quota
    on this model.]" 11 lines above the bottom: limited (before: idle, the error rules looked
    at the last 8 lines and knew no "exhausted"). The next answer below it ends it: idle."""
    submit(gemini, "spend the quota")
    gemini.wait("● 1. Keep trying")
    time.sleep(0.5)  # a key pressed as the dialog draws can be lost
    seen = reading(gemini, CLI)
    assert seen is not None and (seen.rule, seen.state.value) == ("quota-dialog", "waiting")
    assert seen.line == "Usage limit reached for gemini-3.8-flash."
    assert [o.label for o in seen.options] == ["Keep trying", "Stop"]
    save_pane(gemini, CLI, "quota-dialog")
    gemini.keys("2")
    gemini.wait("exhausted your daily quota")
    seen = reading(gemini, CLI)
    assert seen is not None and (seen.rule, seen.state.value) == ("quota", "limited")
    save_pane(gemini, CLI, "quota-daily")
    submit(gemini, "say goodbye")
    gemini.wait("✦ goodbye from localmodel")
    seen = reading(gemini, CLI)
    assert seen is not None and seen.state.value == "idle"
    save_pane(gemini, CLI, "quota-then-answer")


def test_an_api_error_below_the_last_8_lines_reads_errored(gemini: LiveCLI) -> None:
    """A 400 of the answering model (the router's request goes through): "✕ [API Error:
    {...INVALID_ARGUMENT...}]" 9 lines above the bottom, under it 0.61's "ℹ This request
    failed" note and the input box. Before: idle (the rule looked at the last 8 lines)."""
    gemini.wait(READY)
    submit(gemini, "send a bad request")
    gemini.wait("INVALID_ARGUMENT")
    seen = reading(gemini, CLI)
    assert seen is not None and (seen.rule, seen.state.value) == ("api-error", "errored")
    save_pane(gemini, CLI, "error-400")


@pytest.fixture
async def watcher(gemini: LiveCLI, logs: Path, tmp_path: Path) -> AsyncIterator[TextWatcher]:
    """swarm's text watcher over agent A, the live Gemini CLI's pane (its SWARM_HOME's
    agent-logs folder is the one the CLI writes to)."""
    config = write_agents(
        tmp_path / "agents.toml",
        [{"id": "A", "role": "dev", "tmux": gemini.target, "tmux_socket": str(gemini.tmux.socket),
          "cli": CLI}],
    )  # fmt: skip
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / LOG_DIR).symlink_to(logs / LOG_DIR)
    env = {"SWARM_HOME": str(tmp_path / "home"), "SWARM_CONFIG": str(config)}
    service = await SwarmService.open(Settings.from_env(env))
    text = TextWatcher(service, load_rule_sets(None)[0])
    try:
        yield text
    finally:
        await text.close()
        await service.close()


async def look(watcher: TextWatcher) -> Observation:
    """One tick of the watcher: what it recorded of A."""
    (seen,) = await watcher.tick()
    return seen


async def test_a_minute_429_retried_under_its_spinner_is_no_progress(
    gemini: LiveCLI, watcher: TextWatcher, logs: Path
) -> None:
    """0.61 retries a per-minute 429 under "⠼ Thinking... (esc to cancel, 4s)" with nothing
    else on the screen moving (it went on for 7 minutes with a model that kept refusing):
    the first look reads working, a later one with only the glyph and the time changed is
    working but not the agent's progress (the stall clock runs). Before: progress at every
    look, never stalled. (The model here refuses every request; the turn is cancelled.)"""
    gemini.wait(READY)
    retried = "Attempt 1 failed: You exceeded your current quota"
    before = logged(logs, retried)
    submit(gemini, "retry the minute")
    gemini.wait("(esc to cancel")
    # its log's retry line written before the watcher's first look: old news to it (a line
    # after that look reads limited: the log test's case), so the screen alone is judged
    deadline = time.monotonic() + 30
    while logged(logs, retried) == before:
        assert time.monotonic() < deadline, f"no {retried!r} in its log"
        await asyncio.sleep(0.1)
    first = await look(watcher)
    until_seconds_move(gemini, gemini.screen())  # the model keeps refusing
    second = await look(watcher)
    gemini.keys("Escape")  # the turn cancelled: the CLI at its input again
    gemini.wait("Request cancelled")
    assert (first.state.value, first.work) == ("working", True), first.evidence
    assert (second.state.value, second.work) == ("working", False), second.evidence
    assert STILL in second.evidence and "rule working" in second.evidence


async def test_an_answer_streaming_under_its_spinner_is_progress(
    gemini: LiveCLI, watcher: TextWatcher
) -> None:
    """The answer's words arriving above the spinner line: each look is progress."""
    gemini.wait(READY)
    submit(gemini, "stream it slowly")
    gemini.wait("✦ one")
    seen = [await look(watcher)]
    for _ in range(2):
        until_more_words(gemini, answer_line(gemini))  # not a fixed 1.2 s: a word more
        seen.append(await look(watcher))
    gemini.model.admin.release()  # the rest of its answer now, not at its pace
    gemini.wait("thirteen", timeout=30)
    assert [(o.state.value, o.work) for o in seen] == [("working", True)] * 3, seen


def answer_line(gemini: LiveCLI) -> str:
    """The answer's line as the pane shows it now ("✦ one two thr")."""
    return next((x.rstrip() for x in gemini.screen().split("\n") if "✦ one" in x), "")


def until_more_words(gemini: LiveCLI, since: str, timeout: float = 15.0) -> None:
    """Until the answer's line differs from ``since``, taken after the watcher's last look:
    its next look sees words that one did not."""
    deadline = time.monotonic() + timeout
    while answer_line(gemini) == since:
        assert time.monotonic() < deadline, f"no word after {since!r}: {gemini.screen()}"
        time.sleep(0.05)


def turn_over(gemini: LiveCLI, timeout: float = 30.0) -> None:
    """Until its spinner line ("Thinking... (esc to cancel, 4s)") has left the screen."""
    deadline = time.monotonic() + timeout
    while "(esc to cancel" in gemini.screen():
        assert time.monotonic() < deadline, gemini.screen()
        time.sleep(0.2)


def log_lines(logs: Path) -> list[str]:
    """The debug log's whole lines (one still being written is not one yet: swarm's reader
    reads a line at its newline)."""
    path = log_path(logs, "A")
    return path.read_text("utf-8", "replace").split("\n")[:-1] if path.exists() else []


def logged(logs: Path, text: str) -> int:
    """How many lines of the debug log hold ``text``."""
    return sum(text in line for line in log_lines(logs))


def wait_log(logs: Path, text: str, seen: int = 0, timeout: float = 30.0) -> str:
    """The debug log's newest line with ``text``, once the CLI has written it whole and more
    than ``seen`` lines hold it (an earlier test's turn wrote the same words)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [line for line in log_lines(logs) if text in line]
        if len(found) > seen:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} in the debug log within {timeout:g} s")


async def test_a_minute_429_it_retries_reads_limited_until_its_retry_from_its_log(
    gemini: LiveCLI, watcher: TextWatcher, logs: Path
) -> None:
    """Its screen shows only "Thinking..." while it retries a per-minute 429; its debug log,
    which swarm names at launch, says "Attempt 1 failed: You exceeded your current quota,
    ... Retrying after 5432ms...": limited until that retry. When the retried request is
    answered, the answer's arrival is progress again. Before: working, then no progress."""
    gemini.wait(READY)
    await look(watcher)  # at its input: the log's earlier lines are old news
    first, second = "Attempt 1 failed: You exceeded your current quota", "Attempt 2 failed"
    seen = logged(logs, first), logged(logs, second)  # the minute-429 test's turn wrote them
    submit(gemini, "limit me twice")
    line = wait_log(logs, first, seen[0])
    limited = await look(watcher)
    wait_log(logs, second, seen[1])
    again = await look(watcher)
    gemini.wait("✦ through after the limit", timeout=60)
    turn_over(gemini)
    after = await look(watcher)
    assert limited.state.value == "limited" and limited.until is not None, limited.evidence
    assert "its log: 'Attempt 1 failed: You exceeded your current quota" in limited.evidence
    retry = limited.until - datetime.fromisoformat(line[1:25]).timestamp()  # 5 s, +20 %
    assert 5 <= retry <= 6.1, line
    assert again.state.value == "limited" and "Attempt 2 failed" in again.evidence
    assert again.until is not None and again.until > limited.until
    assert after.state.value == "idle", after.evidence


async def test_a_500_it_retries_reads_errored_from_its_log(
    gemini: LiveCLI, watcher: TextWatcher, logs: Path
) -> None:
    """A 500 it retries with backoff shows nothing but its spinner; its log says "Attempt 1
    failed with status 500. Retrying with backoff...": errored until the answer arrives."""
    gemini.wait(READY)
    await look(watcher)
    failed = "Attempt 1 failed with status 500"
    seen = logged(logs, failed)
    submit(gemini, "fail me once")
    wait_log(logs, failed, seen)
    errored = await look(watcher)
    gemini.wait("✦ through after the error", timeout=60)
    turn_over(gemini)
    after = await look(watcher)
    assert errored.state.value == "errored", errored.evidence
    assert "its log: 'Attempt 1 failed with status 500. Retrying with backoff" in (errored.evidence)
    assert after.state.value == "idle", after.evidence


@pytest.mark.timeout(150)  # a second start of the CLI, one turn
async def test_yolo_mode_reads_its_star_input_and_takes_swarms_delivery(
    home: Path, tmp_path: Path, clock: ManualClock
) -> None:
    """``--approval-mode yolo``: its input line starts with ``*`` ("*   Type your message or
    @path/to/file", under "YOLO Ctrl+Y"). Before: no rule knew it, the agent read unknown from
    the start, and every delivery failed "its input is not on its pane". Now it reads idle,
    swarm's own tmux deliverer delivers into it, its command runs without a dialog, and it
    reads idle again once its answer is given. A delivery made as its pane opens, the CLI
    still drawing its first screen, types nothing and is deferred without a try."""
    from automation.failures import Failure
    from automation.tmux.delivery import TmuxDeliverer
    from core.agent_state import AgentState
    from core.delivery._killswitch import KillSwitch
    from core.protocols import Parcel
    from tests.agents.launch import agent_of

    live = launch(CLI, tmp_path / "yolo", SCRIPT, args=("--approval-mode", "yolo"),
                  wait_ready=False)  # fmt: skip
    deliverer = TmuxDeliverer(home, KillSwitch(home))
    parcel = Parcel(1, agent_of(live, CLI), "make a file", "test")
    try:
        early = await deliverer.deliver(parcel)  # its pane just made: the CLI still starting
        assert (early.ok, early.deferred, early.reason) == (False, True, str(Failure.STARTING))
        live.wait("YOLO Ctrl+Y", timeout=90)
    except BaseException:
        deliverer.close()
        stop(live)
        raise
    service = await pane_swarm(home, tmp_path, live, CLI, clock)
    rule_sets, _ = load_rule_sets(None)
    text = TextWatcher(service, rule_sets)
    try:
        live.wait(READY)
        (seen,) = await text.tick()
        assert seen.state is AgentState.IDLE, seen.evidence
        assert "'*   Type your message or @path/to/file'" in seen.evidence
        assert "make a file" not in live.screen()  # the early try typed nothing
        receipt = await deliverer.deliver(parcel)
        assert receipt.ok, receipt
        live.wait("file made", timeout=60)
        assert (tmp_path / "yolo" / "work" / "made-by-localmodel.txt").exists()
        deadline = time.monotonic() + 30
        while (seen := (await text.tick())[0]).state is not AgentState.IDLE:
            assert time.monotonic() < deadline, seen.evidence
            await asyncio.sleep(0.5)
    finally:
        await text.close()
        deliverer.close()
        await service.close()
        stop(live)


async def test_a_tmux_agents_turns_in_the_ledger_are_what_localmodel_reported(
    gemini: LiveCLI, tmp_path: Path
) -> None:
    """Issue 51, item 4: a tmux agent's answers read from Gemini CLI's own saved chat (in its
    home, ``$GEMINI_CLI_HOME`` of the environment swarm runs with) into the cost ledger at
    the watch's ticks, with the task the agent holds: "count my tokens" (4321 in, 87 out),
    then "make a file" (a shell call, allowed once when asked, and the answer after it). The
    agent's sums are localmodel's count of what it reported to the requests offering tools;
    its router's request before each prompt (a flash-lite model asked for JSON, no tools) is
    written nowhere (:func:`check_ledger_is_localmodels`). Its model's price from the price
    table (Gemini CLI writes no cost)."""

    def count() -> None:
        gemini.send("count my tokens")
        gemini.wait("✦ tokens counted")
        gemini.wait(READY)

    def make() -> None:
        gemini.send("make a file")
        if gemini.wait_any(("Allow execution of [Shell]?", "✦ file made"), 60) != "✦ file made":
            gemini.wait("3. No, suggest changes (esc)")
            gemini.keys("1")
        gemini.wait("✦ file made")
        gemini.wait(READY)

    folder = ("GEMINI_CLI_HOME", gemini.root / "home")
    ready = functools.partial(gemini.wait, READY)
    counted = await usage_of_turns(gemini, CLI, tmp_path, folder, ready, [count, make])
    check_ledger_is_localmodels(counted, lambda r: "JSON asked" in r["outcome"])
    assert {(r["source"], r["model"], r["cost_from"]) for r in counted.rows} == {
        ("transcript", "gemini-3.8-flash", "price"),
    }, counted.rows  # fmt: skip
    assert counted.spent.unknown == 0
