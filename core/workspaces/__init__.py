"""Agent workspaces: one git worktree per agent on its own branch (``swarm/<agent>``).

``_git`` runs the git command line; ``_manifest`` stores what ``init`` made per repository
under ``$SWARM_HOME/workspaces/<repo>/``; ``_manager`` creates, lists, syncs and removes;
``_reservation_hook`` is the file reservations' per-worktree ``pre-commit`` hook;
``_task_branch`` a task's own branch.

The package's face: what other packages use is named here (``__all__``); its modules
are its own. Where callers still call a group of operations through a module's name,
that module is exported whole under its old name (``tests/project/test_package_faces.py``:
``NAMESPACES``, a list that only shrinks).
"""

from __future__ import annotations

from core.workspaces import _handoff as handoff
from core.workspaces import _manifest as manifest
from core.workspaces import _procs as procs
from core.workspaces import _reservation_hook as reservation_hook
from core.workspaces import _work as work
from core.workspaces._build import CHECKOUT_WORKERS
from core.workspaces._diff_view import FileDiff, ParsedDiff, parse
from core.workspaces._git import (
    FolderMissing,
    ForeignGitFolder,
    GitFailed,
    changed_files,
    conflicted_files,
    current_branch,
    git,
    ok,
    safe_env,
)
from core.workspaces._manager import InitRequest, configured_over, init, resolve_agent
from core.workspaces._manifest import worktree_of
from core.workspaces._ops import Located, agent_at, describe, find, list_all, remove, require, sync
from core.workspaces._procs import (
    PROC,
    Proc,
    alive_of,
    end_processes,
    os_user,
    pid_alive,
    session_members,
    start_time,
)
from core.workspaces._repair import repair_all
from core.workspaces._reservation_hook import staged_files
from core.workspaces._tracker import WorkspaceBook, end_of

__all__ = [
    "CHECKOUT_WORKERS",
    "PROC",
    "FileDiff",
    "FolderMissing",
    "ForeignGitFolder",
    "GitFailed",
    "InitRequest",
    "Located",
    "ParsedDiff",
    "Proc",
    "WorkspaceBook",
    "agent_at",
    "alive_of",
    "changed_files",
    "configured_over",
    "conflicted_files",
    "current_branch",
    "describe",
    "end_of",
    "end_processes",
    "find",
    "git",
    "handoff",
    "init",
    "list_all",
    "manifest",
    "ok",
    "os_user",
    "parse",
    "pid_alive",
    "procs",
    "remove",
    "repair_all",
    "require",
    "reservation_hook",
    "resolve_agent",
    "safe_env",
    "session_members",
    "staged_files",
    "start_time",
    "sync",
    "work",
    "worktree_of",
]
