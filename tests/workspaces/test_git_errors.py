"""What swarm says when git cannot run: the folder is gone (an agent's worktree deleted by
hand) or git is not installed; a repository path holding a newline. Real git, the CLI."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from core.service.swarm import SwarmService
from core.workspaces._manager import InitRequest, init
from tests.helpers import run_cli
from tests.workspaces.conftest import GIT_ENV, commit_file, sh
from tests.workspaces.test_task_work import _run_task

pytestmark = pytest.mark.both_databases


async def _worked(service: SwarmService, repo: Path) -> Path:
    """T-1 done by Agent-1 in its worktree with one commit; the worktree's folder."""
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    tree = home / "workspaces" / repo.name / "Agent-1"
    task_id = await _run_task(service, home / "inbox", "Agent-1", "feature")
    commit_file(tree, "feature.py", "FEATURE = 1\n", "feature")
    await service.tasks.complete(task_id, "Agent-1")
    return tree


async def test_a_deleted_worktree_is_named_not_git(repo: Path, service: SwarmService) -> None:
    tree = await _worked(service, repo)
    shutil.rmtree(tree)
    for action in ("diff", "merge"):
        result = run_cli(service.settings.home, "task", action, "T-1", env=GIT_ENV)
        assert (result.code, result.out) == (2, "")
        assert result.err == (
            f"swarm: error: {tree} does not exist (deleted?): git cannot "
            "run in it; swarm workspaces repair prunes a worktree whose "
            "folder is gone\n"
        )


async def test_without_git_on_path_says_so(
    repo: Path, service: SwarmService, tmp_path: Path
) -> None:
    await _worked(service, repo)
    bare = tmp_path / "bin"  # python alone on PATH
    bare.mkdir()
    (bare / "python").symlink_to(sys.executable)
    result = run_cli(
        service.settings.home, "task", "diff", "T-1", env=GIT_ENV | {"PATH": str(bare)}
    )
    assert (result.code, result.out) == (2, "")
    assert result.err == "swarm: error: git is not installed (or not on PATH)\n"


async def test_merge_in_a_repository_whose_path_holds_a_newline(
    service: SwarmService, tmp_path: Path
) -> None:
    repo = tmp_path / "my\nproject"
    repo.mkdir()
    sh(repo, "init", "-q", "-b", "main")
    commit_file(repo, "README.md", "# project\n", "first")
    tree = await _worked(service, repo)
    said = await service.workspaces.merge("T-1", "cli")
    assert "T-1: feature merged into main (fast-forward" in said
    assert sh(repo, "rev-parse", "main") == sh(tree, "rev-parse", "HEAD")
