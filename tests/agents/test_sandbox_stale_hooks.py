"""Hook files written before an agent was sandboxed run swarm's hook outside the sandbox
(swarm's Python and home, which the sandbox does not show). ``swarm run`` at its start
rewrites them to the door's ``swarm hook`` for each sandboxed agent, says so once, and leaves
an unsandboxed agent's and the user's own hooks as they are; a running ``swarm run`` does the
same when the agents file it reloads sandboxes an agent."""

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


@pytest.mark.timeout(120)
def test_swarm_run_rewrites_a_sandboxed_agents_stale_hooks_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for name in ("A", "B"):
        (tmp_path / name / ".claude").mkdir(parents=True)
        mine = {"hooks": {"Stop": [{"hooks": [USERS]}]}}
        (tmp_path / name / ".claude" / "settings.local.json").write_text(json.dumps(mine))
    config = _agents(tmp_path, sandboxed=False)
    installed = run_cli(home, "agents", "hooks", "install", config=config)
    assert installed.code == 0, installed.err
    assert any("bot.cli.hook --agent A" in c for c in _commands(tmp_path, "A"))
    _agents(tmp_path, sandboxed=True)  # the person sandboxes A afterwards
    first = run_cli(home, "run", "--no-discord", "--burst", config=config, timeout=60)
    assert first.code == 0, first.err
    said = [line for line in first.err.splitlines() if "through its door" in line]
    assert len(said) == 1 and "A: " in said[0], first.err
    commands = _commands(tmp_path, "A")
    assert "/run/swarm/swarm hook --agent A" in commands and "echo mine" in commands
    assert not any("bot.cli.hook" in c for c in commands), commands
    assert any("bot.cli.hook --agent B" in c for c in _commands(tmp_path, "B"))
    again = run_cli(home, "run", "--no-discord", "--burst", config=config, timeout=60)
    assert again.code == 0 and "through its door" not in again.err, again.err


@pytest.mark.timeout(120)
def test_a_running_swarm_rewrites_them_when_the_agents_file_sandboxes_an_agent(
    tmp_path: Path,
) -> None:
    """The person sandboxes A while ``swarm run`` runs: the reload that takes the new file
    rewrites A's hooks to its door's, said on the terminal (the log is in a file)."""
    home = tmp_path / "home"
    (tmp_path / "A" / ".claude").mkdir(parents=True)
    (tmp_path / "B").mkdir()
    config = _agents(tmp_path, sandboxed=False)
    assert run_cli(home, "agents", "hooks", "install", config=config).code == 0
    env = cli_env(home, config) | {"SWARM_LOG_FILE": str(tmp_path / "log"), "SWARM_WEB": "off"}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "run", "--no-discord"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    out = Lines(proc)
    try:
        out.until("  Ctrl+C stops")
        assert not any("/run/swarm/swarm" in c for c in _commands(tmp_path, "A"))
        _agents(tmp_path, sandboxed=True)
        said = out.until("swarm run: A: ")[-1]
        assert said.endswith("settings.local.json: hooks now run through its door\n"), said
        commands = _commands(tmp_path, "A")
        assert "/run/swarm/swarm hook --agent A" in commands, commands
        assert not any("bot.cli.hook" in c for c in commands), commands
    finally:
        end(proc, out)
