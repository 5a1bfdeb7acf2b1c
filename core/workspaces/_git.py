"""Running the git command line (no library: git itself decides, and says why it refuses;
only a prompt's branch and head are read from the files first: ``head_files``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from core.errors import InvalidInput, InvalidState
from core.sandbox import git_folders, object_stores
from core.workspaces import _head_files as head_files

GIT_TIMEOUT_S = 120.0


class GitFailed(Exception):
    """A git command exited non-zero; ``output`` holds what it printed."""

    def __init__(self, args: tuple[str, ...], code: int, output: str) -> None:
        super().__init__(f"git {' '.join(args)} exited with status {code}: {output.strip()}")
        self.code = code
        self.output = output


@dataclass(frozen=True)
class Commit:
    """One commit: its hash and subject."""

    sha: str
    subject: str


# what git would run of a repository's (or an agent's) choosing, off in every git swarm runs
OFF = (("core.fsmonitor", "false"), ("core.hooksPath", "/dev/null"))
SHOWS_DIFFS = ("diff", "log", "show", "format-patch")  # --no-ext-diff --no-textconv given
# the commands that would look into a nested repository's work tree (a submodule, or a repo an
# agent made and committed in its worktree): git runs ``git status`` there with that repo's
# own configuration, the agent's, whose filters, fsmonitor and the like are its programs;
# ``--ignore-submodules=dirty`` keeps them out (a submodule's commit change still shows),
# and no ``.gitmodules`` line overrides an option given on the command line
LOOKS_INTO_SUBMODULES = ("status", "diff", "diff-files", "diff-index", *SHOWS_DIFFS[1:])


def safe_env(env: Mapping[str, str] | None = None, hooks: bool = False) -> dict[str, str]:
    """swarm's environment (``env`` set over it) with :data:`OFF` given to git as command-line
    configuration (``GIT_CONFIG_COUNT``), which no configuration file overrides; ``hooks``:
    the repository's hooks kept (a merge into the person's checkout runs the person's)."""
    found = {**os.environ, **(env or {})}
    start = int(found.get("GIT_CONFIG_COUNT", "0") or 0)
    off = OFF[:1] if hooks else OFF
    for i, (key, value) in enumerate(off, start):
        found[f"GIT_CONFIG_KEY_{i}"], found[f"GIT_CONFIG_VALUE_{i}"] = key, value
    found["GIT_CONFIG_COUNT"] = str(start + len(off))
    return found


def safe_args(args: tuple[str, ...]) -> tuple[str, ...]:
    """``args`` with ``--no-ext-diff --no-textconv`` after a diff-showing subcommand, and
    ``--ignore-submodules=dirty`` after one that would look into a nested repository
    (:data:`LOOKS_INTO_SUBMODULES`; a later ``--ignore-submodules`` of the caller's wins)."""
    at = _subcommand_at(args)
    if at >= len(args):
        return args
    added: tuple[str, ...] = ()
    if args[at] in SHOWS_DIFFS:
        added += ("--no-ext-diff", "--no-textconv")
    if args[at] in LOOKS_INTO_SUBMODULES:
        added += ("--ignore-submodules=dirty",)
    return (*args[: at + 1], *added, *args[at + 1 :])


def _subcommand_at(args: tuple[str, ...]) -> int:
    at = 0
    while at + 1 < len(args) and args[at] in ("-c", "-C"):
        at += 2
    return at


def _run_env(cwd: Path, args: tuple[str, ...], env: Mapping[str, str] | None) -> dict[str, str]:
    """The environment of swarm's ``git ARGS`` in ``cwd``: what runs programs off
    (:func:`safe_env`), hooks too in a linked worktree (its agent's) but where swarm runs
    one itself (``git hook run``: a new worktree's ``post-checkout``); a ``config`` read
    gets the files' own values (what ``core.hooksPath`` the person set, say)."""
    at = _subcommand_at(args)
    if at < len(args) and args[at] == "config":
        return {**os.environ, **(env or {})}
    asked = at < len(args) and args[at] == "hook"  # ``git hook run``: swarm runs one itself
    linked = (Path(cwd) / ".git").is_file()
    return safe_env(env, hooks=asked or not linked)


