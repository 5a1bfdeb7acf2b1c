"""Swarm's state is its owner's alone: folders are made 0700 and files 0600, whatever the umask.

The database holds every prompt, note and token hash; inbox files are prompts; logs and
archives repeat them. The process umask is left alone (it is process-wide, and swarm is also
a library): each place that creates a folder or file under ``SWARM_HOME`` (and the log file)
asks for these modes. An existing file or folder keeps the mode it has (``swarm doctor``
warns about a home others can read).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_dirs(path: Path) -> None:
    """``mkdir -p path``: every folder it creates is 0700 (existing ones are left as they
    are); FileExistsError when ``path`` is a file, OSError as ``Path.mkdir`` raises it."""
    missing: list[Path] = []
    current = path
    while not current.is_dir() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # made meanwhile by another process
        os.chmod(folder, DIR_MODE)  # the umask only ever narrows it; an odd one is undone
    if not path.is_dir():
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))


def open_file(path: Path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_TRUNC) -> int:
    """``os.open`` that creates the file 0600 (an existing file keeps its mode)."""
    return os.open(path, flags, FILE_MODE)


def create_empty(path: Path) -> bool:
    """Create ``path`` empty and 0600 unless it exists; True when it was created."""
    try:
        os.close(open_file(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return False
    return True


def write_file(path: Path, data: bytes) -> None:
    """Write ``path`` whole, 0600 (also when it was left over with another mode): meant for
    the temporary file of an atomic replace."""
    fd = open_file(path)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(fd, FILE_MODE)
        out.write(data)


def copy_file(source: Path, target: Path) -> None:
    """Copy ``source``'s bytes to ``target``, which is left 0600 whatever ``source``'s mode."""
    write_file(target, source.read_bytes())


def open_folder(name: str | Path, at: int | None = None) -> int:
    """A descriptor of the folder ``name`` (in the folder ``at``), opened without following
    a link: what an agent can write is walked a folder at a time, never through its links.
    OSError when it is a link, no folder or gone."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    return os.open(name, flags, dir_fd=at)


class NotPlain(OSError):
    """Where a regular file was to be read: a link, a FIFO, a device or a folder."""


def open_plain(path: Path) -> BinaryIO:
    """``path`` open to read, only when it is a regular file reached without a link at its
    end, never waited on: a file an agent could write (its worktree, its git folder, its
    CLI's state) may be a FIFO that holds its reader for good, ``/dev/zero``, or a link to
    the person's files. NotPlain for anything else; FileNotFoundError when there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotPlain(errno.ELOOP, f"{path} is a symbolic link") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotPlain(errno.EINVAL, f"{path} is not a regular file")
    return os.fdopen(fd, "rb")


def read_plain(path: Path, limit: int) -> bytes:
    """At most ``limit`` bytes of ``path``, opened by :func:`open_plain`."""
    with open_plain(path) as file:
        return file.read(limit)
