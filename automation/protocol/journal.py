"""A protocol host's journal: its entries, numbered, written from their typed bodies
(``core.hosts.entries``) as JSON lines to its file, and held in memory for the socket's
streams until swarm acknowledges them."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any, BinaryIO

from core.hosts import lines, wire
from core.hosts.entries import Body
from core.privacy import files

KEEP = 5_000  # journal entries kept in memory after their acknowledgement (the transcript)


class Journal:
    """The host's entries, numbered, in memory (unacknowledged ones and the last ``KEEP``)
    and appended to the journal file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[dict[str, Any]] = []
        self.seq = 0
        self.acked = 0
        self.closed = False
        self._waiters: list[asyncio.Future[None]] = []  # streams waiting for a new entry
        self._file = private_file(path)

    def add(self, body: Body) -> dict[str, Any]:
        """Append ``body``'s entry (at most ``lines.ENTRY_LIMIT`` bytes: cut where longer)
        and wake the streams; the entry as written."""
        self.seq += 1
        entry = {"seq": self.seq, "at": time.time(), "type": body.TYPE, **body.fields()}
        if self.seq == 1:  # a life's first entry names its host (``journal_file.lives``)
            entry["host"] = os.getpid()
        entry, line = lines.bounded(entry, wire.encode(entry))
        self.entries.append(entry)
        self._file.write(line)
        self._file.flush()
        self._prune()
        self._wake()
        return entry

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

    def after(self, seq: int) -> list[dict[str, Any]]:
        """The entries after ``seq`` still held (they are numbered without a gap: a slice)."""
        if not self.entries:
            return []
        return self.entries[max(0, seq - self.entries[0]["seq"] + 1) :]

    def ack(self, seq: int) -> None:
        """Swarm has the entries up to ``seq``."""
        self.acked = max(self.acked, min(seq, self.seq))
        self._prune()

    def _prune(self) -> None:
        keep_from = min(self.acked, self.seq - KEEP)
        if self.entries and self.entries[0]["seq"] <= keep_from:
            del self.entries[: keep_from - self.entries[0]["seq"] + 1]

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
