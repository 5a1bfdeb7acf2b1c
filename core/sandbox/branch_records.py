"""The branch swarm gave each linked worktree: the one branch its sandboxed agent may move.

A worktree's ``HEAD`` is its agent's to write, so what it names is no grant: an agent that
pointed it at the person's branch (``git symbolic-ref HEAD refs/heads/main``) would find that
branch writable at its next start. swarm keeps its own record instead, outside every sandbox
(``<common .git>/swarm/branches/<worktree>``: the common folder is read-only inside), written
when swarm makes the worktree (``workspaces init``), when it moves it (a task's branch before
its prompt; detached when another worktree takes its task), and, for a worktree with no
record yet (made before swarm kept them, or by the person), at its first sandboxed start: the
branch its ``HEAD`` names then, unless that branch is checked out elsewhere (git never does
that itself: the ``HEAD`` was rewritten), when no branch is its own.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from core.privacy.files import read_plain, write_file
from core.sandbox import PATH_MAX_BYTES, ForeignGit, own_git

BRANCHES = Path("swarm") / "branches"  # of the common git folder: one file per worktree
NO_BRANCH = ""  # recorded for a worktree left on no branch of its own (detached)


def path_of(common: Path, worktree: str) -> Path:
    """Where the record of the worktree whose git folder is ``worktrees/<worktree>`` is."""
    return common / BRANCHES / worktree


def read(common: Path, worktree: str) -> str | None:
    """The ref swarm recorded for the worktree (``refs/heads/...``, or ``NO_BRANCH``); None
    when there is no record. A record that is not a plain file, or names no branch, reads
    as ``NO_BRANCH`` (swarm never writes one)."""
    try:
        text = read_plain(path_of(common, worktree), PATH_MAX_BYTES)
    except FileNotFoundError:
        return None
    except OSError:  # NotPlain too
        return NO_BRANCH
    ref = text.decode("utf-8", "replace").strip()
    return ref if _branch(ref) else NO_BRANCH


def write(common: Path, worktree: str, ref: str | None) -> None:
    """Record ``ref`` (``refs/heads/...``; None: no branch) for the worktree, replacing the
    record whole (written beside it, then renamed)."""
    folder = common / BRANCHES
    folder.mkdir(parents=True, exist_ok=True)
    if folder.is_symlink() or (common / BRANCHES.parent).is_symlink():
        raise ForeignGit(f"{folder} is a symbolic link: no branch recorded")
    final = path_of(common, worktree)
    part = final.with_name(f".{worktree}.{os.getpid()}.part")
    write_file(part, ((ref if ref and _branch(ref) else NO_BRANCH) + "\n").encode())
    os.replace(part, final)


def forget(common: Path, worktree: str) -> None:
    """Remove the worktree's record (the worktree is removed)."""
    with contextlib.suppress(FileNotFoundError):
        path_of(common, worktree).unlink()


def record_folder(folder: Path, branch: str | None) -> None:
    """Record ``branch`` (a short name, ``swarm/T-12-...``; None: detached) for the linked
    worktree ``folder``; nothing for a checkout of its own or a folder git's files do not
    name back (:func:`core.sandbox.own_git`)."""
    if not (folder / ".git").is_file():
        return
    try:
        own, common = own_git(folder)
    except (ForeignGit, OSError):
        return
    write(common, own.name, f"refs/heads/{branch}" if branch else None)


def granted(own: Path, common: Path, head: str | None, prepare: bool = True) -> str | None:
    """The branch (``refs/heads/...``) the worktree whose git folder is ``own`` may move:
    swarm's record, else (``head``: what its ``HEAD`` names, None detached) the branch its
    ``HEAD`` names when no other worktree has it checked out, recorded now when
    ``prepare`` (its first sandboxed start: what comes after it is the agent's doing)."""
    recorded = read(common, own.name)
    if recorded is not None:
        return recorded or None
    mine = head if head and _branch(head) and not _elsewhere(own, common, head) else None
    if prepare:
        write(common, own.name, mine)
    return mine


def moves_none(folder: Path) -> Path | None:
    """Where the record of the linked worktree ``folder`` is (there or not) when its agent,
    sandboxed, would move no branch at its next start (:func:`granted`, nothing written):
    its commits are refused until swarm moves the worktree (a task's prompt). None when it
    would move one, or ``folder`` is no linked worktree."""
    if not (folder / ".git").is_file():
        return None
    try:
        own, common = own_git(folder)
        head = read_plain(own / "HEAD", PATH_MAX_BYTES).decode("utf-8", "replace").strip()
    except (ForeignGit, OSError):
        return None  # (said apart: such a worktree is refused)
    named = head.removeprefix("ref:").strip() if head.startswith("ref:") else None
    if granted(own, common, named, prepare=False) is not None:
        return None
    return path_of(common, own.name)


def _elsewhere(own: Path, common: Path, ref: str) -> bool:
    """Whether ``ref`` is what the main checkout's or another worktree's ``HEAD`` names."""
    heads = [common / "HEAD"]
    with contextlib.suppress(OSError):
        heads += [p / "HEAD" for p in (common / "worktrees").iterdir() if p.name != own.name]
    for head in heads:
        try:
            text = read_plain(head, PATH_MAX_BYTES).decode("utf-8", "replace").strip()
        except OSError:  # NotPlain too
            continue
        if text.startswith("ref:") and text.removeprefix("ref:").strip() == ref:
            return True
    return False


def _branch(ref: str) -> bool:
    return ref.startswith("refs/heads/") and ".." not in ref and "\n" not in ref
