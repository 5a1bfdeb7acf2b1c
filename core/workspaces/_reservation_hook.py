"""The ``pre-commit`` hook of file reservations in an agent's worktree, and the files a
commit or a branch changes.

The hook is the worktree's own: a folder of hooks in the worktree's git folder
(``.git/worktrees/<name>/swarm-hooks``) named by ``core.hooksPath`` in the worktree's own
config (``extensions.worktreeConfig``), so the main checkout and the other worktrees keep
their hooks. Every other hook name there hands over to the hook that ran before (the
repository's ``core.hooksPath`` or ``.git/hooks``), and so does ``pre-commit`` after its
check: the user's hooks keep running. ``git commit --no-verify`` skips it (the person's
escape hatch; ``task merge`` notices such commits). Blocking (git subprocesses).
"""

from __future__ import annotations

import logging
import os
import shlex
import tempfile
from collections.abc import Sequence
from pathlib import Path

from core.errors import InvalidInput
from core.privacy.files import NotPlain, make_dirs, open_plain
from core.sandbox import DOOR_SWARM, WORKTREE_HOOKS, git_folders
from core.workspaces._git import GitFailed, git

log = logging.getLogger(__name__)
FOLDER = WORKTREE_HOOKS
MARK = "# swarm: file reservations (swarm workspaces init)"
INDEX_MAX = 512 << 20  # bytes of an index file copied at most (a million files: ~100 MB)
# git's client-side hooks: each hands over to the one that ran before swarm's folder
HOOKS = (
    "applypatch-msg",
    "pre-applypatch",
    "post-applypatch",
    "pre-commit",
    "pre-merge-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "pre-rebase",
    "post-checkout",
    "post-merge",
    "pre-push",
    "pre-auto-gc",
    "post-rewrite",
    "sendemail-validate",
    "post-index-change",
    "reference-transaction",
    "push-to-checkout",
)


def install(worktree: Path, command: Sequence[str], agent: str) -> Path:
    """Install the hook in ``worktree`` for ``agent``: ``command`` is how to run ``swarm``
    (``[ENV=...,] /path/python -m bot.cli.main``); the hooks folder made."""
    git_dir = Path(git(worktree, "rev-parse", "--absolute-git-dir").strip())
    folder = git_dir / FOLDER
    previous = _previous_hooks(worktree, folder)
    make_dirs(folder)
    for name in HOOKS:
        body = _check_text(command, agent) if name == "pre-commit" else ""
        _write_hook(folder / name, body + _hand_over(previous, name))
    git(worktree, "config", "extensions.worktreeConfig", "true")
    git(worktree, "config", "--worktree", "core.hooksPath", str(folder))
    return folder


def installed(worktree: Path) -> bool:
    """True when the worktree's ``pre-commit`` is swarm's."""
    try:
        found = git(worktree, "config", "--worktree", "--get", "core.hooksPath").strip()
    except GitFailed:
        return False
    hook = Path(found) / "pre-commit"
    return hook.is_file() and MARK in hook.read_text(encoding="utf-8", errors="replace")


def add_door(worktree: Path, agent: str) -> Path | None:
    """Rewrite swarm's ``pre-commit`` in ``worktree`` written before the check went through
    a sandbox's door (inside the sandbox swarm's Python is not there: the commit went
    unchecked, "file reservations not checked") with the door's check first, its command
    kept; the hooks folder, or None when there was nothing to rewrite."""
    if not installed(worktree):
        return None
    folder = Path(git(worktree, "config", "--worktree", "--get", "core.hooksPath").strip())
    text = (folder / "pre-commit").read_text(encoding="utf-8", errors="replace")
    command = None if DOOR_SWARM in text else _written_command(text)
    return None if command is None else install(worktree, command, agent)


def _written_command(text: str) -> list[str] | None:
    """How an installed check runs ``swarm`` (the words before ``reservations
    check-commit``), or None when the text has no such line."""
    for line in text.splitlines():
        before, found, _ = line.strip().partition(" reservations check-commit ")
        if found:
            try:
                return shlex.split(before) or None
            except ValueError:
                return None
    return None


