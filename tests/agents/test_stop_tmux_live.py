"""A stop on the tmux route (issue 64, item 1; issue 79, item 2): each real CLI in a tmux pane,
in a turn against localmodel (its answer streaming, or its model still silent), gets its own
interrupt keys from ``swarm agents stop`` (Claude Code's Escape, opencode's Escape twice,
Aider's one Ctrl+C) and from a withdrawal typed by swarm's tmux deliverer; its pane reads
idle soon after, its process the same one (never a killed session), and its next prompt goes
through. Each CLI started once for the module; Aider as docs/agents.md's recipe starts it
(its model's own edit format: a bare "> " prompt, which read unknown all through an answer)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from automation.tmux.delivery import TmuxDeliverer
from automation.tmux.interrupt import Outcome
from core import clis
from core.agent_state import AgentState
from core.assignment import STOPPED_IDLE
from core.clis.base import UsageTurn
from core.clis.opencode.database import NAME, DatabaseReader, data_dir
from core.delivery import KillSwitch
from core.protocols import Parcel
from tests.agents.launch import AIDER_RECIPE_ARGS, agent_of, launch, stop
from tests.agents.live import LiveCLI, reading, save_pane
from tests.helpers import CliResult, run_cli, write_agents

pytestmark = pytest.mark.xdist_group("stop-tmux-live")
STREAM_S = 90.0
PIECE_S = 1.0  # the streaming answer's pace
SCRIPT = f"""
default = [{{ text = "localmodel default answer" }}]

[[turns]]
match = "say hello"
text = "hello from localmodel"

[[turns]]
match = "work for a long while"
[[turns.steps]]
text = "{"y" * int(STREAM_S)} the very end"
chunk_chars = 1
chunk_delay = {PIECE_S}

