"""The files an agent created in its worktree and did not ``git add``, as the diff of a new
file (what ``git diff`` of an intent-to-add shows), read without touching the index: one
``git diff --no-index /dev/null FILE`` each. Bounded: ``MAX_FILES`` files, each shown up to
``MAX_FILE_BYTES`` (a larger one, like a binary one, is named only), ``MAX_CHARS`` in all;
the files left out are counted in a last line."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from core.workspaces._git import GIT_TIMEOUT_S, GitFailed, git, safe_env

MAX_FILES = 100  # untracked files shown
MAX_FILE_BYTES = 256 * 1024  # a larger file is named only (git: treated as binary)
MAX_CHARS = 1_000_000  # of all the untracked files' diffs


def untracked_files(tree: Path) -> list[str]:
    """The worktree's untracked files that git does not ignore, in git's order."""
    out = git(tree, "ls-files", "--others", "--exclude-standard", "-z", errors="surrogateescape")
    return [name for name in out.split("\0") if name]


def untracked_diff(tree: Path, names: list[str] | None = None) -> str:
    """The diff of each untracked file of ``tree`` (``names``, else all) as a new file, then
    how many were left out (too many, or past ``MAX_CHARS``); empty when there is none."""
    names = untracked_files(tree) if names is None else names
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
    ``MAX_FILE_BYTES`` named only ("Binary files ... differ"), a larger one without git
    (which would read it whole for its blob id)."""
    large = _large_file_mode(tree, name)
    if large is not None:
        shown = quoted(f"b/{name}")
        return (
            f"diff --git {quoted(f'a/{name}')} {shown}\nnew file mode {large}\n"
            f"Binary files /dev/null and {shown} differ\n"
        )
    args = ("-c", f"core.bigFileThreshold={MAX_FILE_BYTES}", "diff", "--no-index",
            "--no-color", "--no-ext-diff", "--no-textconv", "--", "/dev/null", name)  # fmt: skip
    proc = subprocess.run(
        ["git", *args], cwd=tree, capture_output=True, text=True, errors="replace",
        timeout=GIT_TIMEOUT_S, stdin=subprocess.DEVNULL, env=safe_env(),
    )  # fmt: skip
    if proc.returncode not in (0, 1):  # 1: the files differ
        raise GitFailed(args, proc.returncode, proc.stderr or proc.stdout)
    return proc.stdout


def _large_file_mode(tree: Path, name: str) -> str | None:
    """The mode git would give ``name`` when it is a regular file larger than
    ``MAX_FILE_BYTES`` (not followed when a link), else None."""
    try:
        found = os.lstat(tree / name)
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode) or found.st_size <= MAX_FILE_BYTES:
        return None
    return "100755" if found.st_mode & stat.S_IXUSR else "100644"


_C_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}
_C_ESCAPES |= {34: '\\"', 92: "\\\\"}


def quoted(path: str) -> str:
    """``path`` as git writes it in a diff header: as it is, else C-style quoted (a
    control character, a quote, a backslash or a byte past ASCII)."""
    raw = path.encode("utf-8", "surrogateescape")
    if all(32 <= byte < 127 and byte not in (34, 92) for byte in raw):
        return path
    out = "".join(_C_ESCAPES.get(b, chr(b) if 32 <= b < 127 else f"\\{b:03o}") for b in raw)
    return f'"{out}"'