def staged_files(worktree: Path, index: str | None = None) -> list[str]:
    """The paths the commit being made adds, changes or deletes (both sides of a rename),
    relative to the repository root; ``index``: the index file git gave the hook (``git
    commit -a`` stages into a lock of its own), when the check runs where git did not set
    it (through a sandbox's door)."""
    if index is None:
        out = git(worktree, "diff", "--cached", "--name-only", "--no-renames", "-z")
        return [p for p in out.split("\0") if p]
    with tempfile.TemporaryDirectory(prefix="swarm-index-") as private:
        copy = Path(private) / "index"  # what git reads: swarm's own copy
        _copy_own_index(worktree, index, copy)
        env = {"GIT_INDEX_FILE": str(copy)}
        out = git(worktree, "diff", "--cached", "--name-only", "--no-renames", "-z", env=env)
    return [p for p in out.split("\0") if p]


def _copy_own_index(worktree: Path, index: str, copy: Path) -> None:
    """Copy the index file ``index`` names to ``copy`` (in pieces: a door serves 16 calls at
    once), when it is one of the worktree's own git folder (``index``, ``index.lock``,
    ``next-index-*.lock``: what ``git commit`` stages into), a plain file of ``INDEX_MAX``
    bytes at most; InvalidInput (one line) for any other path. The path comes through a
    sandbox's door from the agent: git, outside, would read whatever it named (the person's
    key, ``/etc/shadow``: their first bytes said back in git's error; a FIFO held the
    door's slot)."""
    folders = git_folders(worktree)
    own = Path(folders[0]) if folders else worktree / ".git"
    path = Path(index) if os.path.isabs(index) else worktree / index
    name_ok = path.name in ("index", "index.lock") or (
        path.name.startswith("next-index-") and path.name.endswith(".lock")
    )
    if not name_ok or os.path.realpath(path.parent) != os.path.realpath(own):
        raise InvalidInput(f"--index must be an index file of {own}, not {index}")
    try:
        source = open_plain(path)
    except NotPlain as exc:
        raise InvalidInput(f"--index: {exc.strerror}") from None
    except FileNotFoundError:
        raise InvalidInput(f"--index: {path} does not exist") from None
    with source, copy.open("wb") as out:
        copied = 0
        while chunk := source.read(1 << 20):
            copied += len(chunk)
            if copied > INDEX_MAX:
                raise InvalidInput(f"--index: {path} is over {INDEX_MAX >> 20} MB")
            out.write(chunk)


def branch_files(worktree: Path, target: str, end: str) -> list[str]:
    """The paths the commits of ``end`` not in ``target`` change (what a merge brings)."""
    out = git(worktree, "diff", "--name-only", "--no-renames", "-z", f"{target}...{end}")
    return [p for p in out.split("\0") if p]


def _previous_hooks(worktree: Path, ours: Path) -> Path:
    """The hooks folder git used before swarm's: the configured ``core.hooksPath`` (not
    ours), else the repository's ``hooks`` folder."""
    try:
        found = git(worktree, "config", "--get", "core.hooksPath").strip()
    except GitFailed:
        found = ""
    if found and Path(found) != ours:
        path = Path(found).expanduser()
        if not path.is_absolute():  # relative to the top of the worktree, as git reads it
            path = Path(git(worktree, "rev-parse", "--show-toplevel").strip()) / path
        return path
    common = Path(git(worktree, "rev-parse", "--git-common-dir").strip())
    if not common.is_absolute():
        common = (worktree / common).resolve()
    return common / "hooks"


def _check_text(command: Sequence[str], agent: str) -> str:
    """The check: in the agent's sandbox through its door's ``swarm`` (swarm's own Python and
    home are not there; the door runs it outside, given the index git staged into), else by
    ``command``."""
    words = " ".join(shlex.quote(w) if "=" not in w else _quote_env(w) for w in command)
    program = next((w for w in command if "=" not in w), "")
    who = shlex.quote(agent)
    return (
        f"if [ -x {DOOR_SWARM} ]; then\n"
        f"  {DOOR_SWARM} reservations check-commit --agent {who} "
        '${GIT_INDEX_FILE:+--index "$GIT_INDEX_FILE"} || exit $?\n'
        f"elif [ -x {shlex.quote(program)} ]; then\n"
        f"  {words} reservations check-commit --agent {who} || exit $?\n"
        "else\n"
        f'  echo "swarm: {program} is gone: file reservations not checked" >&2\n'
        "fi\n"
    )


def _quote_env(pair: str) -> str:
    name, value = pair.split("=", 1)
    return f"{name}={shlex.quote(value)}"


def _hand_over(previous: Path, name: str) -> str:
    hook = shlex.quote(str(previous / name))
    return f'if [ -x {hook} ]; then exec {hook} "$@"; fi\nexit 0\n'


def _write_hook(path: Path, body: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"#!/bin/sh\n{MARK}\n{body}", encoding="utf-8")
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
