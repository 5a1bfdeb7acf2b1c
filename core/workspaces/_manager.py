"""Create, find, sync and remove agent worktrees. Blocking (git subprocesses): front ends
call these from a worker thread."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import InvalidInput, InvalidState, NotFound
from core.models import Agent
from core.privacy.files import make_dirs
from core.workspaces import _build as build
from core.workspaces import _manifest as manifest
from core.workspaces import _repair as repair
from core.workspaces import _reservation_hook as reservation_hook
from core.workspaces._git import GitFailed, branch_exists, changed_files, current_branch, toplevel
from core.workspaces._manifest import MAKING, READY, RepoWorkspaces, Workspace

log = logging.getLogger(__name__)
BRANCH_PREFIX = "swarm/"
SETUP_TIMEOUT_S = 1800.0


@dataclass(frozen=True)
class InitRequest:
    """What ``swarm workspaces init`` was asked for."""

    repo: Path
    agents: Sequence[str] = ()  # empty: every configured agent
    base: str | None = None  # None: the branch checked out in the repository
    setup: str | None = None  # a shell command run in each new worktree
    copy: Sequence[str] = ()  # untracked files copied from the repository (e.g. .env)
    setup_timeout_s: float = SETUP_TIMEOUT_S
    # how to run ``swarm`` from the reservations' pre-commit hook (empty: no hook)
    hook_command: Sequence[str] = ()


def branch_of(agent: str) -> str:
    """The agent's branch name."""
    return f"{BRANCH_PREFIX}{agent}"


def init(
    home: Path,
    agents: Mapping[str, Agent],
    request: InitRequest,
    stop: threading.Event | None = None,
) -> RepoWorkspaces:
    """Check everything first (nothing is made when a check fails), then add one worktree per
    agent, copy the files and run the setup command in each (a failure marks that workspace
    broken; the others go on). What an interrupted init left is cleaned first; ``stop`` set
    (Ctrl+C) ends this one early, removing what it made (:class:`build.InitInterrupted`)."""
    repo = toplevel(request.repo)
    base = _check_base(repo, request.base)
    chosen = _check_agents(home, agents, request.agents)
    copies = _check_copies(repo, request.copy)
    record = _repo_record(home, repo, base)
    if not repair.leftovers(record):  # refuse before writing anything
        for agent in chosen:
            _check_free(repo, record, agent)
    with repair.locked(record):
        record = _repo_record(home, repo, base)  # again, under the lock
        repair.discard_leftovers(record)
        for agent in chosen:
            _check_free(repo, record, agent)
        return _make(repo, record, chosen, copies, request, stop)


def _make(
    repo: Path,
    record: RepoWorkspaces,
    chosen: Sequence[str],
    copies: Sequence[Path],
    request: InitRequest,
    stop: threading.Event | None,
) -> RepoWorkspaces:
    now = time.time()
    logs = Path(record.folder) / ".logs"
    make_dirs(logs)
    spaces = [
        Workspace(
            agent,
            str(Path(record.folder) / agent),
            branch_of(agent),
            MAKING,
            f"being made by swarm workspaces init (pid {os.getpid()}); if that "
            "stopped: swarm workspaces repair",
            created_at=now,
        )
        for agent in chosen
    ]
    record.workspaces.update((s.agent, s) for s in spaces)
    manifest.save(record)  # the journal: written before git is touched
    saving = threading.Lock()

    def journal() -> None:  # from the setup threads, as each setup command starts
        with saving:
            manifest.save(record)

    try:
        build.make_all(
            repo,
            spaces,
            record.base,
            copies,
            request.setup,
            logs,
            request.setup_timeout_s,
            stop,
            journal,
        )
    except BaseException:
        _undo(record, spaces)
        raise
    for space in spaces:
        if space.status == MAKING and request.hook_command:
            _install_hook(space, request.hook_command)
    for space in spaces:
        if space.status == MAKING:
            space.status, space.reason = READY, None
        space.setup_pid = space.setup_started = None  # ended: nothing left to stop
    manifest.save(record)
    return record


def _install_hook(space: Workspace, command: Sequence[str]) -> None:
    """The reservations' pre-commit hook in the new worktree; a failure is logged (the
    workspace stays usable: ``task merge`` still checks)."""

    try:
        reservation_hook.install(Path(space.path), command, space.agent)
    except (GitFailed, OSError) as exc:
        log.warning("reservations hook not installed in %s: %s", space.path, exc)


