"""``task merge`` against real repository hooks: a refusing ``pre-merge-commit`` or
``reference-transaction`` hook, a kill -9 during a slow ``prepare-commit-msg``, a merge
begun by hand. Real git, real hook scripts, the real CLI in a subprocess, real signals."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import InvalidState
from core.service.swarm import SwarmService
from core.workspaces import _procs as procs
from core.workspaces._manager import InitRequest, init
from tests.helpers import ROOT, cli_env, run_cli
from tests.workspaces.conftest import GIT_ENV, commit_file, sh
from tests.workspaces.test_task_work import _run_task

pytestmark = pytest.mark.both_databases


def _hook(repo: Path, name: str, body: str) -> None:
    path = repo / ".git" / "hooks" / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


async def _done_task(service: SwarmService, repo: Path, *, diverge: bool = True) -> int:
    """T-1 done by Agent-1 with one commit; ``diverge``: main moved on (a merge commit)."""
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    tree = home / "workspaces" / "project" / "Agent-1"
    task_id = await _run_task(service, home / "inbox", "Agent-1", "feature")
    commit_file(tree, "feature.py", "FEATURE = 1\n", "feature")
    await service.tasks.complete(task_id, "Agent-1")
    if diverge:
        commit_file(repo, "NOTES.md", "notes\n", "maintainers' notes")
    return task_id


def _untouched(repo: Path, main: str) -> None:
    """main where it was, no merge in progress, nothing staged, no marker left."""
    assert sh(repo, "rev-parse", "main").strip() == main
    assert not (repo / ".git" / "MERGE_HEAD").exists()
    assert sh(repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert not (repo / "feature.py").exists()
    assert not (repo / ".git" / "swarm-merge.json").exists()


async def test_a_refusing_pre_merge_commit_hook_aborts_the_merge(
    repo: Path, service: SwarmService
) -> None:
    task_id = await _done_task(service, repo)
    _hook(repo, "pre-merge-commit", 'echo "lint: 3 problems" >&2; exit 1')
    main = sh(repo, "rev-parse", "main").strip()
    with pytest.raises(
        InvalidState,
        match=r"merge of swarm/Agent-1 into main refused \(git "
        r"exited with status 1\): lint: 3 problems: "
        r"aborted, nothing changed",
    ):
        await service.workspaces.merge(task_id, "cli")
    _untouched(repo, main)
    (repo / ".git" / "hooks" / "pre-merge-commit").unlink()
    said = await service.workspaces.merge(task_id, "cli")
    assert "merged into main (merge commit" in said


async def test_a_refusing_reference_transaction_hook_undoes_the_fast_forward(
    repo: Path, service: SwarmService
) -> None:
    task_id = await _done_task(service, repo, diverge=False)
    # git writes the files of a fast-forward, then the hook refuses to move main
    _hook(
        repo,
        "reference-transaction",
        '[ "$1" = prepared ] || exit 0\n'
        'if grep -q " refs/heads/main$"; then echo "main is frozen" >&2; exit 1; fi',
    )
    main = sh(repo, "rev-parse", "main").strip()
    with pytest.raises(InvalidState, match=r"refused .*main is frozen.*nothing changed"):
        await service.workspaces.merge(task_id, "cli")
    _untouched(repo, main)


@pytest.fixture
def slow_hook(repo: Path, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A prepare-commit-msg that waits while ``hold`` exists; ``entered`` once it runs
    (``hold`` is removed at the end: a hook left waiting by a failed test ends too)."""
    hold, entered = tmp_path / "hold", tmp_path / "entered"
    yield hold, entered
    hold.unlink(missing_ok=True)


def _install(repo: Path, slow_hook: tuple[Path, Path]) -> tuple[Path, Path]:
    """Put the slow hook in place (after the agent's commits: worktrees share hooks)."""
    hold, entered = slow_hook
    hold.touch()
    _hook(
        repo, "prepare-commit-msg", f'touch "{entered}"\nwhile [ -e "{hold}" ]; do sleep 0.05; done'
    )
    return hold, entered


