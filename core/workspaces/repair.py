"""Half-made workspaces: what an interrupted ``swarm workspaces init`` left behind.

``init`` writes every workspace it is about to make into the manifest first, marked
``making``, and marks it ready or broken only at the end. An entry still ``making`` when no
init holds the repository's lock was left by an init that died (Ctrl+C, a crash, a kill):
its worktree (registered with git, checked out or not), its folder and its branch (only
while it has no commit of its own) are removed, so the next init can make it again and
``git worktree list`` names no folder that is gone. Blocking (git subprocesses).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from core.errors import InvalidState
from core.private import make_dirs
from core.workspaces import manifest
from core.workspaces.git import GitFailed, branch_exists, git, ok
from core.workspaces.manifest import MAKING, RepoWorkspaces, Workspace

log = logging.getLogger(__name__)


def leftovers(record: RepoWorkspaces) -> list[Workspace]:
    """The workspaces of ``record`` an init started and did not finish (or is making)."""
    return [s for s in record.workspaces.values() if s.status == MAKING]


@contextlib.contextmanager
def locked(record: RepoWorkspaces) -> Iterator[None]:
    """Hold the repository's workspaces folder (``flock`` on the folder itself, released by
    the kernel on any exit); InvalidState when another init or repair holds it."""
    folder = Path(record.folder)
    make_dirs(folder)
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InvalidState(f"another swarm workspaces init or repair of {record.repo} is "
                               "running: try again when it is done") from None
        yield
    finally:
        os.close(fd)


def discard(record: RepoWorkspaces, agents: Sequence[str]) -> list[str]:
    """Remove the worktrees, folders and fresh branches of ``agents`` and their manifest
    entries (saved); what was done, one line each. The caller holds :func:`locked`."""
    repo = Path(record.repo)
    registered = _worktrees(repo)
    done = []
    for agent in agents:
        space = record.workspaces[agent]
        done.append(_discard_one(repo, record.base, space, registered))
        del record.workspaces[agent]
    ok(repo, "worktree", "prune")
    manifest.save(record)
    return done


def discard_leftovers(record: RepoWorkspaces) -> list[str]:
    """:func:`discard` every workspace an interrupted init left (the caller holds the lock,
    so none is being made now)."""
    found = [s.agent for s in leftovers(record)]
    if found:
        log.info("cleaning what an interrupted init left in %s: %s", record.folder,
                 ", ".join(found))
    return discard(record, found) if found else []


def repair_all(home: Path) -> list[str]:
    """Every repository's leftovers cleaned and its registered worktrees that point nowhere
    pruned; what was done, one line each."""
    done = []
    for record in manifest.load_all(home):
        with locked(record):
            fresh = manifest.load(Path(record.folder)) or record
            done += discard_leftovers(fresh)
            before = _worktrees(Path(fresh.repo))
            git(Path(fresh.repo), "worktree", "prune")
            gone = before - _worktrees(Path(fresh.repo))
            done += [f"pruned {path} from git's worktree list (its folder is gone)"
                     for path in sorted(gone)]
    return done


def _discard_one(repo: Path, base: str, space: Workspace, registered: set[str]) -> str:
    path = Path(space.path)
    if str(path.resolve()) in registered or str(path) in registered:
        ok(repo, "worktree", "unlock", str(path))  # a worktree add killed mid-way is locked
        try:
            git(repo, "worktree", "remove", "--force", "--force", str(path))
        except GitFailed as exc:
            log.warning("git worktree remove %s: %s", path, exc.output.strip())
    if path.exists():
        shutil.rmtree(path)
    said = f"removed the half-made workspace {path}"
    if branch_exists(repo, space.branch):
        if ok(repo, "merge-base", "--is-ancestor", space.branch, base):
            git(repo, "branch", "-D", space.branch)
            said += f" and branch {space.branch}"
        else:
            said += f" (branch {space.branch} kept: it has commits not in {base})"
    return said


def _worktrees(repo: Path) -> set[str]:
    return {line[len("worktree "):] for line in
            git(repo, "worktree", "list", "--porcelain").splitlines()
            if line.startswith("worktree ")}
