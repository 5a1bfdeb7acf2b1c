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
from core.privacy.files import make_dirs
from core.workspaces import _manifest as manifest
from core.workspaces import _merging as merging
from core.workspaces import _procs as procs
from core.workspaces._git import GitFailed, branch_exists, git, ok, worktrees
from core.workspaces._manifest import MAKING, RepoWorkspaces, Workspace

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
            raise InvalidState(
                f"another swarm workspaces init or repair of {record.repo} is "
                "running: try again when it is done"
            ) from None
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
    manifest.drop_stale_temporaries(Path(record.folder))
    found = [s.agent for s in leftovers(record)]
    if found:
        log.info(
            "cleaning what an interrupted init left in %s: %s", record.folder, ", ".join(found)
        )
    return discard(record, found) if found else []


def repair_all(home: Path, folders: Sequence[Path] = ()) -> list[str]:
    """Every repository's leftovers cleaned, its registered worktrees that point nowhere
    pruned and the merges a stopped ``task merge`` left in its checkouts aborted (also in
    the repositories of ``folders``, the agents file's workspaces); what was done, one line
    each."""
    done = []
    records = manifest.load_all(home)
    for record in records:
        with locked(record):
            fresh = manifest.load(Path(record.folder)) or record
            done += discard_leftovers(fresh)
            before = _worktrees(Path(fresh.repo))
            git(Path(fresh.repo), "worktree", "prune")
            gone = before - _worktrees(Path(fresh.repo))
            done += [
                f"pruned {path} from git's worktree list (its folder is gone)"
                for path in sorted(gone)
            ]
    repos = [Path(r.repo) for r in records] + [f for f in folders if f.is_dir()]
    return done + settle_merges(repos)


def settle_merges(repos: Sequence[Path]) -> list[str]:
    """Abort what a stopped ``task merge`` left in any checkout of ``repos`` (a merge still
    running is named, not touched; one begun by hand is left alone)."""
    done: list[str] = []
    seen: set[Path] = set()
    for repo in repos:
        if not ok(repo, "rev-parse", "--git-dir"):
            continue
        for tree in worktrees(repo):
            if tree.path in seen or not tree.path.is_dir():
                continue
            seen.add(tree.path)
            try:
                said = merging.settle(tree.path)
            except merging.MergeBusy as exc:
                said = str(exc)
            except GitFailed as exc:
                said = (
                    f"what a stopped task merge left in {tree.path} is not undone: "
                    f"{exc.output.strip()} (git merge --abort there)"
                )
            if said:
                done.append(said)
    return done


def _discard_one(repo: Path, base: str, space: Workspace, registered: set[str]) -> str:
    path = Path(space.path)
    stopped = _stop_setup(space)  # first: a running setup would write into the folder
    if str(path.resolve()) in registered or str(path) in registered:
        ok(repo, "worktree", "unlock", str(path))  # a worktree add killed mid-way is locked
        try:
            git(repo, "worktree", "remove", "--force", "--force", str(path))
        except GitFailed as exc:
            log.warning("git worktree remove %s: %s", path, exc.output.strip())
    if path.exists():
        shutil.rmtree(path)
    said = f"removed the half-made workspace {path}"
    if stopped:
        said += f" (its setup command was still running: stopped {stopped} process(es))"
    if branch_exists(repo, space.branch):
        if ok(repo, "merge-base", "--is-ancestor", space.branch, base):
            git(repo, "branch", "-D", space.branch)
            said += f" and branch {space.branch}"
        else:
            said += f" (branch {space.branch} kept: it has commits not in {base})"
    return said


def _stop_setup(space: Workspace) -> int:
    """Stop the setup command a killed init left running in ``space`` (its session)."""
    if space.setup_pid is None or space.setup_started is None:
        return 0
    return len(procs.stop_session(procs.Proc(space.setup_pid, space.setup_started)))


def _worktrees(repo: Path) -> set[str]:
    return {str(tree.path) for tree in worktrees(repo)}
