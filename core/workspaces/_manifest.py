"""What ``swarm workspaces init`` made for one repository, kept beside the worktrees.

``$SWARM_HOME/workspaces/<repo>/.swarm-workspaces.json`` (an agent id never starts with a
dot, so the file cannot collide with an agent's folder) and ``.logs/<agent>.setup.log``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.errors import StorageError
from core.privacy.files import make_dirs
from core.workspaces._procs import pid_alive

MANIFEST = ".swarm-workspaces.json"
TMP_PREFIX = ".manifest-"  # + the writer's pid: a kill -9 mid-save leaves one behind
READY = "ready"
BROKEN = "broken"
MAKING = "making"  # written before init touches git: found after a crash, then cleaned


@dataclass
class Workspace:
    """One agent's worktree."""

    agent: str
    path: str
    branch: str
    status: str = READY  # ready | broken | making
    reason: str | None = None  # why it is broken
    log: str | None = None  # the setup command's output
    created_at: float = 0.0
    setup_pid: int | None = None  # the setup command's session while init runs it
    setup_started: str | None = None  # its start time (a reused pid is never stopped)


@dataclass
class RepoWorkspaces:
    """The worktrees made for one repository."""

    repo: str  # the main checkout
    base: str  # the branch the agent branches start from and sync onto
    folder: str  # $SWARM_HOME/workspaces/<repo>
    workspaces: dict[str, Workspace] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The folder's name (the repository's, made unique)."""
        return Path(self.folder).name

    def to_json(self) -> dict[str, Any]:
        """Plain data for the manifest file and ``--json``."""
        return {
            "repo": self.repo,
            "base": self.base,
            "folder": self.folder,
            "workspaces": {a: asdict(w) for a, w in self.workspaces.items()},
        }


def root(home: Path) -> Path:
    """Where every repository's workspaces live."""
    return home / "workspaces"


def load(folder: Path) -> RepoWorkspaces | None:
    """The manifest in ``folder``, or None when there is none."""
    path = folder / MANIFEST
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StorageError(f"workspace manifest {path} cannot be read: {exc}") from None
    spaces = {a: Workspace(**w) for a, w in raw.get("workspaces", {}).items()}
    return RepoWorkspaces(raw["repo"], raw["base"], str(folder), spaces)


def load_all(home: Path) -> list[RepoWorkspaces]:
    """Every repository's manifest under ``$SWARM_HOME/workspaces``, by name."""
    base = root(home)
    if not base.is_dir():
        return []
    found = (load(p) for p in sorted(base.iterdir()) if p.is_dir())
    return [r for r in found if r is not None]


def save(repo: RepoWorkspaces) -> None:
    """Write the manifest atomically (a temporary file renamed over it)."""
    folder = Path(repo.folder)
    make_dirs(folder)  # 0700: worktrees get copies of untracked files such as .env
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{TMP_PREFIX}{os.getpid()}-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(repo.to_json(), handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, folder / MANIFEST)


def drop_stale_temporaries(folder: Path) -> None:
    """Remove the temporary files of saves whose process is gone (killed mid-save)."""
    for path in folder.glob(f"{TMP_PREFIX}*.tmp"):
        pid = path.name[len(TMP_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and pid_alive(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def worktree_of(home: Path, agent: str) -> str | None:
    """The folder of the one worktree ``swarm workspaces init`` made for ``agent`` (what it
    runs in when the agents file names no ``workspace``); None when it has none, or several
    (which one it runs in is then not known here)."""
    try:
        found = [r.workspaces[agent].path for r in load_all(home) if agent in r.workspaces]
    except StorageError:  # a manifest that cannot be read: said where workspaces are listed
        return None
    return found[0] if len(found) == 1 else None
