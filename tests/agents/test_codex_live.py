"""The real Codex CLI (pinned in tools/install_agents.py) in tmux against localmodel.

Started ONCE for the module with its own HOME and ``CODEX_HOME`` (a ``local`` provider on
localmodel's Responses API, the work folder trusted, no background app-server daemon). Skipped
with the reason when the binary is missing or another version (a failure under
``SWARM_REQUIRE_AGENTS=1``: see tests/agents/live.py). ``SWARM_SAVE_PANES=1`` saves the panes
it reaches as the fixtures ``panes/codex/codex-VERSION-*.txt``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agents.deliveries import check_deliveries, check_reset
from tests.agents.launch import launch, stop
from tests.agents.live import (
    LiveCLI,
    check_ledger_is_localmodels,
    reading,
    save_pane,
    usage_of_turns,
)
from tests.agents.mcp_live import TURN, Desk, desk_fixture, task_now

pytestmark = pytest.mark.xdist_group("codex-live")  # one worker starts it, once

CLI = "codex"
READY = "? for shortcuts"
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
steps = [{ rate_limit = true, reset_in = 20 }]

[[turns]]
match = "be busy"
steps = [{ fail = 429, retry_after = 1, times = 12 }, { text = "never" }]

[[turns]]
match = "spend the quota"
steps = [{ rate_limit = true, quota = "day" }]

[[turns]]
match = "count my tokens"
steps = [{ text = "tokens counted", input_tokens = 4321, output_tokens = 87 }]

[[turns]]
match = "say goodbye"
text = "goodbye from localmodel"

[[turns]]
match = "fail once"
steps = [{ fail = 500, times = 8 }, { text = "through at last" }]

[[turns]]
match = "take your time"
steps = [{ text = "slowly, piece by piece", delay = 3, chunk_chars = 4, chunk_delay = 0.5 }]

[[turns]]
match = "freeze midway"
[[turns.steps]]
text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu"
chunk_chars = 6
chunk_delay = 0.2
stall_after = 3
"""
    + TURN
)


desk = desk_fixture(CLI)  # agent A's SWARM_HOME (store on PostgreSQL) and work folder


@pytest.fixture(scope="module")
def codex(desk: Desk) -> Iterator[LiveCLI]:
    """Codex in tmux (120x40) against localmodel, at its input (tests/agents/launch.py: its
    own HOME and CODEX_HOME, a ``local`` provider, the work folder trusted, no daemon)."""
    live = launch(CLI, desk.work.parent, SCRIPT, work=desk.work, env=desk.cli_env)
    try:
        yield live
    finally:
        stop(live)


def idle(codex: LiveCLI, timeout: float = 30.0) -> None:
    """Until swarm reads the pane idle (the turn's "Worked for" line below its answer)."""
    deadline = time.monotonic() + timeout
    while (found := reading(codex, CLI)) is None or found.state.value != "idle":
        assert time.monotonic() < deadline, codex.screen()
        time.sleep(0.1)


def _turns_asking(codex: LiveCLI, prompt: str) -> list[dict[str, object]]:
    """The model's turn requests with ``prompt``, not Codex's side requests for a title
    (those offer no tools: once in CI the last request with the prompt was one, so a turn
    without swarm's tools went unseen and was not asked again)."""
    return [
        r
        for r in codex.model.requests()
        if prompt in str(r.get("prompt")) and "no tools offered" not in str(r.get("outcome"))
    ]


def test_starts_at_its_input(codex: LiveCLI) -> None:
    screen = codex.screen()
    assert "OpenAI Codex (v0.169.0)" in screen
    assert "› Ask Codex to do anything" in screen
    save_pane(codex, CLI, "idle-start")


def test_a_pasted_prompt_is_answered(codex: LiveCLI) -> None:
    codex.wait(READY)
    codex.send("say hello")
    codex.wait("• hello from localmodel")
    request = codex.model.wait_request("say hello")
    assert (request["path"], request["status"]) == ("/v1/responses", 200)
    assert "say hello" in str(request["body"]["input"])
    assert request["outcome"] == "turn step 1: text 'hello from localmodel'"
    idle(codex)  # its "Worked for <1s • 14:02" below the answer: the turn is over
    save_pane(codex, CLI, "answer")


def test_working_shows_until_the_answer_streams(codex: LiveCLI) -> None:
    """0.169 shows "Working (Ns • esc to interrupt)" while it waits for the model's first
    piece only: while the text streams in, no status line says it is working."""
    codex.wait(READY)
    codex.send("take your time")
    codex.wait("esc to interrupt")
    save_pane(codex, CLI, "working")
    deadline = time.monotonic() + 30  # its turn's request, held from its arrival on
    while not _turns_asking(codex, "take your time"):
        assert time.monotonic() < deadline, codex.model.requests()
        time.sleep(0.1)
    codex.model.admin.release()  # its answer now, not at the end of its delay
    lines = codex.wait("• slowly")
    if "piece by piece" not in "\n".join(lines):  # caught mid-stream
        save_pane(codex, CLI, "streaming")
    codex.model.admin.release()  # the rest of its answer now, not at its pace
    codex.wait("piece by piece", timeout=60)


