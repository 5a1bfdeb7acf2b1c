"""``core.sandbox.object_stores``: a sandboxed worktree's own git store folded into its
repository's, on real git. A pack its git wrote is indexed anew (the agent's index never
used); what git would not take, or what is not what its name says, is removed and said; a
link in a store is never followed. (An object planted under another agent's commit, from a
real sandbox's pane: ``test_sandbox_live.py``.)"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from automation.launch.sandbox._objects import stores_of
from core.sandbox.object_stores import cannot_fold, fold
from tests.desktop.test_sandbox_argv import _worktree

ID = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
      "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"}  # fmt: skip


def _store(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The repository, its worktree and the worktree's own store (made as a start makes it)."""
    repo, work = _worktree(tmp_path)
    common = repo / ".git"
    (store, _), _ = stores_of(common / "worktrees" / "wt", common)
    return repo, work, Path(store)


@dataclass(frozen=True)
class Forged:
    """A worktree's store holding its agent's commit (``real``) and a copy of that commit's
    bytes under a name they are not (``forged``), as a sandboxed agent can plant one."""

    repo: Path
    work: Path
    store: Path
    real: str
    forged: Path

    @property
    def common(self) -> Path:
        return self.repo / ".git"


def forge(tmp_path: Path, name: str = "0" * 40) -> Forged:
    """:class:`Forged`: the agent commits in its store, then copies the commit's object to
    ``name``'s path there."""
    repo, work, store = _store(tmp_path)
    _in_store(work, store, "commit", "-q", "--allow-empty", "-m", "the agent's work")
    real = _in_store(work, store, "rev-parse", "HEAD")
    forged = store / name[:2] / name[2:]
    forged.parent.mkdir(exist_ok=True)
    shutil.copyfile(store / real[:2] / real[2:], forged)
    return Forged(repo, work, store, real, forged)


def _in_store(work: Path, store: Path, *args: str) -> str:
    """``git ARGS`` in the worktree as its sandbox runs it: writing its own store."""
    env = {
        **ID,
        "GIT_OBJECT_DIRECTORY": str(store),
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(work.parent / "repo" / ".git" / "objects"),
    }
    return subprocess.run(["git", "-C", str(work), *args], env=env, check=True, timeout=30,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], env=ID, capture_output=True,
                          text=True, timeout=30)  # fmt: skip


def test_a_pack_the_agents_git_wrote_is_indexed_anew_into_the_repositorys_store(
    tmp_path: Path,
) -> None:
    repo, work, store = _store(tmp_path)
    _in_store(work, store, "commit", "-q", "--allow-empty", "-m", "packed work")
    made = _in_store(work, store, "rev-parse", "HEAD")
    _in_store(work, store, "repack", "-d", "-l", "-q")
    assert any(p.suffix == ".pack" for p in (store / "pack").iterdir())
    folded = fold(repo / ".git")
    assert (folded.packs, folded.refused) == (1, [])
    assert list((store / "pack").iterdir()) == []  # the agent's pack and index gone
    assert _git(repo, "log", "-1", "--format=%s", made).stdout.strip() == "packed work"
    packs = list((repo / ".git" / "objects" / "pack").glob("*.pack"))
    assert packs and all(p.stat().st_size > 0 for p in packs)  # in the person's own store
    fsck = _git(repo, "fsck", "--no-dangling")
    assert fsck.returncode == 0, fsck.stderr


def test_a_pack_or_object_git_would_not_take_is_removed_and_said(tmp_path: Path) -> None:
    repo, _, store = _store(tmp_path)
    (store / "pack").mkdir(exist_ok=True)
    for suffix in (".pack", ".idx"):
        (store / "pack" / f"pack-{'1' * 40}{suffix}").write_bytes(b"PACK not really")
    named = "ab" + "c" * 38
    (store / "ab").mkdir()
    (store / "ab" / named[2:]).write_bytes(b"not zlib at all")
    folded = fold(repo / ".git")
    assert folded.packs == folded.objects == 0
    assert len(folded.refused) == 2, folded.refused
    assert f"object {named} is not what git writes (no zlib stream): removed" in folded.refused[0]
    assert "is not a pack git takes" in folded.refused[1]
    assert list((store / "pack").iterdir()) == [] and list((store / "ab").iterdir()) == []
    assert not (repo / ".git" / "objects" / "ab" / named[2:]).exists()


