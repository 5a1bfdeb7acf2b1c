"""``swarm agents remove`` and ``swarm agents pause|resume --all`` in real child processes
over a real database (issue 41, item 4): the agents file edited atomically with its
comments kept, one-line refusals with nothing written."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from core.agents_file import load_team
from tests.helpers import run_cli

TEAM = """\
# our team (a comment remove keeps)
[desktop]
command = "claude"

[desktop.agent.Agent-2]
command = "codex"  # Agent-2's own

[[agent]]
id = "Agent-1"
role = "coder"  # keep me
delivery = "inbox"

# the second one
[[agent]]
id = "Agent-2"
role = "qa"
delivery = "inbox"

[[agent]]
id = "Agent-3"
role = "coder"
delivery = "inbox"

[[parked]]
id = "Agent-4"
role = "coder"
delivery = "inbox"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "agents.toml"
    path.write_text(TEAM, encoding="utf-8")
    path.chmod(0o644)
    return path


def ids(config: Path) -> tuple[list[str], list[str]]:
    agents, parked = load_team(config)
    return [a.id for a in agents], [a.id for a in parked]


@pytest.mark.both_databases
def test_remove_refuses_an_agent_holding_a_task_and_hands_it_on_when_told(
    cli_home: Path, config: Path
) -> None:
    home = cli_home
    assert run_cli(home, "task", "add", "Check it", "--role", "qa", config=config).code == 0
    burst = run_cli(home, "run", "--no-discord", "--burst", config=config)
    assert "1 assigned" in burst.out, burst.err
    refused = run_cli(home, "agents", "remove", "Agent-2", config=config)
    assert refused.code == 2
    assert refused.err.strip().splitlines() == [
        "swarm: error: Agent-2 holds T-1 (assigned): nothing removed (--hand-on puts the "
        "tasks back in the queue for another agent)"
    ]
    assert config.read_text(encoding="utf-8") == TEAM
    assert not config.with_name("agents.toml.bak").exists()
    done = run_cli(home, "agents", "remove", "agent-2", "--hand-on", config=config)
    assert done.code == 0, done.err
    assert done.out.strip().splitlines() == [
        f"removed Agent-2 from {config} (the file before: {config}.bak); T-1 back in the queue"
    ]
    assert ids(config) == (["Agent-1", "Agent-3"], ["Agent-4"])
    text = config.read_text(encoding="utf-8")
    assert "# our team (a comment remove keeps)" in text and 'role = "coder"  # keep me' in text
    assert "Agent-2" not in tomllib.loads(text)["desktop"].get("agent", {})  # its section too
    assert "codex" not in text
    assert config.with_name("agents.toml.bak").read_text(encoding="utf-8") == TEAM
    assert config.stat().st_mode & 0o777 == 0o600
    task = json.loads(run_cli(home, "task", "show", "T-1", "--json", config=config).out)
    assert task["status"] == "ready" and task["agent"] is None


def test_remove_names_bad_input_in_one_line_and_writes_nothing(
    tmp_path: Path, config: Path
) -> None:
    home = tmp_path / "home"
    for args, message in [
        (["Agent-9"], "unknown agent(s) Agent-9 in"),
        (["Agent-1", "nobody"], "unknown agent(s) nobody in"),
        (["Agent-1", "Agent-2", "Agent-3"], "would have no agent left: nothing removed"),
    ]:
        done = run_cli(home, "agents", "remove", *args, config=config)
        assert done.code == 2 and message in done.err, done.err
        assert done.err.count("\n") == 1, done.err
    assert config.read_text(encoding="utf-8") == TEAM
    assert not config.with_name("agents.toml.bak").exists()
    by_agent = run_cli(home, "agents", "remove", "Agent-3", config=config, agent="Agent-1")
    assert by_agent.code != 0 and config.read_text(encoding="utf-8") == TEAM
    parked = run_cli(home, "agents", "remove", "Agent-4", "Agent-3", config=config)
    assert parked.code == 0, parked.err
    assert ids(config) == (["Agent-1", "Agent-2"], [])
    helped = run_cli(home, "agents", "remove", "--help", config=config)
    assert "--hand-on" in helped.out and ".bak" in helped.out


def test_pause_and_resume_all_say_how_many(tmp_path: Path, config: Path) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "agents", "pause", "Agent-2", config=config).code == 0
    paused = run_cli(home, "agents", "pause", "--all", config=config)
    assert paused.out.strip() == "paused 2 of 3 agents (1 were already paused)", paused.err
    rows = json.loads(run_cli(home, "agents", "--json", config=config).out)
    assert all(row["paused"] for row in rows)
    by_agent = run_cli(home, "agents", "resume", "--all", config=config, agent="Agent-1")
    assert by_agent.code != 0
    resumed = run_cli(home, "agents", "resume", "--all", config=config)
    assert resumed.out.strip() == "resumed 3 of 3 agents (0 were not paused)", resumed.err
    for args in (["pause"], ["pause", "Agent-1", "--all"], ["resume"]):
        done = run_cli(home, "agents", *args, config=config)
        assert done.code == 2 and "name one agent or --all" in done.err, done.err
        assert done.err.count("\n") == 1
    rows = json.loads(run_cli(home, "agents", "--json", config=config).out)
    assert not any(row["paused"] for row in rows)
