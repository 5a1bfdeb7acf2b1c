"""``git push`` and the conflicts check of an agent's branch run in its worktree, which the
agent writes: a repository it made there, committed as a submodule, is never fetched into
or pushed from (its configuration is the agent's: what it names runs). Real git, a remote
on disk."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from core.github.push import conflicts, push

IDENTITY = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}  # fmt: skip


def sh(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **IDENTITY}, timeout=30, check=True)  # fmt: skip
    return done.stdout


def _planted(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A remote, the person's clone, an agent's linked worktree in which the agent made a
    repository of its own, committed as a submodule its ``.gitmodules`` asks to be fetched
    with the superproject, whose configuration names its program as ``uploadpack``."""
    remote, repo, tree = tmp_path / "remote", tmp_path / "repo", tmp_path / "Agent-1"
    marker = tmp_path / "escaped-uploadpack"
    sh(tmp_path, "init", "-q", "-b", "main", str(remote))
    (remote / "f").write_text("a\n")
    sh(remote, "add", "f")
    sh(remote, "commit", "-qm", "first")
    sh(tmp_path, "clone", "-q", str(remote), str(repo))
    sh(repo, "worktree", "add", "-q", str(tree), "-b", "agent")
    nested = tree / "sm"
    sh(tree, "init", "-q", str(nested))
    (nested / "a.txt").write_text("x\n")
    sh(nested, "add", ".")
    sh(nested, "commit", "-qm", "its own")
    sh(nested, "config", "remote.origin.url", str(remote))
    sh(nested, "config", "remote.origin.uploadpack", f"sh -c 'id > {marker}; exit 1' #")
    gitmodules = '[submodule "sm"]\n\tpath = sm\n\turl = ./sm\n\tfetchRecurseSubmodules = true\n'
    (tree / ".gitmodules").write_text(gitmodules)
    sh(tree, "add", "sm", ".gitmodules")
    sh(tree, "commit", "-qm", "a repository of its own")
    return remote, tree, marker


def test_the_conflicts_check_fetches_nothing_into_a_repository_the_agent_made(
    tmp_path: Path,
) -> None:
    remote, tree, marker = _planted(tmp_path)
    head = sh(tree, "rev-parse", "HEAD").strip()
    assert conflicts(tree, str(remote), "a-token", "main", head) == []
    assert push(tree, "agent", str(remote), "a-token") == head
    assert not marker.exists()
    # the teeth: the same fetch without swarm's option runs the agent's program
    subprocess.run(["git", "fetch", "--quiet", "--no-tags", str(remote), "refs/heads/main"],
                   cwd=tree, capture_output=True, timeout=30, check=False)  # fmt: skip
    assert "uid=" in marker.read_text()