def test_a_scripted_shell_command_runs_without_asking(codex: LiveCLI) -> None:
    """In a trusted folder Codex's default sandbox lets a command write in it unasked."""
    codex.wait(READY)
    codex.send("make a file")
    codex.wait("• Ran touch made-by-localmodel.txt")
    codex.wait("• file made")
    assert (codex.root / "work" / "made-by-localmodel.txt").is_file()
    calls = [r for r in codex.model.requests() if r["prompt"] == "make a file"]
    assert [r["outcome"] for r in calls] == [
        "turn step 1: shell 'touch made-by-localmodel.txt'",
        "turn step 2: text 'file made'",
    ]


@pytest.mark.timeout(150)  # its MCP server's start, then one turn
def test_swarms_mcp_report_reaches_swarm(codex: LiveCLI, desk: Desk) -> None:
    """The model calls ``report`` through swarm's ``[mcp_servers.swarm]`` in the trusted work
    folder's .codex/config.toml (``default_tools_approval_mode = "approve"``: no dialog):
    swarm has A's task started, with its note."""
    deadline = time.monotonic() + 90  # `swarm mcp` took 7 s to answer on a loaded machine
    while time.monotonic() < deadline:  # its MCP servers start in the background: a prompt
        codex.wait(READY)  # sent before swarm's is connected gets no swarm tools: ask again
        seen = len(_turns_asking(codex, "report to swarm"))
        codex.send("report to swarm")
        while len(asked := _turns_asking(codex, "report to swarm")) == seen:
            assert time.monotonic() < deadline, codex.screen()
            time.sleep(0.2)
        if "no tool 'report'" not in str(asked[-1].get("outcome")):
            break
    codex.wait("• reported", timeout=30)  # the approval default: no dialog
    status, events = task_now(desk)
    assert status == "in_progress" and any("begun" in e for e in events), events


async def test_swarms_tmux_deliveries_are_each_taken_once_whole(
    codex: LiveCLI, tmp_path: Path
) -> None:
    """One prompt of each shape (lines, tabs, quotes, 2 KB) through swarm's own tmux
    deliverer: each taken once, whole, none recorded delivered that the CLI never took."""
    codex.wait(READY)
    await check_deliveries(codex, CLI, tmp_path)


async def test_swarms_hooks_in_hooks_json_report_after_the_person_trusts_them(
    tmp_path: Path,
) -> None:
    """``swarm agents hooks install``'s ``.codex/hooks.json`` in the workspace: Codex asks
    once to review them (swarm reads that as waiting, with its three options), and once
    trusted each turn reports through swarm's hook: the agent is working on its
    ``UserPromptSubmit``, idle on its ``Stop`` (a project's ``notify`` never ran)."""
    from core.clis.codex.hooks import install as install_codex
    from core.service.swarm import SwarmService
    from core.settings import Settings
    from tests.agents.launch import launch, stop
    from tests.agents.live import ROOT
    from tests.helpers import write_agents

    work, home = tmp_path / "work", tmp_path / "swarm"
    work.mkdir()
    agent: dict[str, object] = {"id": "A", "role": "dev", "workspace": str(work), "cli": CLI}
    config = write_agents(tmp_path / "agents.toml", [agent])
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    service = await SwarmService.open(settings)
    command = (
        f"env SWARM_HOME={home} SWARM_CONFIG={config} PYTHONPATH={ROOT} "
        f"{sys.executable} -m bot.cli.hook --agent A"
    )
    install_codex(home, work, command)
    live = launch(CLI, tmp_path / "codex", SCRIPT, work=work, ready="Hooks need review")
    try:
        from core.agents._text_rules import classify, load_rule_sets

        rules = {rs.cli: rs for rs in load_rule_sets(None)[0]}[CLI]
        seen = classify(rules, live.screen().split("\n"), 0)
        assert seen is not None and (seen.rule, seen.state.value) == ("hooks-review", "waiting")
        assert [o.key for o in seen.options] == ["1", "2", "3"] and seen.submit == ("enter",)
        choose(live, "2", "› 2. Trust all and continue")  # a person's answer, then Enter
        live.keys("Enter")
        live.wait(READY)
        live.send("say hello")
        live.wait("hello from localmodel")
        deadline = time.monotonic() + 20
        while True:
            row = next(r for r in await service.roster.rows() if r["id"] == "A")
            if row["evidence"] == "hook: Stop" or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert (row["state"], row["signal"], row["evidence"]) == ("idle", "hook", "hook: Stop")
    finally:
        stop(live)
        await service.close()


