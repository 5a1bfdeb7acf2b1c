"""A workspace's branch and head read from the repository's files agree with git's own
answer (``git rev-parse HEAD --symbolic-full-name HEAD``) in real repositories: a branch
whose ref is a loose file or packed, a detached HEAD, a branch with no commit yet, a linked
worktree, a SHA-256 repository; what the reader does not know (a folder inside a
repository, the reftable format, a HEAD being written, a branch name leaving ``refs``)
reads as None, and git is asked."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from core.errors import InvalidState
from core.sandbox import ForeignGit, git_folders
from core.workspaces import _git as workspace_git
from core.workspaces import _head_files as head_files
from core.workspaces._head_files import branch_and_head
from tests.workspaces.conftest import commit_file, sh


def gits_answer(folder: Path) -> tuple[str | None, str | None]:
    """What git says: the branch (None: detached) and the head (None: no commit yet)."""
    run = subprocess.run(
        ["git", "rev-parse", "HEAD", "--symbolic-full-name", "HEAD"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    lines = run.stdout.split()
    if run.returncode != 0:  # no commit yet: the branch alone
        return sh(folder, "symbolic-ref", "--short", "HEAD").strip(), None
    sha, name = lines
    return (name.removeprefix("refs/heads/") if name.startswith("refs/heads/") else None), sha


def test_a_branch_with_a_loose_ref_then_packed(repo: Path) -> None:
    assert (
        branch_and_head(repo)
        == gits_answer(repo)
        == ("main", sh(repo, "rev-parse", "main").strip())
    )
    sh(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    assert branch_and_head(repo) == gits_answer(repo)


def test_a_detached_head(repo: Path) -> None:
    sh(repo, "switch", "--quiet", "--detach", "HEAD~1")
    found = branch_and_head(repo)
    assert found is not None and found == gits_answer(repo)
    assert found[0] is None and found[1] is not None


def test_a_branch_with_no_commit_yet(tmp_path: Path) -> None:
    sh(tmp_path, "init", "-q", "-b", "trunk")
    assert branch_and_head(tmp_path) == gits_answer(tmp_path) == ("trunk", None)


def test_a_linked_worktree_on_its_own_branch(repo: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    sh(repo, "worktree", "add", "-q", "-b", "feature", str(tree))
    commit_file(tree, "f.txt", "f\n", "on the feature")
    assert (tree / ".git").is_file()
    found = branch_and_head(tree)
    assert found == gits_answer(tree) and found[0] == "feature"
    assert branch_and_head(repo) == gits_answer(repo)  # the main tree: still main's head


def test_a_sha256_repository(tmp_path: Path) -> None:
    sh(tmp_path, "init", "-q", "-b", "main", "--object-format=sha256")
    head = commit_file(tmp_path, "a.txt", "a\n", "first")
    assert len(head) == 64
    assert branch_and_head(tmp_path) == gits_answer(tmp_path) == ("main", head)


def test_a_folder_inside_a_repository_is_left_to_git(repo: Path) -> None:
    inner = repo / "src"
    inner.mkdir()
    assert branch_and_head(inner) is None
    assert workspace_git.branch_and_head(inner)[:2] == gits_answer(inner)  # git walks up


@pytest.mark.parametrize(
    "head",
    [
        "",  # being written
        "ref: refs/heads/../../../etc/x\n",  # a name that leaves refs
        "ref: refs/remotes/origin/main\n",  # not a branch
        "not a hash\n",
    ],
)
def test_a_head_the_reader_does_not_know_is_left_to_git(repo: Path, head: str) -> None:
    (repo / ".git" / "HEAD").write_text(head, encoding="utf-8")
    assert branch_and_head(repo) is None


def test_the_reftable_format_is_left_to_git(repo: Path) -> None:
    """A reftable repository (git 2.45 and later) keeps its refs in ``reftable/``: its
    ``HEAD`` file is a placeholder that names no real branch."""
    (repo / ".git" / "reftable").mkdir()
    assert branch_and_head(repo) is None


def test_a_large_packed_refs_is_left_to_git(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A repository with tens of thousands of packed refs: git reads it faster than a scan
    at each prompt."""
    sh(repo, "pack-refs", "--all")
    size = (repo / ".git" / "packed-refs").stat().st_size
    monkeypatch.setattr(head_files, "PACKED_MAX_BYTES", size - 1)
    assert branch_and_head(repo) is None
    assert workspace_git.branch_and_head(repo)[:2] == gits_answer(repo)


@pytest.mark.timeout(30)
def test_a_fifo_or_link_an_agent_put_in_its_git_folder_is_refused_not_waited_on(
    repo: Path, tmp_path: Path
) -> None:
    """A worktree's own git folder (``.git/worktrees/NAME``: its HEAD) and its branch's
    ref are its agent's to write, in a sandbox too. A FIFO there held the reader for good
    (a task's prompt on ``swarm run``'s delivery path; ``desktop up`` building the
    sandbox), and git itself, asked instead, waits on it too. Now each is refused in one
    line, at once, and the sandbox refuses the worktree (found by an attack audit)."""
    tree = tmp_path / "tree"
    sh(repo, "worktree", "add", "-q", "-b", "feature", str(tree))
    head = repo / ".git" / "worktrees" / "tree" / "HEAD"
    kept = head.read_text()
    for plant in ("fifo", "link"):
        head.unlink()
        os.mkfifo(head) if plant == "fifo" else head.symlink_to(repo / ".git" / "HEAD")
        with pytest.raises(InvalidState, match="not a plain file"):
            branch_and_head(tree)
        with pytest.raises(InvalidState, match="not a plain file"):
            workspace_git.branch_and_head(tree)
        with pytest.raises(ForeignGit, match="HEAD is not a plain file"):
            git_folders(tree)
    head.unlink()
    head.write_text(kept)
    ref = repo / ".git" / "refs" / "heads" / "feature"
    ref.unlink()
    os.mkfifo(ref)
    with pytest.raises(InvalidState, match="not a plain file"):
        branch_and_head(tree)
