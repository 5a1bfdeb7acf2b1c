"""Finding an agent's workspace, its state, syncing it onto the base and removing it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import InvalidInput, InvalidState, NotFound
from core.models import Agent
from core.sandbox import branch_records
from core.workspaces import _manifest as manifest
from core.workspaces import _repair as repair
from core.workspaces._git import (
    GitFailed,
    ahead_behind,
    branch_and_head,
    changed_files,
    conflicted_files,
    current_branch,
    git,
    ok,
)
from core.workspaces._manager import resolve_agent


@dataclass(frozen=True)
class Located:
    """Where an agent works: its folder and branch (and the base, for swarm's worktrees)."""

    agent: str
    path: Path
    branch: str | None
    base: str | None  # None for a folder configured in the agents file
    repo: str | None  # the manifest's folder name; None for a configured folder
    status: str = manifest.READY
    reason: str | None = None
    log: str | None = None
    head: str | None = None  # the commit HEAD was at when found, when read with the branch
    head_read: bool = False  # ``head`` was read for sure (None: the branch has no commit yet)


def find(
    home: Path, agents: Mapping[str, Agent], name: str, repo: str | None = None
) -> Located | None:
    """The agent's workspace: ``workspace =`` in the agents file, else the one worktree swarm
    made for it (``repo`` picks one when it has several); None when it has none."""
    agent = resolve_agent(agents, name)
    if agent.workspace and repo is None:
        path = Path(agent.workspace)
        if not path.is_dir():
            return Located(agent.id, path, None, None, None)  # None: not in git either
        where = branch_and_head(path)  # from its files (else one git call)
        return Located(
            agent.id, path, where.branch, None, None, head=where.head, head_read=where.read
        )
    found = [
        (r, r.workspaces[agent.id])
        for r in manifest.load_all(home)
        if agent.id in r.workspaces and (repo is None or r.name == repo)
    ]
    if not found:
        return None
    if len(found) > 1:
        names = ", ".join(r.name for r, _ in found)
        raise InvalidInput(f"{agent.id} has workspaces in {names}: say which with --repo")
    record, space = found[0]
    return Located(
        agent.id,
        Path(space.path),
        space.branch,
        record.base,
        record.name,
        space.status,
        space.reason,
        space.log,
    )


def require(home: Path, agents: Mapping[str, Agent], name: str, repo: str | None = None) -> Located:
    """Like :func:`find`, NotFound when the agent has no workspace."""
    found = find(home, agents, name, repo)
    if found is None:
        agent = resolve_agent(agents, name).id
        raise NotFound(
            f"{agent} has no workspace: swarm workspaces init REPO --agents {agent}"
            ' (or workspace = "/path" in the agents file)'
        )
    return found


def describe(place: Located) -> dict[str, Any]:
    """The workspace's state: branch, commits ahead of and behind the base, changed files."""
    row: dict[str, Any] = {
        "agent": place.agent,
        "repo": place.repo,
        "path": str(place.path),
        "branch": place.branch,
        "base": place.base,
        "status": place.status,
        "reason": place.reason,
        "log": place.log,
        "ahead": None,
        "behind": None,
        "changed": None,
    }
    if not place.path.is_dir():
        row.update(status=manifest.BROKEN, reason=f"{place.path} does not exist")
        return row
    try:
        row["changed"] = len(changed_files(place.path))
        if place.base and place.branch:
            row["ahead"], row["behind"] = ahead_behind(place.path, place.base, place.branch)
    except GitFailed as exc:
        row.update(status=manifest.BROKEN, reason=str(exc))
    return row


def list_all(home: Path, agents: Mapping[str, Agent]) -> list[dict[str, Any]]:
    """Every workspace: swarm's worktrees, then the folders of the agents file."""
    rows = [
        describe(
            Located(s.agent, Path(s.path), s.branch, r.base, r.name, s.status, s.reason, s.log)
        )
        for r in manifest.load_all(home)
        for s in r.workspaces.values()
    ]
    rows += [
        describe(place)
        for a in agents.values()
        if a.workspace
        for place in [find(home, agents, a.id)]
        if place is not None
    ]
    return rows


def sync(place: Located, *, merge: bool = False) -> str:
    """Bring the agent branch up to the base: rebase (or merge). A conflict is aborted and
    reported with its files; nothing is ever forced. Returns what happened."""
    if place.base is None or place.branch is None:
        raise InvalidInput(
            f"{place.agent}'s workspace {place.path} is not one swarm made: "
            "it has no base to sync onto"
        )
    if current_branch(place.path) != place.branch:
        raise InvalidState(f"{place.path} is not on {place.branch}: nothing synced")
    dirty = changed_files(place.path)
    if dirty:
        raise InvalidState(
            f"{place.agent}'s workspace has uncommitted changes "
            f"({', '.join(dirty[:5])}): nothing synced"
        )
    ahead, behind = ahead_behind(place.path, place.base, place.branch)
    if behind == 0:
        return f"{place.branch} is up to date with {place.base}"
    action = ("merge", "--no-edit", place.base) if merge else ("rebase", place.base)
    try:
        git(place.path, *action)
    except GitFailed as exc:
        files = conflicted_files(place.path)
        git(place.path, "merge" if merge else "rebase", "--abort")
        if not files:
            raise InvalidState(f"sync of {place.branch} failed: {exc.output.strip()}") from None
        raise InvalidState(
            f"sync of {place.branch} onto {place.base} stopped on conflicts in "
            f"{', '.join(files)}: nothing changed (resolve by hand)"
        ) from None
    how = "merged" if merge else f"rebased ({ahead} commit(s) replayed)"
    return f"{place.branch} {how} onto {place.base} ({behind} new commit(s))"


def remove(home: Path, place: Located, *, delete_branch: bool = False) -> str:
    """Remove swarm's worktree (git refuses one with changes); optionally its branch, when
    it is merged into the base. A workspace an interrupted init left half-made is removed
    with its folder and fresh branch."""
    if place.repo is None or place.base is None or place.branch is None:
        raise InvalidInput(
            f"{place.agent}'s workspace {place.path} comes from the agents file: remove it there"
        )
    record = manifest.load(manifest.root(home) / place.repo)
    if record is None:
        raise NotFound(f"no workspaces of {place.repo}")
    if place.status == manifest.MAKING:  # left by an interrupted init (or being made)
        with repair.locked(record):
            fresh = manifest.load(Path(record.folder)) or record
            return repair.discard(fresh, [place.agent])[0]
    repo = Path(record.repo)
    if delete_branch and not ok(repo, "merge-base", "--is-ancestor", place.branch, place.base):
        raise InvalidState(
            f"{place.branch} has commits not in {place.base}: merge them first or keep the branch"
        )
    if place.path.exists():
        recorded = branch_records.where(place.path)
        try:
            git(repo, "worktree", "remove", str(place.path))
        except GitFailed as exc:
            raise InvalidState(f"{place.path} not removed: {exc.output.strip()}") from None
        if recorded is not None:  # a worktree made later under its name records its own
            own, common = recorded
            branch_records.forget(common, own.name)
    else:
        git(repo, "worktree", "prune")
    del record.workspaces[place.agent]
    manifest.save(record)
    if delete_branch:
        git(repo, "branch", "-d", place.branch)
        return f"removed {place.path} and branch {place.branch}"
    return f"removed {place.path} (branch {place.branch} kept)"


def agent_at(home: Path, agents: Mapping[str, Agent], path: Path) -> str | None:
    """The agent whose workspace holds ``path`` (the innermost one), or None."""
    places = [(Path(a.workspace), a.id) for a in agents.values() if a.workspace]
    places += [
        (Path(s.path), s.agent)
        for r in manifest.load_all(home)
        for s in r.workspaces.values()
        if s.agent in agents
    ]
    where = path.absolute()
    inside = [(len(p.absolute().parts), agent) for p, agent in places if where.is_relative_to(p)]
    return max(inside)[1] if inside else None
