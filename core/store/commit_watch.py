"""Waiting for another process's commit to a SQLite store, cheaply: what a waiting
``PermissionRequest`` hook uses to see a person's decision as soon as it is committed.

``CommitWatch.changed()`` asks ``PRAGMA data_version`` on a read-only connection of its own
(in the caller's thread: microseconds, no table read); it moves when another connection
commits. ``CommitWatch.wait(longest_s)`` sleeps until the store's write-ahead log is written
(Linux inotify on the ``-wal`` file, through libc: a commit appends to it) or ``longest_s``
passes, so a waiter wakes for commits instead of polling. Without inotify (another system,
no ``-wal`` file) ``wait`` just sleeps ``longest_s``. With no file (PostgreSQL) ``changed()``
is always True: the caller reads each time.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import sqlite3
import sys
from pathlib import Path
from typing import Protocol

from core.store.conn import sqlite_error

log = logging.getLogger(__name__)
IN_MODIFY = 0x2  # <sys/inotify.h>
SETTLE_S = 0.002  # after the log is written, the commit's index update follows at once


class CommitWait(Protocol):
    """A wait for another process's change: ``CommitWatch`` (SQLite's commits) or
    ``core.store.postgres.listen.NotifyWait`` (a PostgreSQL notification), as
    ``Store.watch_prompt`` gives them."""

    @property
    def wakes_on_commits(self) -> bool:
        """``wait`` ends when the change comes, not only at its timeout."""

    def changed(self) -> bool:
        """True when the change came since the last call (and at the first call)."""

    async def wait(self, longest_s: float) -> None:
        """Until the change comes or ``longest_s`` seconds pass."""

    def close(self) -> None:
        """Let go of what it watches with."""


class CommitWatch:
    """Whether another connection committed since the last look, and a wait for one."""

    def __init__(self, path: Path | None) -> None:
        """Watch the SQLite file ``path`` (None: no file); StoreError if it cannot be read."""
        self._conn: sqlite3.Connection | None = None
        self._fd: int | None = None
        self._seen: int | None = None
        if path is None:
            return
        try:
            self._conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise sqlite_error(exc) from exc
        self._fd = _inotify(Path(f"{path}-wal"))

    @property
    def wakes_on_commits(self) -> bool:
        """``wait`` ends when the store is written (inotify), not only at its timeout."""
        return self._fd is not None

    def changed(self) -> bool:
        """True when a commit happened since the last call (and at the first call)."""
        if self._conn is None:
            return True
        try:
            version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error as exc:  # never worse than reading each time
            log.debug("data_version not read (%s)", exc)
            return True
        changed, self._seen = version != self._seen, version
        return changed

    async def wait(self, longest_s: float) -> None:
        """Until the store's log is written (then a moment for the commit to finish) or
        ``longest_s`` seconds pass."""
        if self._fd is None:
            await asyncio.sleep(longest_s)
            return
        await wait_readable(self._fd, longest_s)
        if self._drain():
            await asyncio.sleep(SETTLE_S)

    def close(self) -> None:
        """Close the connection and the inotify descriptor."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _drain(self) -> bool:
        """Read the pending inotify events; whether there were any."""
        assert self._fd is not None
        got = False
        while True:
            try:
                got = bool(os.read(self._fd, 4096)) or got
            except BlockingIOError:
                return got


def _inotify(path: Path) -> int | None:
    """A non-blocking inotify descriptor watching ``path`` being written; None when this
    system cannot (not Linux, no such file)."""
    if not sys.platform.startswith("linux") or not path.exists():
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = int(libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC))
    except (OSError, AttributeError) as exc:
        log.debug("no inotify (%s)", exc)
        return None
    if fd < 0:
        return None
    if int(libc.inotify_add_watch(fd, os.fsencode(path), IN_MODIFY)) < 0:
        os.close(fd)
        return None
    return fd


async def wait_readable(fd: int, longest_s: float) -> None:
    """Until ``fd`` can be read (asyncio's reader callback, no thread) or ``longest_s``
    seconds pass."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, readable)
    try:
        await asyncio.wait({ready}, timeout=longest_s)
    finally:
        loop.remove_reader(fd)
        ready.cancel()
