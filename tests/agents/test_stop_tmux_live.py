"""``swarm agents stop`` on the tmux route (issue 64, item 1): the real Claude Code in a tmux
pane, in a long turn against localmodel, gets its own interrupt key (Escape) and stops long
before the model's stream would end; started once for the module."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.agent_state import AgentState
from tests.agents.launch import launch, stop
from tests.agents.live import LiveCLI, reading
from tests.helpers import CliResult, run_cli, write_agents

pytestmark = pytest.mark.xdist_group("claude-code-live")
CLI = "claude-code"
STREAM_S = 90.0
SCRIPT = f"""
default = [{{ text = "localmodel default answer" }}]

[[turns]]
match = "work for a long while"
[[turns.steps]]
text = "{"y" * int(STREAM_S)} the very end"
chunk_chars = 1
chunk_delay = 1.0
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCLI]:
    """Claude Code at its input in a tmux pane."""
    made = launch(CLI, tmp_path_factory.mktemp("stop-tmux"), SCRIPT)
    try:
        yield made
    finally:
        stop(made)


def person(live: LiveCLI, folder: Path, *args: str) -> CliResult:
    """``swarm ARGS`` by a person, whose agents file makes the pane agent A (tmux)."""
    config = write_agents(
        folder / "agents.toml",
        [{"id": "A", "role": "dev", "cli": CLI, "delivery": "tmux", "tmux": live.target,
          "tmux_socket": str(live.tmux.socket)}],
    )  # fmt: skip
    return run_cli(folder / "home", *args, config=config, timeout=60)


@pytest.mark.timeout(240)
def test_swarm_agents_stop_presses_the_clis_interrupt_key(live: LiveCLI, tmp_path: Path) -> None:
    live.send("work for a long while")
    live.model.wait_request("work for a long while")
    live.wait("esc to interrupt")  # its turn runs
    asked = time.monotonic()
    done = person(live, tmp_path, "agents", "stop", "A")
    assert (done.code, done.out.strip()) == (
        0,
        "A: Claude Code's interrupt key pressed (escape in its tmux pane)",
    ), done.err
    deadline = time.monotonic() + 15
    while "esc to interrupt" in live.screen():
        assert time.monotonic() < deadline, live.screen()
        time.sleep(0.1)
    assert time.monotonic() - asked < STREAM_S / 3
    found = reading(live, CLI)
    assert found is not None and found.state is not AgentState.WORKING, found
    assert "the very end" not in live.screen()  # the answer never came whole
    events = json.loads(person(live, tmp_path, "events", "--json", "--kind", "agent.stopped").out)
    assert [(e["agent"], e["text"]) for e in events] == [
        ("A", "A's turn stopped by cli (escape in its tmux pane)")
    ]


def test_a_window_with_no_pane_cannot_be_stopped_said_in_one_line(tmp_path: Path) -> None:
    config = write_agents(tmp_path / "agents.toml", [{"id": "A", "role": "dev", "cli": CLI}])
    done = run_cli(tmp_path / "home", "agents", "stop", "A", config=config)
    assert done.code != 0
    assert done.err.strip().splitlines() == [
        "swarm: error: A: its route (a window with no tmux pane) has no way to stop a turn: "
        "stop it where it runs"
    ], done.err