def test_an_api_keys_429_and_a_spent_quota_read_limited_until_the_next_answer(
    codex: LiveCLI,
) -> None:
    """0.169 does not retry an API key's 429: "■ exceeded retry limit, last status: 429 Too
    Many Requests, ..." at once, and "■ Quota exceeded. ..." for insufficient_quota: both
    limited, no reset shown (before: errored, as any "■" line). The next answer below them
    ("• goodbye from localmodel") ends them: idle."""
    codex.wait(READY)
    codex.send("hit the rate limit")
    codex.wait("429 Too Many Requests")
    seen = reading(codex, CLI)
    assert seen is not None and (seen.rule, seen.state.value) == ("rate-limited", "limited")
    assert seen.until is None
    save_pane(codex, CLI, "limit-429")
    codex.send("spend the quota")
    codex.wait("■ Quota exceeded")
    seen = reading(codex, CLI)
    assert seen is not None and (seen.rule, seen.state.value) == ("rate-limited", "limited")
    save_pane(codex, CLI, "quota-exceeded")
    codex.send("say goodbye")
    codex.wait("• goodbye from localmodel")
    idle(codex)
    save_pane(codex, CLI, "limit-then-answer")


def test_a_429_it_retries_reads_limited_while_it_reconnects(codex: LiveCLI) -> None:
    """A 429 with ``retry-after``: 0.169 retries it on its own, "• Server is busy,
    reconnecting 1/5 (2s • esc to interrupt)" over "└ Exceeded retry limit, last status: 429
    ...": limited (before: working, by its "esc to interrupt", for the whole retry), then
    "■ exceeded retry limit, last status: 429 ..." once it gives up: limited still."""
    codex.wait(READY)
    codex.send("be busy")
    lines = codex.wait("Server is busy, reconnecting", timeout=60)
    seen = reading(codex, CLI)
    assert seen is not None, lines
    assert (seen.rule, seen.state.value) == ("busy-reconnecting", "limited"), seen.evidence
    save_pane(codex, CLI, "busy-reconnecting")
    deadline = time.monotonic() + 90  # its own "■" line below this turn's prompt
    while "■ exceeded retry limit" not in codex.screen().split("› be busy")[-1]:
        assert time.monotonic() < deadline, codex.screen()
        time.sleep(0.2)
    seen = reading(codex, CLI)
    assert seen is not None and (seen.rule, seen.state.value) == ("rate-limited", "limited")


def test_reconnecting_after_a_500_reads_errored_then_working_again(codex: LiveCLI) -> None:
    """A 500: 0.169 retries on its own, 5 requests (0-3 s, nothing shown), then "◦
    Reconnecting... 1/5 (3s • esc to interrupt)" over "└ We're currently experiencing high
    demand, ...": errored, not working (no work is done; before: working, from its "esc to
    interrupt"). The 8th request gets through."""
    codex.wait(READY)
    codex.send("fail once")
    codex.wait("Reconnecting... 1/5")
    seen = reading(codex, CLI)
    assert seen is not None and (seen.rule, seen.state.value) == ("reconnecting", "errored")
    save_pane(codex, CLI, "reconnecting")
    codex.wait("• through at last")


def choose(live: LiveCLI, key: str, shown: str) -> None:
    """Press an option's ``key`` until the dialog shows it chosen (``shown``): a key pressed
    as the dialog appears can be lost, and pressing it again only chooses it again."""
    for _ in range(3):
        live.keys(key)
        with contextlib.suppress(AssertionError):
            live.wait(shown, timeout=5)
            return
    raise AssertionError(f"{shown!r} never showed: {live.screen()}")


def frozen(codex: LiveCLI, text: str, timeout: float = 30.0) -> str:
    """The pane once ``text`` shows and the screen then stays the same for a second (looked
    at every 0.05 s: a screen still since ``text`` showed is not waited on twice)."""
    codex.wait(text, timeout)
    deadline = time.monotonic() + timeout
    before, since = codex.screen(), time.monotonic()
    while time.monotonic() - since < 1.0:
        time.sleep(0.05)
        now = codex.screen()
        if now != before:
            before, since = now, time.monotonic()
        assert time.monotonic() < deadline, f"the screen never stood still: {now}"
    return before