def git(
    cwd: Path,
    *args: str,
    timeout: float = GIT_TIMEOUT_S,
    env: Mapping[str, str] | None = None,
    errors: str = "strict",
) -> str:
    """Run ``git ARGS`` in ``cwd`` (``env``: variables set over swarm's own); its stdout, or
    GitFailed with its output; ``errors``: how bytes that are not UTF-8 are read (an
    agent's file names and contents: ``surrogateescape`` for names to use again,
    ``replace`` for text to show). A linked worktree's ``.git`` is checked first (it is its
    agent's to write: :func:`checked_worktree`); fsmonitor, external diffs and textconv are
    off, and hooks in a linked worktree (:func:`safe_env`, :func:`safe_args`): the main
    checkout's are the person's (a ``post-checkout`` that sets a new worktree up). The
    repository's sandboxed worktrees' stores are folded first (``core.sandbox.object_stores``):
    no agent's object is read under another's name."""
    checked_worktree(cwd)
    common = object_stores.common_of(Path(cwd))
    if common is not None:  # its sandboxed agents' objects checked before git reads them
        object_stores.fold_or_say(common, safe_env(env))  # (one that cannot run: said)
    try:  # the environment is inherited (git's identity and config); stdin is closed
        proc = subprocess.run(
            ["git", *safe_args(args)],
            cwd=cwd,
            capture_output=True,
            text=True,
            errors=errors,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env=_run_env(cwd, args, env),
        )
    except (FileNotFoundError, NotADirectoryError):
        raise _missing(cwd) from None
    if proc.returncode != 0:
        raise GitFailed(args, proc.returncode, proc.stderr or proc.stdout)
    return proc.stdout


class ForeignGitFolder(InvalidState):
    """A worktree's ``.git`` names a git folder that is not its own."""


def checked_worktree(cwd: Path) -> None:
    """ForeignGitFolder (one line) when ``cwd`` is a linked worktree whose ``.git`` file
    names a git folder that is not its own (``core.sandbox.own_git``): git would read that
    folder's configuration and run what it names. A folder without a ``.git`` file (a main
    checkout, a subfolder) is git's to find."""
    dot = Path(cwd) / ".git"
    if not (dot.is_file() or dot.is_symlink()):
        return
    try:
        git_folders(Path(cwd))
    except ValueError as exc:
        raise ForeignGitFolder(str(exc)) from None


class FolderMissing(InvalidState):
    """The folder git was to run in does not exist (e.g. a worktree deleted by hand)."""


def _missing(cwd: Path) -> InvalidInput | InvalidState:
    """What is missing when git could not be started: its folder, or git itself."""
    if not Path(cwd).is_dir():
        return FolderMissing(
            f"{cwd} does not exist (deleted?): git cannot run in it; "
            "swarm workspaces repair prunes a worktree whose folder is gone"
        )
    if shutil.which("git") is None:
        return InvalidInput("git is not installed (or not on PATH)")
    return InvalidState(f"git could not be started in {cwd}")


def ok(cwd: Path, *args: str) -> bool:
    """True when ``git ARGS`` exits 0."""
    try:
        git(cwd, *args)
    except GitFailed:
        return False
    return True


def toplevel(path: Path) -> Path:
    """The top folder of the repository holding ``path``; InvalidInput when there is none."""
    if not path.is_dir():
        raise InvalidInput(f"{path} is not a folder")
    try:
        return Path(git(path, "rev-parse", "--show-toplevel").strip()).resolve()
    except GitFailed:
        raise InvalidInput(f"{path} is not a git repository") from None


