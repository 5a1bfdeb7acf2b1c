"""What an agent's worktree holds outside its commits when a turn begins (its tracked files
changed but not committed, its untracked files git does not ignore: each by name with an id
of its content), and the part of a turn's diff that is not committed: the files new or
changed since the turn began, never one an earlier task left there unchanged, nor one a
later turn in the same worktree changed.

The worktree is its agent's to write: a file's id is read here, not by ``git hash-object``
(which follows a symbolic link out of the worktree and blocks on a FIFO). Each path is
opened one folder at a time without following a link; a link's id is its target text; a
FIFO, socket or device is never opened. Bounded: ``MAX_NAMED`` files kept, each hashed up
to ``MAX_HASH_BYTES`` and ``MAX_HASHED_BYTES`` in all; a file past those is known by its
size and time alone."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.privacy.files import open_folder
from core.workspaces import _untracked as untracked
from core.workspaces._git import GIT_TIMEOUT_S, git

MAX_NAMED = 2000  # files a snapshot keeps (past that it is ``cut``)
MAX_NAME_CHARS = 4096  # a longer name is not kept (the snapshot is ``cut``)
MAX_HASH_BYTES = untracked.MAX_FILE_BYTES  # a larger file: its size and time only
MAX_HASHED_BYTES = 16 * 1024 * 1024  # read to hash, per snapshot or diff
START_TIMEOUT_S = 10.0  # git's status at a turn's start (a prompt waits for it)
GONE = "-"  # a tracked file deleted (or a name that is no file)
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FileId:
    """A file as a snapshot knows it: ``kind`` (``file``, ``link``, ``other`` or ``gone``),
    size and modification time in ns, and its blob id when it was hashed ("" when not)."""

    kind: str
    size: int = 0
    mtime_ns: int = 0
    blob: str = ""

    def same(self, other: FileId) -> bool:
        """Whether both name the same content: by blob id when both were hashed, else by
        kind, size and time (git's own test of a file it did not read)."""
        if self.kind != other.kind:
            return False
        if self.blob and other.blob:
            return self.blob == other.blob
        return (self.size, self.mtime_ns) == (other.size, other.mtime_ns)

    def encoded(self) -> list[Any]:
        return [self.kind, self.size, self.mtime_ns, self.blob]


@dataclass(frozen=True)
class Snapshot:
    """The worktree's files outside its commits, by name; ``cut``: more than were kept
    (a file not named is then judged by its time)."""

    files: dict[str, FileId] = field(default_factory=dict)
    cut: bool = False

    def text(self) -> str:
        """As stored on the turn's row (``task_work.start_files``)."""
        named = {name: found.encoded() for name, found in self.files.items()}
        return json.dumps({"files": named, "cut": self.cut}, separators=(",", ":"))


def parsed(text: str | None) -> Snapshot | None:
    """A stored snapshot, None when there is none (a turn begun before there were) or it
    does not read as one."""
    if not text:
        return None
    try:
        found = json.loads(text)
        files = {
            str(name): FileId(str(kind), int(size), int(mtime), str(blob))
            for name, (kind, size, mtime, blob) in found["files"].items()
        }
        return Snapshot(files, bool(found.get("cut")))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def take(tree: Path) -> Snapshot:
    """The snapshot of ``tree`` now (git's status, then each file's id); a status slower
    than ``START_TIMEOUT_S`` is ``subprocess.TimeoutExpired``."""
    tracked, others = changed_and_untracked(tree, START_TIMEOUT_S)
    budget = _Budget()
    files: dict[str, FileId] = {}
    cut = False
    for name in [*tracked, *others]:
        if len(files) >= MAX_NAMED or len(name) > MAX_NAME_CHARS:
            cut = True
            continue
        files[name] = file_id(tree, name, budget)
    return Snapshot(files, cut)


def changed_and_untracked(
    tree: Path, timeout: float = GIT_TIMEOUT_S
) -> tuple[list[str], list[str]]:
    """The tracked files changed but not committed (staged or not, deleted too) and the
    untracked files git does not ignore, each in git's order; read without taking the
    index's lock (``GIT_OPTIONAL_LOCKS=0``: an agent's own git is not disturbed)."""
    out = git(
        tree, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames",
        "--ignore-submodules=all", env={"GIT_OPTIONAL_LOCKS": "0"}, errors="surrogateescape",
        timeout=timeout,
    )  # fmt: skip
    tracked: list[str] = []
    others: list[str] = []
    for entry in out.split("\0"):
        if len(entry) < 4:
            continue
        (others if entry[:2] == "??" else tracked).append(entry[3:])
    return tracked, others


class _Budget:
    """The bytes still to be read for blob ids (``MAX_HASHED_BYTES`` at first)."""

    def __init__(self) -> None:
        self.left = MAX_HASHED_BYTES

    def take(self, size: int) -> bool:
        if size > MAX_HASH_BYTES or size > self.left:
            return False
        self.left -= size
        return True


def file_id(tree: Path, name: str, budget: _Budget | None = None) -> FileId:
    """The id of ``name`` (git's path in ``tree``), read without following a link."""
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return FileId("other")  # not a name git gives (a folder: a nested repository)
    try:
        folder = _open_folder(tree, parts[:-1])
    except OSError:
        return FileId("gone")
    try:
        return _id_in(folder, parts[-1], budget or _Budget())
    finally:
        os.close(folder)


def _open_folder(tree: Path, parts: list[str]) -> int:
    """A descriptor of ``tree``/``parts``, each part opened without following a link."""
    fd = os.open(tree, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    for part in parts:
        try:
            inner = open_folder(part, fd)
        finally:
            os.close(fd)
        fd = inner
    return fd


def _id_in(folder: int, name: str, budget: _Budget) -> FileId:
    try:
        found = os.lstat(name, dir_fd=folder)
    except OSError:
        return FileId("gone")
    if stat.S_ISLNK(found.st_mode):
        target = os.readlink(name, dir_fd=folder).encode("utf-8", "surrogateescape")
        return FileId("link", len(target), found.st_mtime_ns, _blob_id(target))
    if not stat.S_ISREG(found.st_mode):
        return FileId("other", 0, found.st_mtime_ns)
    if not budget.take(found.st_size):
        return FileId("file", found.st_size, found.st_mtime_ns)
    return _hashed(folder, name, found)


def _hashed(folder: int, name: str, found: os.stat_result) -> FileId:
    """A regular file's id with its blob id (``git hash-object --no-filters``'s): read no
    further than its size when looked at (a file swapped since is known by size alone)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, dir_fd=folder)
    except OSError:
        return FileId("gone")
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or opened.st_size != found.st_size:
            return FileId("file", opened.st_size, opened.st_mtime_ns)
        data = _read(fd, found.st_size)
    finally:
        os.close(fd)
    return FileId("file", found.st_size, found.st_mtime_ns, _blob_id(data))


def _read(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = os.read(fd, min(_CHUNK, left))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _blob_id(data: bytes) -> str:
    """The id git gives ``data`` as a blob (in a SHA-1 repository)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def uncommitted_diff(tree: Path, start: Snapshot, started_at: float, later: Snapshot | None) -> str:
    """The turn's uncommitted part of its diff: the tracked files' changes (against the
    worktree's HEAD) and the untracked files as new ones, of the files new or changed
    since ``start`` (taken at ``started_at``); with ``later`` (the next turn's start in
    this worktree), only those that were so when it began and are unchanged since."""
    tracked, others = changed_and_untracked(tree)
    budget = _Budget()
    mine_tracked = _own(tree, tracked, start, started_at, later, budget)
    mine_untracked = _own(tree, others, start, started_at, later, budget)
    parts = []
    if mine_tracked:
        shown = mine_tracked[: untracked.MAX_FILES]
        big = f"core.bigFileThreshold={untracked.MAX_FILE_BYTES}"
        literal = {"GIT_LITERAL_PATHSPECS": "1"}  # a name is a name, never a pattern
        shown_diff = git(
            tree, "-c", big, "diff", "HEAD", "--", *shown, env=literal, errors="replace"
        )
        parts.append(shown_diff)
        if len(mine_tracked) > len(shown):
            left = len(mine_tracked) - len(shown)
            parts.append(f"({left} more changed files not shown: git status lists them)\n")
    if mine_untracked:
        parts.append(untracked.untracked_diff(tree, mine_untracked))
    return "".join(parts)


def _own(
    tree: Path,
    names: list[str],
    start: Snapshot,
    started_at: float,
    later: Snapshot | None,
    budget: _Budget,
) -> list[str]:
    """Of ``names``, those the turn changed (see :func:`uncommitted_diff`)."""
    found = []
    for name in names:
        now = file_id(tree, name, budget)
        before = start.files.get(name)
        if before is None:
            mine = not start.cut or now.mtime_ns >= started_at * 1e9
        else:
            mine = not now.same(before)
        if mine and later is not None:
            then = later.files.get(name)
            mine = then is not None and now.same(then)
        if mine:
            found.append(name)
    return found
