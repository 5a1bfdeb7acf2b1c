"""A protocol host's journal: its entries, numbered, written from their typed bodies
(``core.hosts.entries``) as JSON lines to its file, and held in memory, as their lines, for
the socket's streams until swarm acknowledges them."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import BinaryIO, NamedTuple

from core.hosts import entries, lines, wire
from core.hosts.entries import Body
from core.privacy import files

KEEP = 5_000  # journal entries kept in memory after their acknowledgement (the transcript)


class Written(NamedTuple):
    """One entry as written: its number and its line."""

    seq: int
    line: bytes


class Journal:
    """The host's entries, numbered, in memory (unacknowledged ones and the last ``KEEP``)
    and appended to the journal file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[Written] = []
        self.seq = 0
        self.acked = 0
        self.closed = False
        self._waiters: list[asyncio.Future[None]] = []  # streams waiting for a new entry
        self._file = private_file(path)

    def add(self, body: Body) -> Written:
        """Append ``body``'s entry (at most ``lines.ENTRY_LIMIT`` bytes: cut where longer)
        and wake the streams; the entry as written. A life's first entry names its host
        (``journal_file.lives``)."""
        self.seq += 1
        entry = entries.of(body, self.seq, time.time(), os.getpid() if self.seq == 1 else None)
        fields = entries.line(entry)
        _, line = lines.bounded(fields, wire.encode(fields))
        written = Written(self.seq, line)
        self.entries.append(written)
        self._file.write(line)
        self._file.flush()
        self._prune()
        self._wake()
        return written

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_after(self, seq: int) -> None:
        """Return once an entry after ``seq`` is held, or the journal is closed."""
        while self.seq <= seq and not self.closed:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    def after(self, seq: int) -> list[Written]:
        """The entries after ``seq`` still held (they are numbered without a gap: a slice)."""
        if not self.entries:
            return []
        return self.entries[max(0, seq - self.entries[0].seq + 1) :]

    def ack(self, seq: int) -> None:
        """Swarm has the entries up to ``seq``."""
        self.acked = max(self.acked, min(seq, self.seq))
        self._prune()

    def _prune(self) -> None:
        keep_from = min(self.acked, self.seq - KEEP)
        if self.entries and self.entries[0].seq <= keep_from:
            del self.entries[: keep_from - self.entries[0].seq + 1]

    async def close(self) -> None:
        """End the streams and close the file."""
        self.closed = True
        self._wake()
        self._file.close()


def private_file(path: Path) -> BinaryIO:
    """``path`` opened to append, readable by its owner alone (0600, also when it was
    made before with another mode): a journal holds the agent's words and diffs."""
    handle = files.open_file(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.fchmod(handle, files.FILE_MODE)
    return os.fdopen(handle, "ab")