def test_a_link_in_a_store_is_never_followed(tmp_path: Path) -> None:
    """A link named as an object (to the person's file) and a store that is a link: not
    read, not copied, left where they are."""
    repo, _, store = _store(tmp_path)
    secret = tmp_path / "secret"
    secret.write_text("the person's file\n")
    named = "de" + "f" * 38
    (store / "de").mkdir()
    os.symlink(secret, store / "de" / named[2:])
    os.symlink(tmp_path, store.parent / "linked")
    folded = fold(repo / ".git")
    assert (folded.objects, folded.packs, folded.refused) == (0, 0, [])
    assert (store / "de" / named[2:]).is_symlink()
    assert not (repo / ".git" / "objects" / "de").exists()


def test_a_fold_that_cannot_run_is_said_and_swarms_git_still_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from core.workspaces import git

    repo, work, _ = _store(tmp_path)
    lock = repo / ".git" / "swarm" / "objects.lock"
    lock.unlink()
    lock.mkdir()  # no lock to be had
    with caplog.at_level("WARNING"):
        head = git(work, "rev-parse", "HEAD").strip()
        git(work, "rev-parse", "HEAD")  # said once, not at every git
    assert head == _git(repo, "rev-parse", "HEAD").stdout.strip()
    assert "the agents' git stores of" in caplog.text and "could not be folded" in caplog.text
    assert caplog.text.count("could not be folded") == 1
    assert "cannot fold the agents' git stores" in (cannot_fold(repo / ".git") or "")
    lock.rmdir()
    with caplog.at_level("WARNING"):
        git(work, "rev-parse", "HEAD")
    assert "are folded again" in caplog.text and cannot_fold(repo / ".git") is None


def test_a_forgery_under_a_name_the_repository_holds_is_said_and_its_object_kept(
    tmp_path: Path,
) -> None:
    """git reads the repository's own store first, so such a forgery reads as nothing; it
    is an agent's attempt all the same, said to the person."""
    repo, work, store = _store(tmp_path)
    first = _git(repo, "rev-parse", "HEAD").stdout.strip()
    kept = (repo / ".git" / "objects" / first[:2] / first[2:]).read_bytes()
    _in_store(work, store, "commit", "-q", "--allow-empty", "-m", "its own")
    made = _in_store(work, store, "rev-parse", "HEAD")
    (store / first[:2]).mkdir(exist_ok=True)
    (store / first[:2] / first[2:]).write_bytes((store / made[:2] / made[2:]).read_bytes())
    folded = fold(repo / ".git")
    assert folded.objects == 1 and len(folded.refused) == 1, folded
    assert f"object {first} holds content that is not its name" in folded.refused[0]
    assert (repo / ".git" / "objects" / first[:2] / first[2:]).read_bytes() == kept


def test_a_pack_not_named_as_git_names_one_is_never_read_nor_said(tmp_path: Path) -> None:
    """Its name is the agent's: one with a terminal's escape in it would reach the log, the
    refusals file and ``swarm doctor``'s lines."""
    repo, _, store = _store(tmp_path)
    (store / "pack").mkdir(exist_ok=True)
    odd = "pack-\x1b[2J\nforged"
    for suffix in (".pack", ".idx"):
        (store / "pack" / f"{odd}{suffix}").write_bytes(b"PACK not really")
    folded = fold(repo / ".git")
    assert (folded.packs, folded.refused) == (0, [])
    assert (store / "pack" / f"{odd}.pack").exists()  # left as it is: git never reads it
