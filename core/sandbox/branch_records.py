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
import re
from pathlib import Path

from core.privacy.files import read_plain, write_file
from core.sandbox import PATH_MAX_BYTES, ForeignGit, own_git

BRANCHES = Path("swarm") / "branches"  # of the common git folder: one file per worktree
NO_BRANCH = ""  # recorded for a worktree left on no branch of its own (detached)
REMOTE_SECTION = re.compile(r'^\s*\[remote\s+"([^"\n]+)"\s*\]', re.M)  # of a git config
CONFIG_MAX_BYTES = 1 << 20  # of the repository's config read for its remotes
PACKED_MAX_BYTES = 64 << 20  # of packed-refs read for the branches it keeps


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
    record whole (written beside it, then renamed); nothing when it is recorded already."""
    text = ref if ref and _branch(ref) else NO_BRANCH
    if read(common, worktree) == text:
        return  # (before each prompt: the worktree is mostly on its branch already)
    folder = common / BRANCHES
    for step in (folder.parent, folder):  # checked before made: mkdir follows a link
        if step.is_symlink():
            raise ForeignGit(f"{step} is a symbolic link: no branch recorded")
    folder.mkdir(parents=True, exist_ok=True)
    final = path_of(common, worktree)
    part = final.with_name(f".{worktree}.{os.getpid()}.part")
    write_file(part, (text + "\n").encode())
    os.replace(part, final)


def forget(common: Path, worktree: str) -> None:
    """Remove the worktree's record (the worktree is removed)."""
    with contextlib.suppress(FileNotFoundError):
        path_of(common, worktree).unlink()


def where(folder: Path) -> tuple[Path, Path] | None:
    """The own and common git folders of the linked worktree ``folder`` (its record is
    ``path_of(common, own.name)``); None for a checkout of its own or a folder git's files do
    not name back (:func:`core.sandbox.own_git`)."""
    if not (folder / ".git").is_file():
        return None
    try:
        return own_git(folder)
    except (ForeignGit, OSError):
        return None


def record_folder(folder: Path, branch: str | None) -> None:
    """Record ``branch`` (a short name, ``swarm/T-12-...``; None: detached) for the linked
    worktree ``folder`` (:func:`where`; nothing for any other folder)."""
    found = where(folder)
    if found is not None:
        own, common = found
        write(common, own.name, f"refs/heads/{branch}" if branch else None)


def named_by_head(own: Path) -> str | None:
    """The ref a worktree's ``HEAD`` names (its agent's to write; None: detached), read as a
    plain file (NotPlain: a FIFO or a link there is never waited on nor followed)."""
    head = read_plain(own / "HEAD", PATH_MAX_BYTES).decode("utf-8", "replace").strip()
    return head.removeprefix("ref:").strip() if head.startswith("ref:") else None


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
    found = where(folder)
    if found is None:
        return None
    own, common = found
    try:
        named = named_by_head(own)
    except OSError:
        return None  # (said apart: such a worktree is refused)
    if granted(own, common, named, prepare=False) is not None:
        return None
    return path_of(common, own.name)


def remotes(common: Path) -> set[str]:
    """The repository's remotes: its config's ``[remote "NAME"]`` sections and the folders
    of ``refs/remotes`` (a name with a ``/`` or a dot alone is no remote git makes)."""
    try:
        config = read_plain(common / "config", CONFIG_MAX_BYTES).decode("utf-8", "replace")
    except OSError:  # NotPlain too
        config = ""
    names = set(REMOTE_SECTION.findall(config))
    folder = common / "refs" / "remotes"
    if folder.is_dir() and not folder.is_symlink():
        names |= {p.name for p in folder.iterdir() if p.is_dir() and not p.is_symlink()}
    return {n for n in names if "/" not in n and n not in (".", "..") and n.isprintable()}


def shadowing(common: Path) -> list[str]:
    """The branches named as a remote (``origin``) or under one (``origin/main``): git
    takes them before the remote-tracking ones of that name (``git merge origin/main``),
    loose or kept in ``packed-refs``; a sandbox refuses to make one, but one made before
    (unsandboxed, or before swarm refused it) stays until the person deletes it."""
    names = remotes(common)
    heads = common / "refs" / "heads"
    found = {
        path.relative_to(heads).as_posix()
        for remote in names
        for path in (heads / remote, *sorted((heads / remote).rglob("*")))
        if path.is_file() and not path.is_symlink()
    }
    try:
        packed = read_plain(common / "packed-refs", PACKED_MAX_BYTES).decode("utf-8", "replace")
    except OSError:
        packed = ""
    for line in packed.splitlines():
        ref = line.partition(" ")[2].removeprefix("refs/heads/")
        if ref != line.partition(" ")[2] and ref.split("/", 1)[0] in names:
            found.add(ref)
    return sorted(n for n in found if n.isprintable())


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