def _merge_in_background(home: Path, entered: Path) -> subprocess.Popen[str]:
    """``swarm task merge T-1`` in its own session, once it is inside the hook."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "task", "merge", "T-1"],
        env=cli_env(home, env=GIT_ENV),
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not entered.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return proc


async def test_a_merge_killed_in_a_hook_is_aborted_by_the_next_merge(
    repo: Path, service: SwarmService, slow_hook: tuple[Path, Path]
) -> None:
    task_id = await _done_task(service, repo)
    home = service.settings.home
    hold, entered = _install(repo, slow_hook)
    main = sh(repo, "rev-parse", "main").strip()
    proc = _merge_in_background(home, entered)
    os.killpg(proc.pid, signal.SIGKILL)  # swarm, git and the hook: a closed terminal
    proc.communicate(timeout=30)
    assert (repo / ".git" / "MERGE_HEAD").exists()  # what git leaves
    hold.unlink()
    said = await service.workspaces.merge(task_id, "cli")
    assert said.startswith(
        f"aborted the merge of T-1 (swarm/Agent-1) into main that a "
        f"stopped task merge left in {repo}: nothing merged; T-1: "
        "feature merged into main (merge commit, now "
    )
    assert sh(repo, "rev-parse", "main^1").strip() == main
    assert (repo / "feature.py").exists() and not (repo / ".git" / "MERGE_HEAD").exists()
    assert not (repo / ".git" / "swarm-merge.json").exists()


async def test_repair_aborts_a_killed_merge_and_leaves_one_begun_by_hand(
    repo: Path, service: SwarmService, slow_hook: tuple[Path, Path]
) -> None:
    await _done_task(service, repo)
    home = service.settings.home
    _, entered = _install(repo, slow_hook)
    main = sh(repo, "rev-parse", "main").strip()
    proc = _merge_in_background(home, entered)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    repaired = run_cli(home, "workspaces", "repair", env=GIT_ENV)
    assert repaired.code == 0, repaired.err
    assert repaired.out == (
        f"aborted the merge of T-1 (swarm/Agent-1) into main that a "
        f"stopped task merge left in {repo}: nothing merged\n"
    )
    _untouched(repo, main)
    (repo / ".git" / "hooks" / "prepare-commit-msg").unlink()
    sh(repo, "merge", "--no-ff", "--no-commit", "swarm/Agent-1")  # the user's own merge
    assert run_cli(home, "workspaces", "repair", env=GIT_ENV).out == "nothing to repair\n"
    refused = run_cli(home, "task", "merge", "T-1", env=GIT_ENV)
    assert (refused.code, refused.out) == (2, "")
    assert refused.err == (
        f"swarm: error: {repo} (main) is in the middle of a merge swarm "
        "did not start (MERGE_HEAD exists): finish it (git commit) or "
        "abort it (git merge --abort) first; nothing merged\n"
    )
    assert (repo / ".git" / "MERGE_HEAD").exists()
    assert sh(repo, "rev-parse", "main").strip() == main


async def test_a_merge_git_finished_after_swarm_was_killed_is_noticed(
    repo: Path, service: SwarmService, slow_hook: tuple[Path, Path]
) -> None:
    task_id = await _done_task(service, repo)
    home = service.settings.home
    hold, entered = _install(repo, slow_hook)
    proc = _merge_in_background(home, entered)
    proc.kill()  # swarm alone: git goes on, waiting in the hook
    proc.communicate(timeout=30)
    with pytest.raises(
        InvalidState,
        match=r"git is still running the merge of T-1 "
        r"\(swarm/Agent-1\) into main in .* \(pid \d+, "
        r"started by a task merge that was stopped",
    ):
        await service.workspaces.merge(task_id, "cli")
    assert (repo / ".git" / "MERGE_HEAD").exists()  # not aborted under a running git
    marker = json.loads((repo / ".git" / "swarm-merge.json").read_text())
    git_merge = procs.Proc(marker["git_pid"], marker["git_started"])
    hold.unlink()
    deadline = time.monotonic() + 60
    while git_merge.alive():  # git finishes the merge on its own
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert not (repo / ".git" / "MERGE_HEAD").exists()
    said = await service.workspaces.merge(task_id, "cli")
    assert said.startswith(
        "the merge of T-1 (swarm/Agent-1) into main was completed by git "
        "after the task merge that started it stopped (now "
    )
    assert said.endswith(
        " is already in main (" + sh(repo, "rev-parse", "swarm/Agent-1").strip()[:10] + ")"
    )
    assert not (repo / ".git" / "swarm-merge.json").exists()