[[turns]]
match = "think in silence"
[[turns.steps]]
text = "the very end after a silence"
delay = {STREAM_S}
"""
STREAMING = "work for a long while"
IDLE_WITHIN_S = 10.0  # generous: a loaded machine's, far under the turn's STREAM_S


_clis: dict[int, str] = {}  # each live CLI's name, by its object


@pytest.fixture(scope="module", params=["claude-code", "codex", "gemini", "opencode", "aider"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveCLI]:
    """The CLI at its input in a tmux pane."""
    cli = str(request.param)
    root = tmp_path_factory.mktemp(f"stop-tmux-{cli}")
    if cli == "aider":  # as the recipe starts it: a bare "> " prompt (issue 79's day)
        made = launch(cli, root, SCRIPT, bare=True, args=AIDER_RECIPE_ARGS, ready=">")
    else:
        made = launch(cli, root, SCRIPT)
    _clis[id(made)] = cli
    try:
        yield made
    finally:
        stop(made)


def cli_of(live: LiveCLI) -> str:
    return _clis[id(live)]


def person(live: LiveCLI, folder: Path, *args: str) -> CliResult:
    """``swarm ARGS`` by a person, whose agents file makes the pane agent A (tmux)."""
    config = write_agents(
        folder / "agents.toml",
        [{"id": "A", "role": "dev", "cli": cli_of(live), "delivery": "tmux",
          "tmux": live.target, "tmux_socket": str(live.tmux.socket)}],
    )  # fmt: skip
    return run_cli(folder / "home", *args, config=config, timeout=60)


def pane_process(live: LiveCLI) -> str:
    """The pane's process id and whether it is dead."""
    done = subprocess.run(
        ["tmux", "-S", str(live.tmux.socket), "display-message", "-p", "-t", live.target,
         "#{pane_pid} #{pane_dead}"], capture_output=True, text=True, timeout=10, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def asked(live: LiveCLI, prompt: str, before: int, within: float = 60) -> None:
    """Until the model has more than ``before`` requests holding ``prompt``."""
    deadline = time.monotonic() + within
    while asks(live, prompt) <= before:
        assert time.monotonic() < deadline, f"{prompt!r} not asked again"
        time.sleep(0.1)


def asks(live: LiveCLI, prompt: str) -> int:
    return sum(prompt in str(r.get("prompt") or "") for r in live.model.requests())


def read_state(live: LiveCLI) -> AgentState | None:
    found = reading(live, cli_of(live))
    return found.state if found is not None else None


def until_state(live: LiveCLI, state: AgentState, within: float) -> float:
    """Seconds until the pane reads ``state``."""
    started = time.monotonic()
    while read_state(live) is not state:
        assert time.monotonic() - started < within, (state, read_state(live), pane_lines(live)[-8:])
        time.sleep(0.05)
    return time.monotonic() - started


def pane_lines(live: LiveCLI) -> list[str]:
    """The pane's lines that are not blank."""
    return [line.rstrip() for line in live.screen().split("\n") if line.strip()]


def in_a_turn(live: LiveCLI, prompt: str) -> None:
    """``prompt`` sent, the model asked, the pane read at work; for the streaming turn, until
    its answer's second piece is sent (its pace after the model was asked: well into it)."""
    until_state(live, AgentState.IDLE, 60)
    before = asks(live, prompt)
    live.send(prompt)
    asked(live, prompt, before)
    until_state(live, AgentState.WORKING, 30)
    if prompt == STREAMING:
        last = [r for r in live.model.requests() if prompt in str(r.get("prompt") or "")][-1]
        time.sleep(max(0.0, float(last["at"]) + PIECE_S - time.time()))


def next_prompt_goes_through(live: LiveCLI) -> None:
    """ "say hello" sent, asked and answered below it (the pane shows the newest lines
    only: a count of answers on it stays the same once the oldest scrolls away)."""
    until_state(live, AgentState.IDLE, 30)
    before = asks(live, "say hello")
    live.send("say hello")
    asked(live, "say hello", before)
    deadline = time.monotonic() + 60
    while True:
        screen = live.screen()
        if "hello from localmodel" in screen[screen.rfind("say hello") :]:
            return
        assert time.monotonic() < deadline, screen
        time.sleep(0.1)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("turn", ["streaming", "silent"])
def test_swarm_agents_stop_presses_the_clis_interrupt_keys_and_the_pane_reads_idle(
    live: LiveCLI, tmp_path: Path, turn: str
) -> None:
    cli = clis.by_name(cli_of(live))
    assert cli is not None
    in_a_turn(live, STREAMING if turn == "streaming" else "think in silence")
    process = pane_process(live)
    asked = time.monotonic()
    done = person(live, tmp_path, "agents", "stop", "A")
    said = time.monotonic()
    idle_s = until_state(live, AgentState.IDLE, IDLE_WITHIN_S)
    keys = " ".join(cli.interrupt)
    word = "keys" if len(cli.interrupt) > 1 else "key"
    pressed = f"A: {cli.title}'s interrupt {word} pressed ({keys} in its tmux pane)"
    assert done.code == 0 and done.out.startswith(f"{pressed}: its pane reads idle "), (
        done.out + done.err
    )
    print(f"{cli.name} {turn}: the stop took {said - asked:.2f} s ({done.out.strip()}); "
          f"idle read {idle_s:.2f} s after it")  # fmt: skip
    # swarm's own word on it at once, not at its watch's next look (issue 79, item 2)
    rows = json.loads(person(live, tmp_path, "agents", "--json").out)
    (row,) = [r for r in rows if r["id"] == "A"]
    assert (row["state"], row["evidence"]) == ("idle", STOPPED_IDLE), row
    assert pane_process(live) == process  # the same process: never a killed session
    if turn == "streaming" and cli.name != "claude-code":  # (Claude Code's: its own test)
        save_pane(live, cli.name, "interrupted")
    assert "the very end" not in live.screen()  # the answer never came whole
    events = json.loads(person(live, tmp_path, "events", "--json", "--kind", "agent.stopped").out)
    assert [(e["agent"], e["text"]) for e in events] == [
        ("A", f"A's turn stopped by cli ({keys} in its tmux pane)")
    ]
    again = person(live, tmp_path, "agents", "stop", "A")  # idle now: nothing pressed
    assert (again.code, again.out.strip()) == (
        0,
        "A: no turn was running (its pane reads idle): nothing pressed",
    ), again.err
    assert pane_process(live) == process
    # Aider quits at a second Ctrl+C within 2 s of its first (the stop's): one pressed by
    # the second stop is taken before the next prompt, which then never goes through
    next_prompt_goes_through(live)
    assert pane_process(live) == process


@pytest.mark.timeout(300)
async def test_a_withdrawal_stops_the_turn_and_types_no_notice(
    live: LiveCLI, tmp_path: Path
) -> None:
    """swarm's tmux deliverer, given a withdrawal for an agent at work, stops its turn with
    its CLI's keys and types nothing: the notice goes with the agent's next message (a turn
    of its own would be a paid request, the agent at work again); the pane reads idle."""
    in_a_turn(live, STREAMING)
    process = pane_process(live)
    home = tmp_path / "home"
    deliverer = TmuxDeliverer(home, KillSwitch(home))
    notice = "T-1 (long) is no longer yours: cancelled by me. say hello"
    try:
        receipt = await deliverer.deliver(
            Parcel(1, agent_of(live, cli_of(live)), notice, "swarm", task_id=1, withdraw=True)
        )
    finally:
        deliverer.close()
    assert receipt.ok and receipt.carried and receipt.idle_seen, receipt  # idle: judged so
    until_state(live, AgentState.IDLE, 60)
    assert "the very end" not in live.screen()
    assert "is no longer yours" not in live.screen() and asks(live, "is no longer yours") == 0
    assert pane_process(live) == process


@pytest.mark.timeout(300)
@pytest.mark.parametrize("live", ["opencode"], indirect=True)
def test_opencodes_stopped_turn_is_read_of_unknown_usage_never_short(
    live: LiveCLI, tmp_path: Path
) -> None:
    """Issue 79: opencode (1.18.33) writes the answer a stop ended with an aborted error and
    every token 0: its usage never came, though the model was asked. Its database read as
    swarm reads it gives that turn of unknown usage (none counted, never 0 or a short sum);
    the turn after it is known, as localmodel counted it."""
    work = os.path.realpath(live.root / "work")
    database = data_dir(live.root / "home" / ".local" / "share", work) / NAME
    reader = DatabaseReader(database, work)
    reader.read()  # the turns of the tests before
    in_a_turn(live, STREAMING)
    done = person(live, tmp_path, "agents", "stop", "A")
    assert done.code == 0, done.out + done.err
    until_state(live, AgentState.IDLE, IDLE_WITHIN_S)
    (stopped,) = read_turns(reader)
    assert (stopped.usage, stopped.cost_usd) == ({}, None), stopped
    before = asks(live, "say hello")
    live.send("say hello")
    asked(live, "say hello", before)
    (after,) = read_turns(reader)
    counted = [r for r in live.model.requests() if r["prompt"] == "say hello"][-1]["usage"]
    assert isinstance(counted, dict), counted
    said = (after.usage["input_tokens"], after.usage["output_tokens"])
    assert said == (counted["input"], counted["output"]), (after, counted)


def read_turns(reader: DatabaseReader) -> list[UsageTurn]:
    """The turns ``reader`` reads next (within 30 s)."""
    deadline = time.monotonic() + 30
    while not (turns := reader.read()):
        assert time.monotonic() < deadline, "no turn read"
        time.sleep(0.2)
    return turns


@pytest.mark.timeout(300)
@pytest.mark.parametrize("live", ["opencode", "aider"], indirect=True)
async def test_a_stop_as_soon_as_a_prompt_went_in_stops_its_turn(
    live: LiveCLI, tmp_path: Path
) -> None:
    """A stop the moment swarm's delivery of a prompt returns, before the CLI shows its work,
    stops the turn that prompt starts: never "no turn was running" while the turn goes on.
    opencode 1.18.33 read idle then (2 runs of 2 before the change; the other three CLIs
    showed their turn at once); Aider's echo of the prompt reads as its input until its
    spinner is drawn (seen once). The stop is another deliverer's, as a person's ``swarm
    agents stop`` is another process's: what the delivery noted, it reads off the pane. It
    comes within 2 s of the withdrawal's Ctrl+C before it (Aider's test before): it quits at
    a second Ctrl+C that soon, so the stop waits that out (before: Aider exited)."""
    cli = clis.by_name(cli_of(live))
    assert cli is not None
    until_state(live, AgentState.IDLE, 60)
    process = pane_process(live)
    home = tmp_path / "home"
    delivering, stopping = (TmuxDeliverer(home, KillSwitch(home)) for _ in range(2))
    agent = agent_of(live, cli_of(live))
    before = asks(live, "think in silence")
    try:
        receipt = await delivering.deliver(Parcel(1, agent, "think in silence", "swarm"))
        assert receipt.ok, receipt.reason
        done = await stopping.interrupt(agent, cli)
    finally:
        delivering.close()
        stopping.close()
    shown = [line.rstrip() for line in done.pane.lines if line.strip()]
    assert done.outcome is Outcome.IDLE, (done.outcome, done.after_s, shown[-12:])
    until_state(live, AgentState.IDLE, IDLE_WITHIN_S)
    await asyncio.sleep(2.5)  # it stays stopped (opencode may still send its request)
    assert read_state(live) is AgentState.IDLE, live.screen()
    assert pane_process(live) == process
    late = asks(live, "think in silence") - before
    print(f"{cli.name}: {done.outcome} {done.after_s:.2f} s after the keys; {late} request(s)")
    next_prompt_goes_through(live)
