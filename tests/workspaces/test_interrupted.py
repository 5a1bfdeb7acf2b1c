"""An interrupted ``swarm workspaces init`` (killed mid-way, or Ctrl+C): the next init,
``workspaces remove`` and ``workspaces repair`` clean what it left; Ctrl+C removes what it
made before the command ends. Real git, the real CLI in a subprocess, real signals."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.agents_file import load_agents
from core.errors import InvalidState
from core.settings import bundled_agents_file
from core.workspaces import _manifest as manifest
from core.workspaces import _repair as repair
from core.workspaces._manager import InitRequest, init
from tests.helpers import ROOT, run_cli
from tests.workspaces.conftest import GIT_ENV, sh

AGENTS = {a.id: a for a in load_agents(bundled_agents_file())}
# the swarm process (the setup shell's parent) is killed by Agent-3's setup, mid-init
KILL_AT_AGENT_3 = 'if [ "$(basename "$PWD")" = Agent-3 ]; then kill -9 $PPID; fi'


def _killed_init(repo: Path, home: Path) -> None:
    result = run_cli(
        home, "workspaces", "init", str(repo), "--setup", KILL_AT_AGENT_3, env=GIT_ENV, timeout=120
    )
    assert result.code == -signal.SIGKILL, result
    record = manifest.load(home / "workspaces" / "project")
    assert record is not None and {s.status for s in record.workspaces.values()} == {"making"}
    assert sh(repo, "worktree", "list").count("[swarm/") == 8  # registered, half made


def _only_main(repo: Path) -> None:
    assert sh(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert sh(repo, "branch", "--list").split() == ["*", "main"]


def test_the_next_init_and_remove_clean_a_killed_init(repo: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _killed_init(repo, home)
    listed = run_cli(home, "workspaces", "list", env=GIT_ENV)
    assert sum(line.split()[3] == "making" for line in listed.out.splitlines()[1:]) == 8
    removed = run_cli(home, "workspaces", "remove", "Agent-1", env=GIT_ENV)
    assert removed.code == 0, removed.err
    folder = home / "workspaces" / "project"
    assert removed.out == (
        f"removed the half-made workspace {folder / 'Agent-1'} and branch swarm/Agent-1\n"
    )
    again = run_cli(
        home, "workspaces", "init", str(repo), "--setup", "true", env=GIT_ENV, timeout=120
    )
    assert again.code == 0, again.err
    assert "8 workspace(s) ready, 0 broken" in again.out
    porcelain = sh(repo, "worktree", "list", "--porcelain")
    assert porcelain.count("worktree ") == 9 and "prunable" not in porcelain
    assert "locked" not in porcelain
    for agent in AGENTS:
        assert (folder / agent / "app.py").read_text() == "print('hello')\n"


def test_repair_cleans_a_killed_init(repo: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _killed_init(repo, home)
    result = run_cli(home, "workspaces", "repair", env=GIT_ENV)
    assert result.code == 0, result.err
    assert result.out.count("removed the half-made workspace") == 8
    _only_main(repo)
    record = manifest.load(home / "workspaces" / "project")
    assert record is not None and record.workspaces == {}
    assert sorted(p.name for p in (home / "workspaces" / "project").iterdir()) == [
        ".logs",
        ".swarm-workspaces.json",
    ]
    assert run_cli(home, "workspaces", "repair", env=GIT_ENV).out == "nothing to repair\n"


def test_ctrl_c_removes_what_init_made(repo: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")} | GIT_ENV
    env |= {"SWARM_HOME": str(home), "XDG_CONFIG_HOME": f"{home}-no-user-config"}
    setup = "touch started && sleep 31.7"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "workspaces", "init", str(repo), "--setup", setup],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    folder = home / "workspaces" / "project"
    deadline = time.monotonic() + 60
    while not list(folder.glob("*/started")):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    _only_main(repo)
    record = manifest.load(folder)
    assert record is not None and record.workspaces == {}
    assert not [p for p in folder.iterdir() if p.name.startswith("Agent-")]
    shown = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "sleep 31.7" not in shown  # the setup commands were stopped too


def test_an_init_is_refused_while_another_holds_the_repository(repo: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    init(home, AGENTS, InitRequest(repo, agents=("Agent-1",)))
    record = manifest.load(home / "workspaces" / "project")
    assert record is not None
    with (
        repair.locked(record),
        pytest.raises(
            InvalidState,
            match=r"another swarm workspaces "
            r"init or repair of .* is running",
        ),
    ):
        init(home, AGENTS, InitRequest(repo, agents=("Agent-2",)))
    assert not (home / "workspaces" / "project" / "Agent-2").exists()


@pytest.fixture
def orphans() -> Iterator[list[int]]:
    """Sessions of setup commands left running; killed at the end if a test failed."""
    found: list[int] = []
    yield found
    for sid in found:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(sid, signal.SIGKILL)


def _orphaned_setup(repo: Path, home: Path, tmp_path: Path, orphans: list[int]) -> None:
    """An init killed (-9) by Agent-2's setup while Agent-1's setup sleeps, then would write
    a file: that setup runs on in its own session, an orphan (its session in ``orphans``)."""
    late = tmp_path / "late"
    setup = (
        'if [ "$(basename "$PWD")" = Agent-2 ]; then '
        "until [ -e ../Agent-1/started ]; do sleep 0.05; done; kill -9 $PPID; "
        f'else touch started; sleep 47.3; touch "{late}"; fi'
    )
    result = run_cli(
        home,
        "workspaces",
        "init",
        str(repo),
        "--agents",
        "Agent-1",
        "Agent-2",
        "--setup",
        setup,
        env=GIT_ENV,
        timeout=120,
    )
    assert result.code == -signal.SIGKILL, result
    record = manifest.load(home / "workspaces" / "project")
    assert record is not None
    orphans += [s.setup_pid for s in record.workspaces.values() if s.setup_pid]
    assert _running(str(late))  # the orphan


def _running(text: str) -> list[str]:
    shown = subprocess.run(
        ["ps", "-ww", "-eo", "args"], capture_output=True, text=True
    ).stdout  # -ww: whole lines, whatever COLUMNS says
    return [line for line in shown.splitlines() if text in line]


def _in_sessions(sids: list[int]) -> list[str]:
    """Live processes (not zombies) of the sessions ``sids``."""
    shown = subprocess.run(
        ["ps", "-ww", "-eo", "sid=,stat=,args="], capture_output=True, text=True
    ).stdout
    return [
        line
        for line in shown.splitlines()
        if int(line.split()[0]) in sids and not line.split()[1].startswith("Z")
    ]


def test_repair_stops_the_setup_commands_of_a_killed_init(
    repo: Path, tmp_path: Path, orphans: list[int]
) -> None:
    home = tmp_path / "home"
    _orphaned_setup(repo, home, tmp_path, orphans)
    result = run_cli(home, "workspaces", "repair", env=GIT_ENV)
    assert result.code == 0, result.err
    folder = home / "workspaces" / "project"
    assert (
        f"removed the half-made workspace {folder / 'Agent-1'} (its setup command was "
        "still running: stopped 2 process(es)) and branch swarm/Agent-1\n"
    ) in result.out
    assert orphans and not _in_sessions(orphans)
    _only_main(repo)


def test_the_next_init_stops_the_setup_commands_of_a_killed_init(
    repo: Path, tmp_path: Path, orphans: list[int]
) -> None:
    home = tmp_path / "home"
    _orphaned_setup(repo, home, tmp_path, orphans)
    again = run_cli(
        home,
        "workspaces",
        "init",
        str(repo),
        "--agents",
        "Agent-1",
        "Agent-2",
        "--setup",
        "true",
        env=GIT_ENV,
        timeout=120,
    )
    assert again.code == 0, again.err
    assert "2 workspace(s) ready, 0 broken" in again.out
    assert orphans and not _in_sessions(orphans)
    record = manifest.load(home / "workspaces" / "project")
    assert record is not None
    assert all(s.setup_pid is None for s in record.workspaces.values())