async def test_a_stream_frozen_mid_answer_is_working_without_progress_then_stalled(
    codex: LiveCLI, tmp_path: Path
) -> None:
    """A stream frozen after its first words: 0.169 shows the answer so far ("• alpha beta
    gamma d") above its composer and nothing else, no spinner, no "Worked for" line (which
    ends every turn). swarm's text watcher reads working, progress at the first look only;
    the stall clock runs, and the agent holding a task is stalled after SWARM_STALL_AFTER.
    Before: idle at every look (the composer). Released, the answer completes: idle."""
    from core.agents._alerts import list_alerts
    from core.agents._text_rules import STILL, load_rule_sets
    from core.coordinator.jobs import Watcher
    from core.coordinator.scheduler import Scheduler
    from core.models import TaskSpec
    from core.protocols import ManualClock
    from core.service.swarm import SwarmService
    from core.settings import Settings
    from core.watch.text_signal import TextWatcher
    from tests.helpers import RecordingDeliverer, write_agents
    from tests.watch.conftest import watch_settings

    socket = str(codex.tmux.socket)
    agent: dict[str, object] = {"id": "A", "role": "dev", "tmux": codex.target,
                                "tmux_socket": socket, "cli": CLI}  # fmt: skip
    config = write_agents(tmp_path / "agents.toml", [agent])
    env = {"SWARM_HOME": str(tmp_path / "home"), "SWARM_CONFIG": str(config)}
    (tmp_path / "home").mkdir()
    clock = ManualClock()
    service = await SwarmService.open(Settings.from_env(env), clock)
    text = TextWatcher(service, load_rule_sets(None)[0])
    watcher = Watcher(service, watch_settings(stall_after_s=30.0, grace_s=5.0), text=text)
    try:
        task = await service.tasks.create(TaskSpec("answer slowly"), "test")
        await service.tasks.assign(task.id, "A", "test")
        await Scheduler(service, RecordingDeliverer()).run_burst()
        codex.wait(READY)
        codex.send("freeze midway")
        save_pane(codex, CLI, "stream-frozen", frozen(codex, "• alpha"))
        looks = []
        for _ in range(8):  # one look every 10 s of the watcher's clock
            await watcher.tick()
            row = next(r for r in (await service.status())["agents"] if r["id"] == "A")
            looks.append((row["state"], row["evidence"]))
            clock.advance(10.0)
        assert looks[0] == ("working", looks[0][1]) and "rule turn" in looks[0][1], looks
        assert looks[1][0] == "working" and STILL in looks[1][1], looks
        assert looks[-1][0] == "stalled", looks
        assert [a.kind for a in await service.store.read(list_alerts)] == ["stalled"]
        codex.model.admin.release()
        idle(codex)
        assert "Worked for" in codex.screen().split("freeze midway")[-1]
    finally:
        await text.close()
        await service.close()


async def test_a_reset_starts_a_new_chat_with_no_dialog_in_a_git_workspace(
    codex: LiveCLI, tmp_path: Path
) -> None:
    """swarm's reset between tasks (``reset_between_tasks``) through its tmux deliverer. It
    typed "/new", which 0.169 answers in a git workspace with "Where should the new
    conversation run?" (1. Use current Git worktree / 2. Create new Git worktree): read as
    idle, the next prompt was pasted into it. Its "/clear" starts a new chat at once: the
    next prompt is taken, alone in its conversation."""
    codex.wait(READY)
    screen = await check_reset(codex, CLI, tmp_path, idle, "› Ask Codex to do anything")
    assert "Where should the new conversation run?" not in screen


async def test_a_tmux_agents_turns_in_the_ledger_are_what_localmodel_reported(
    codex: LiveCLI, tmp_path: Path
) -> None:
    """Issue 51, item 4: a tmux agent's turns read from Codex's own session rollout (its
    ``$CODEX_HOME``, the environment swarm runs with) into the cost ledger at the watch's
    ticks, with the task the agent holds: "count my tokens" (4321 in, 87 out), then "make a
    file" (a shell call Codex runs unasked, and the answer after it). The agent's sums are
    localmodel's count of what it reported to the requests offering tools; Codex's side
    requests for a title ("Generate a concise, single-line task title", no tools) are not in
    its rollout (:func:`check_ledger_is_localmodels`). Priced by the price table (Codex
    writes no cost)."""

    def count() -> None:
        codex.send("count my tokens")
        codex.wait("• tokens counted")
        idle(codex)

    def make() -> None:
        codex.send("make a file")
        codex.wait("• file made")
        idle(codex)

    folder = ("CODEX_HOME", codex.root / "home" / ".codex")
    ready = functools.partial(codex.wait, READY)
    counted = await usage_of_turns(codex, CLI, tmp_path, folder, ready, [count, make])
    check_ledger_is_localmodels(counted, lambda r: "single-line task title" in str(r["prompt"]))
    assert {(r["source"], r["model"], r["cost_from"]) for r in counted.rows} == {
        ("transcript", "local-model", "price"),
    }, counted.rows  # fmt: skip
