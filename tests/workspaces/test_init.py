"""``swarm workspaces init`` on a real repository: worktrees, setup, copies, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.agents_file import load_agents
from core.errors import InvalidInput, InvalidState, NotFound, SwarmError
from core.settings import bundled_agents_file
from core.workspaces import _manifest as manifest
from core.workspaces._manager import InitRequest, init
from core.workspaces._ops import find, list_all
from tests.helpers import run_cli
from tests.workspaces.conftest import GIT_ENV, commit_file, sh

AGENTS = {a.id: a for a in load_agents(bundled_agents_file())}
SETUP = 'test "$(basename "$PWD")" != Agent-5 && echo "installed in $PWD" > installed.txt'


def test_init_makes_eight_worktrees_and_marks_a_failed_setup(repo: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    record = init(home, AGENTS, InitRequest(repo, setup=SETUP, copy=(".env",)))
    assert record.base == "main" and sorted(record.workspaces) == sorted(AGENTS)
    listed = sh(repo, "worktree", "list", "--porcelain")
    for agent in AGENTS:
        space = record.workspaces[agent]
        path = Path(space.path)
        assert path == home / "workspaces" / "project" / agent
        assert f"worktree {path}" in listed and f"branch refs/heads/swarm/{agent}" in listed
        assert (path / "app.py").read_text() == "print('hello')\n"
        assert (path / ".env").read_text() == "TOKEN=local\n"
        log = Path(space.log or "").read_text()
        assert log.startswith(f"$ {SETUP}")
    broken = record.workspaces["Agent-5"]
    assert broken.status == "broken" and "setup exited with status 1" in (broken.reason or "")
    assert not (Path(broken.path) / "installed.txt").exists()
    ok = record.workspaces["Agent-1"]
    assert ok.status == "ready" and ok.reason is None
    assert (Path(ok.path) / "installed.txt").read_text().startswith("installed in")
    stored = manifest.load(home / "workspaces" / "project")
    assert stored is not None and stored.to_json() == record.to_json()
    rows = {r["agent"]: r for r in list_all(home, AGENTS)}
    assert rows["Agent-5"]["status"] == "broken" and rows["Agent-2"]["ahead"] == 0


def _state(repo: Path, home: Path) -> tuple[str, str, bool]:
    return (
        sh(repo, "branch", "--list"),
        sh(repo, "worktree", "list"),
        (home / "workspaces").exists(),
    )


@pytest.mark.parametrize(
    "case",
    [
        "not-a-repo",
        "dirty",
        "branch-exists",
        "unknown-agent",
        "missing-copy",
        "bad-base",
        "copy-outside",
    ],
)
def test_bad_input_changes_nothing(repo: Path, tmp_path: Path, case: str) -> None:
    home = tmp_path / "home"
    request = InitRequest(repo, agents=("Agent-1", "Agent-2"), copy=(".env",))
    expected: type[SwarmError] = InvalidInput
    if case == "not-a-repo":
        plain = tmp_path / "plain"
        plain.mkdir()
        request = InitRequest(plain)
    elif case == "dirty":
        (repo / "app.py").write_text("changed\n")
        expected = InvalidState
    elif case == "branch-exists":
        sh(repo, "branch", "swarm/Agent-2")
        expected = InvalidState
    elif case == "unknown-agent":
        request = InitRequest(repo, agents=("Agent-1", "Agent-99"))
        expected = NotFound
    elif case == "missing-copy":
        request = InitRequest(repo, agents=("Agent-1",), copy=(".env", "secrets.txt"))
    elif case == "bad-base":
        request = InitRequest(repo, agents=("Agent-1",), base="develop")
    else:
        request = InitRequest(repo, agents=("Agent-1",), copy=("../x",))
    before = _state(repo, home)
    with pytest.raises(expected):
        init(home, AGENTS, request)
    assert _state(repo, home) == before


def test_a_second_init_adds_agents_and_refuses_existing_ones(repo: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    init(home, AGENTS, InitRequest(repo, agents=("Agent-1",)))
    record = init(home, AGENTS, InitRequest(repo, agents=("agent-2",)))
    assert sorted(record.workspaces) == ["Agent-1", "Agent-2"]
    with pytest.raises(InvalidState, match="Agent-1 already has a workspace"):
        init(home, AGENTS, InitRequest(repo, agents=("Agent-1",)))


def test_cli_init_and_errors(repo: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    sh(repo, "branch", "swarm/Agent-3")
    result = run_cli(
        home, "workspaces", "init", str(repo), "--agents", "Agent-2", "Agent-3", env=GIT_ENV
    )
    assert result.code == 2 and result.out == ""
    assert result.err == (
        f"swarm: error: branch swarm/Agent-3 already exists in {repo}: "
        "remove it or pick other agents\n"
    )
    assert not (home / "workspaces").exists()
    result = run_cli(
        home,
        "workspaces",
        "init",
        str(repo),
        "--agents",
        "Agent-2",
        "--setup",
        "echo ok",
        "--copy",
        ".env",
        env=GIT_ENV,
    )
    assert result.code == 0, result.err
    assert "Agent-2  swarm/Agent-2" in result.out and "1 workspace(s) ready, 0 broken" in result.out
    listed = run_cli(home, "workspaces", "list", env=GIT_ENV)
    assert "swarm/Agent-2" in listed.out and "ready" in listed.out
    shown = run_cli(home, "workspaces", "show", "Agent-4", env=GIT_ENV)
    assert shown.code == 2 and shown.err.startswith("swarm: error: Agent-4 has no workspace")


def test_configured_workspace_is_found_and_init_makes_its_worktree_too(
    repo: Path, tmp_path: Path
) -> None:
    own = tmp_path / "own"
    sh(repo, "worktree", "add", "-q", "-b", "mine", str(own))
    config = tmp_path / "agents.toml"
    config.write_text(
        f'[[agent]]\nid = "Agent-1"\nrole = "dev"\nworkspace = "{own}"\n'
        '[[agent]]\nid = "Agent-2"\nrole = "dev"\n',
        encoding="utf-8",
    )
    agents = {a.id: a for a in load_agents(config)}
    place = find(tmp_path / "home", agents, "Agent-1")
    assert place is not None and place.path == own and place.branch == "mine"
    assert place.base is None
    assert find(tmp_path / "home", agents, "Agent-2") is None
    commit_file(own, "x.txt", "x\n", "own work")
    # an agent with the key gets its worktree too; the key still says where it works
    made = init(tmp_path / "home", agents, InitRequest(repo, agents=("Agent-1",)))
    assert Path(made.workspaces["Agent-1"].path).is_dir()
    again = find(tmp_path / "home", agents, "Agent-1")
    assert again is not None and again.path == own


@pytest.mark.parametrize("value", ['"relative/dir"', '""', "3"])
def test_agents_file_refuses_a_bad_workspace(tmp_path: Path, value: str) -> None:
    from core.errors import ConfigError

    config = tmp_path / "agents.toml"
    config.write_text(f'[[agent]]\nid = "Agent-1"\nrole = "dev"\nworkspace = {value}\n')
    with pytest.raises(ConfigError, match="agent Agent-1: workspace must be"):
        load_agents(config)


def test_a_post_checkout_hook_runs_in_each_new_worktree(repo: Path, tmp_path: Path) -> None:
    hook = repo / ".git" / "hooks" / "post-checkout"
    hook.write_text(
        '#!/bin/sh\necho "$1 $3" > hooked.txt\ntest "$(basename "$PWD")" != Agent-2\n',
        encoding="utf-8",
    )
    hook.chmod(0o755)
    record = init(tmp_path / "home", AGENTS, InitRequest(repo, agents=("Agent-1", "Agent-2")))
    ready, failed = record.workspaces["Agent-1"], record.workspaces["Agent-2"]
    assert ready.status == "ready"
    assert (Path(ready.path) / "hooked.txt").read_text() == f"{'0' * 40} 1\n"
    assert failed.status == "broken" and failed.reason == "post-checkout hook exited with status 1"


def test_cli_init_takes_an_agent_whose_agents_file_names_its_workspace(
    repo: Path, tmp_path: Path
) -> None:
    """A user who added ``workspace =`` by hand, then ran init for that agent: its worktree
    is made, and init says which folder it works in."""
    own = tmp_path / "own"
    own.mkdir()
    config = tmp_path / "agents.toml"
    config.write_text(
        f'[[agent]]\nid = "Agent-1"\nrole = "dev"\nworkspace = "{own}"\n', encoding="utf-8"
    )
    home = tmp_path / "home"
    result = run_cli(
        home, "workspaces", "init", str(repo), "--agents", "Agent-1", config=config, env=GIT_ENV
    )
    assert result.code == 0, result.err
    made = home / "workspaces" / "project" / "Agent-1"
    assert made.is_dir()
    assert f"Agent-1 works in {own} (workspace = in the agents file), not in {made}" in result.out