def _undo(record: RepoWorkspaces, spaces: Sequence[Workspace]) -> None:
    try:
        repair.discard(record, [s.agent for s in spaces])
    except Exception as exc:  # the journal stays: the next init or repair cleans up
        log.warning(
            "what the interrupted init made is not removed (%s): run swarm workspaces repair", exc
        )


def _check_base(repo: Path, base: str | None) -> str:
    wanted = base or current_branch(repo)
    if not wanted:
        raise InvalidInput(f"{repo} has a detached HEAD: name the base branch with --base")
    if not branch_exists(repo, wanted):
        raise InvalidInput(f"{repo} has no branch {wanted!r} (--base)")
    dirty = changed_files(repo)
    if dirty:
        shown = ", ".join(dirty[:5]) + (" ..." if len(dirty) > 5 else "")
        raise InvalidState(
            f"{repo} has uncommitted changes ({shown}): commit or stash them "
            "first, so every workspace starts from the same commit"
        )
    return wanted


def resolve_agent(agents: Mapping[str, Agent], name: str) -> Agent:
    """The configured agent ``name`` (case-insensitive); NotFound otherwise."""
    lowered = {a.lower(): a for a in agents}
    key = lowered.get(name.strip().lower())
    if key is None:
        raise NotFound(f"unknown agent {name!r}: agents are {', '.join(agents)}")
    return agents[key]


def _check_agents(home: Path, agents: Mapping[str, Agent], names: Sequence[str]) -> list[str]:
    """The agents' ids (every agent's when ``names`` is empty); one with ``workspace =`` in
    the agents file gets its worktree too (that key is then used: ``configured_over``)."""
    chosen = [resolve_agent(agents, n) for n in names] if names else list(agents.values())
    return list(dict.fromkeys(a.id for a in chosen))


def configured_over(agent: Agent, made: Workspace) -> str | None:
    """What to tell of an agent whose ``workspace =`` in the agents file is used instead of
    the worktree ``made`` for it; None when it names none, or that worktree."""
    if not agent.workspace or Path(agent.workspace) == Path(made.path):
        return None
    return (
        f"{agent.id} works in {agent.workspace} (workspace = in the agents file), not in "
        f"{made.path}: remove that key to use the worktree (swarm reads its usage either way)"
    )


def _check_copies(repo: Path, names: Sequence[str]) -> list[Path]:
    found = []
    for name in names:
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise InvalidInput(f"--copy {name}: give a path inside the repository")
        if not (repo / relative).is_file():
            raise InvalidInput(f"--copy {name}: {repo / relative} is not a file")
        found.append(relative)
    return found


def _repo_record(home: Path, repo: Path, base: str) -> RepoWorkspaces:
    """The repository's manifest (new or existing: same base required)."""
    name = repo.name
    for number in range(1, 1000):
        folder = manifest.root(home) / (name if number == 1 else f"{name}-{number}")
        record = manifest.load(folder)
        if record is None and (not folder.exists() or _only_logs(folder)):
            return RepoWorkspaces(str(repo), base, str(folder))
        if record is not None and Path(record.repo) == repo:
            if record.base != base:
                raise InvalidInput(
                    f"the workspaces of {repo} are based on {record.base!r}, not {base!r}"
                )
            return record
    raise InvalidState(f"too many repositories named {name} under {manifest.root(home)}")


def _only_logs(folder: Path) -> bool:
    """True for a folder an init made and left before its manifest was written."""
    return folder.is_dir() and all(p.name == ".logs" for p in folder.iterdir())


def _check_free(repo: Path, record: RepoWorkspaces, agent: str) -> None:
    if agent in record.workspaces:
        raise InvalidState(
            f"{agent} already has a workspace of {repo}: {record.workspaces[agent].path}"
        )
    if branch_exists(repo, branch_of(agent)):
        raise InvalidState(
            f"branch {branch_of(agent)} already exists in {repo}: remove it or pick other agents"
        )
    if (Path(record.folder) / agent).exists():
        raise InvalidState(f"{Path(record.folder) / agent} already exists")
