"""The branch an agent's worktree is on when a task's prompt goes out: the task's own branch
when it has one (a GitHub task: ``swarm/T-12-fix-the-parser``, made from the base the first
time, so its pull request holds its commits only), else the agent's branch (``swarm/<agent>``).

The move is clean or not at all: uncommitted changes refuse it in one line (nothing is
switched, the prompt is not sent); a task branch checked out in another agent's worktree
(a task handed over) is taken from it when that worktree is clean (it is left detached at the
same commit: nothing of it changes), refused otherwise. Folders from the agents file
(``workspace = "/path"``) have no base and are left as they are.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from core.errors import InvalidState
from core.sandbox import branch_records
from core.workspaces._git import (
    GitFailed,
    branch_and_head,
    branch_exists,
    changed_files,
    conflicted_files,
    git,
    worktrees,
)
from core.workspaces._ops import Located


def checkout(place: Located, wanted: str | None, unworked: bool = False) -> Located:
    """Put ``place`` on ``wanted`` (the task's branch; None: the agent's own); the place
    as it is now (with its head when it was there already: one git call). ``unworked``: no
    turn on that branch is stored (of any task: a pull request's follow-up works on its
    task's branch), so a branch of its name with commits not in the base was made by someone
    else (an agent planting its commits where another's task would take them up): refused.
    Blocking (git): call it from a worker thread."""
    if place.base is None or place.branch is None:
        return place  # not a worktree swarm made: no base to branch from
    branch = wanted or place.branch
    there = branch_and_head(place.path)
    if there.branch == branch:
        branch_records.record_folder(place.path, branch)
        return dataclasses.replace(place, branch=branch, head=there.head, head_read=there.read)
    _refuse_changes(place.path, f"commit or discard them, then it moves to {branch}")
    try:
        if branch_exists(place.path, branch):
            if unworked and wanted is not None:
                _refuse_planted(place.path, branch, place.base)
            _take_from_others(place.path, branch)
            git(place.path, "switch", "--quiet", branch)
        else:
            git(place.path, "switch", "--quiet", "--create", branch, place.base)
    except GitFailed as exc:
        said = " ".join(exc.output.split())[-300:]
        raise InvalidState(f"{place.path} not moved to {branch}: {said}") from None
    branch_records.record_folder(place.path, branch)
    return dataclasses.replace(place, branch=branch)


def _refuse_planted(path: Path, branch: str, base: str) -> None:
    """InvalidState when ``branch``, on which no turn is stored, has commits not in ``base``
    (swarm makes a task's branch from the base: those are no turn's of swarm's)."""
    count = git(path, "rev-list", "--count", f"{base}..refs/heads/{branch}").strip()
    if count != "0":
        raise InvalidState(
            f"{branch} exists before any turn on it, with {count} commit(s) not in {base} "
            f"that no task's turn made: look at them (git log {base}..{branch}), then delete "
            f"the branch or merge them into {base} (nothing switched)"
        )


def _refuse_changes(path: Path, then: str) -> None:
    dirty = changed_files(path) or conflicted_files(path)
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        raise InvalidState(f"{path} has uncommitted changes ({shown}): {then} (nothing switched)")


def _take_from_others(path: Path, branch: str) -> None:
    """``branch`` checked out in another worktree (a handed-over task): detached there, at
    the same commit, when that worktree is clean; InvalidState otherwise."""
    here = path.resolve()
    for tree in worktrees(path):
        if tree.branch == branch and tree.path.resolve() != here:
            _refuse_changes(tree.path, f"{branch} is checked out there; commit or discard them")
            git(tree.path, "switch", "--quiet", "--detach")
            branch_records.record_folder(tree.path, None)  # its sandbox's next start: none