@dataclass(frozen=True)
class Worktree:
    """One entry of ``git worktree list``: its folder and the branch checked out there."""

    path: Path
    branch: str | None  # None when detached (or bare)


def worktrees(repo: Path) -> list[Worktree]:
    """Every worktree of the repository holding ``repo``, the main one first. Read with
    ``-z`` (NUL-separated): a folder name may hold a newline."""
    found: list[Worktree] = []
    for record in git(repo, "worktree", "list", "--porcelain", "-z").split("\0\0"):
        fields = [f for f in record.split("\0") if f]
        if not fields or not fields[0].startswith("worktree "):
            continue
        branch = next(
            (f[len("branch refs/heads/") :] for f in fields if f.startswith("branch refs/heads/")),
            None,
        )
        found.append(Worktree(Path(fields[0][len("worktree ") :]), branch))
    return found


def branch_exists(repo: Path, branch: str) -> bool:
    """True when ``refs/heads/<branch>`` exists."""
    return ok(repo, "show-ref", "--verify", "--quiet", f"refs/heads/{branch}")


def current_branch(repo: Path) -> str | None:
    """The branch checked out in ``repo``, None when HEAD is detached."""
    try:
        return git(repo, "symbolic-ref", "--quiet", "--short", "HEAD").strip()
    except GitFailed:
        return None


class Where(NamedTuple):
    """A repository's branch (None: HEAD is detached) and head commit (None: none read),
    and whether the head was read for sure (``read``: a None head is a branch with no
    commit yet, not a question left to git)."""

    branch: str | None
    head: str | None
    read: bool


def branch_and_head(repo: Path) -> Where:
    """The branch checked out in ``repo`` and the full hash of the commit HEAD is at: from
    the repository's files when they are plain (``head_files``), else in one git call; a
    repository with no commit yet (or a folder not in git) has no head, and its branch is
    read as :func:`current_branch` reads it (the head then read for sure only when the
    files said there is none)."""
    read = head_files.branch_and_head(repo)
    if read is not None:
        return Where(*read, read=True)
    try:
        lines = git(repo, "rev-parse", "HEAD", "--symbolic-full-name", "HEAD").split()
    except GitFailed:
        lines = []
    if len(lines) != 2:
        return Where(current_branch(repo), None, read=False)
    sha, name = lines
    return Where(name[len("refs/heads/") :] if name.startswith("refs/heads/") else None, sha, True)


def head(repo: Path, rev: str = "HEAD") -> str:
    """The full hash ``rev`` names."""
    return git(repo, "rev-parse", "--verify", f"{rev}^{{commit}}").strip()


def has_commits(repo: Path) -> bool:
    """Whether the repository holds any commit (True when that cannot be read either)."""
    try:
        return bool(git(repo, "rev-list", "-n", "1", "--all").strip())
    except (GitFailed, OSError):
        return True


def changed_files(repo: Path) -> list[str]:
    """Tracked files with uncommitted changes (staged or not); untracked files are not counted."""
    out = git(repo, "status", "--porcelain", "--untracked-files=no")
    return [line[3:] for line in out.splitlines() if line.strip()]


def conflicted_files(repo: Path) -> list[str]:
    """Files left unmerged by a stopped rebase or merge."""
    return git(repo, "diff", "--name-only", "--diff-filter=U").split()


def commits_between(repo: Path, since: str, until: str) -> list[Commit]:
    """Commits reachable from ``until`` and not from ``since``, oldest first."""
    out = git(repo, "log", "--reverse", "--format=%H%x09%s", f"{since}..{until}")
    found = []
    for line in out.splitlines():
        sha, _, subject = line.partition("\t")
        found.append(Commit(sha, subject))
    return found


def ahead_behind(repo: Path, base: str, branch: str) -> tuple[int, int]:
    """How many commits ``branch`` has that ``base`` lacks, and the other way round."""
    out = git(repo, "rev-list", "--left-right", "--count", f"{branch}...{base}").split()
    return int(out[0]), int(out[1])
