"""The files an agent created in its worktree and did not ``git add``, as the diff of a new
file (what ``git diff`` of an intent-to-add shows), read without touching the index: one
``git diff --no-index /dev/null FILE`` each. Bounded: ``MAX_FILES`` files, each shown up to
``MAX_FILE_BYTES`` (a larger one, like a binary one, is named only), ``MAX_CHARS`` in all;
the files left out are counted in a last line."""

from __future__ import annotations

import subprocess
from pathlib import Path

from core.workspaces._git import GIT_TIMEOUT_S, GitFailed, git, safe_env

MAX_FILES = 100  # untracked files shown
MAX_FILE_BYTES = 256 * 1024  # a larger file is named only (git: treated as binary)
MAX_CHARS = 1_000_000  # of all the untracked files' diffs


def untracked_files(tree: Path) -> list[str]:
    """The worktree's untracked files that git does not ignore, in git's order."""
    out = git(tree, "ls-files", "--others", "--exclude-standard", "-z")
    return [name for name in out.split("\0") if name]


def untracked_diff(tree: Path) -> str:
    """The diff of each untracked file of ``tree`` as a new file, then how many were left
    out (too many, or past ``MAX_CHARS``); empty when there is none."""
    names = untracked_files(tree)
    parts: list[str] = []
    size = 0
    for name in names[:MAX_FILES]:
        part = new_file_diff(tree, name)
        if size + len(part) > MAX_CHARS:
            break
        parts.append(part)
        size += len(part)
    left = len(names) - len(parts)
    if left:
        parts.append(f"({left} more untracked files not shown: git status lists them)\n")
    return "".join(parts)


def new_file_diff(tree: Path, name: str) -> str:
    """``name`` (a path in ``tree``) as a new file's diff; a binary one or one larger than
    ``MAX_FILE_BYTES`` named only ("Binary files ... differ")."""
    args = ("-c", f"core.bigFileThreshold={MAX_FILE_BYTES}", "diff", "--no-index",
            "--no-color", "--no-ext-diff", "--no-textconv", "--", "/dev/null", name)  # fmt: skip
    proc = subprocess.run(
        ["git", *args], cwd=tree, capture_output=True, text=True, errors="replace",
        timeout=GIT_TIMEOUT_S, stdin=subprocess.DEVNULL, env=safe_env(),
    )  # fmt: skip
    if proc.returncode not in (0, 1):  # 1: the files differ
        raise GitFailed(args, proc.returncode, proc.stderr or proc.stdout)
    return proc.stdout
