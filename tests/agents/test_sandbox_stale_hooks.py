"""Hook files written before an agent was sandboxed run swarm's hook outside the sandbox
(swarm's Python and home, which the sandbox does not show). ``swarm run`` at its start, and a
running ``swarm run`` when it reloads an agents file that sandboxes an agent, rewrite them to
the door's ``swarm hook`` for each sandboxed agent, say so once, and leave an unsandboxed
agent's and the user's own hooks as they are."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, cli_env, run_cli
from tests.run_child import Lines, end

USERS = {"type": "command", "command": "echo mine"}


def _agents(tmp_path: Path, sandboxed: bool) -> Path:
    lines = []
    for name in ("A", "B"):
        lines += ["[[agent]]", f'id = "{name}"', 'role = "dev"', 'delivery = "inbox"',
                  'cli = "claude-code"', "hooks = true"]  # fmt: skip
        lines.append(f'workspace = "{tmp_path / name}"')
        lines += ["sandbox = true", ""] if sandboxed and name == "A" else [""]
    path = tmp_path / "agents.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _commands(tmp_path: Path, name: str) -> list[str]:
    settings = json.loads((tmp_path / name / ".claude" / "settings.local.json").read_text())
    return [h["command"] for entries in settings["hooks"].values() for e in entries
            for h in e["hooks"]]  # fmt: skip


def _installed(tmp_path: Path, home: Path) -> Path:
    """A's and B's hooks installed unsandboxed beside the user's own; the agents file."""
    for name in ("A", "B"):
        (tmp_path / name / ".claude").mkdir(parents=True)
        mine = {"hooks": {"Stop": [{"hooks": [USERS]}]}}
        (tmp_path / name / ".claude" / "settings.local.json").write_text(json.dumps(mine))
    config = _agents(tmp_path, sandboxed=False)
    installed = run_cli(home, "agents", "hooks", "install", config=config)
    assert installed.code == 0, installed.err
    assert any("bot.cli.hook --agent A" in c for c in _commands(tmp_path, "A"))
    return config


def _rewritten(tmp_path: Path) -> None:
    commands = _commands(tmp_path, "A")
    assert "/run/swarm/swarm hook --agent A" in commands and "echo mine" in commands
    assert not any("bot.cli.hook" in c for c in commands), commands
    assert any("bot.cli.hook --agent B" in c for c in _commands(tmp_path, "B"))


@pytest.mark.timeout(120)
def test_a_running_swarm_rewrites_them_when_the_agents_file_sandboxes_an_agent(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    config = _installed(tmp_path, home)
    env = cli_env(home, config) | {"SWARM_LOG_FILE": str(tmp_path / "log"), "SWARM_WEB": "off"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "run", "--no-discord"], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    out = Lines(proc)
    try:
        out.until("  Ctrl+C stops")
        _agents(tmp_path, sandboxed=True)  # the person sandboxes A while swarm runs
        out.until("swarm run: agents file reloaded")
        said = out.until("swarm run: A: ", timeout=30)[-1]
        assert said.rstrip().endswith("hooks now run through its door"), said
        _rewritten(tmp_path)
        log = (tmp_path / "log").read_text()
        assert log.count("hooks now run through its door") == 1, log
    finally:
        end(proc, out)


@pytest.mark.timeout(120)
def test_swarm_run_rewrites_a_sandboxed_agents_stale_hooks_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = _installed(tmp_path, home)
    _agents(tmp_path, sandboxed=True)  # the person sandboxes A afterwards
    first = run_cli(home, "run", "--no-discord", "--burst", config=config, timeout=60)
    assert first.code == 0, first.err
    said = [line for line in first.err.splitlines() if "through its door" in line]
    assert len(said) == 1 and "A: " in said[0], first.err
    _rewritten(tmp_path)
    again = run_cli(home, "run", "--no-discord", "--burst", config=config, timeout=60)
    assert again.code == 0 and "through its door" not in again.err, again.err
