"""The gateway agents' usage records read into the cost ledger at each watch tick
(``core.costs.wire``): each agent's ``usage.jsonl`` tailed from the offset its last booking
stored (in the booking's own transaction: exactly once across ``swarm run`` restarts), at
most ``MAX_READ_BYTES`` a tick; each answer on the task its agent held when the answer
started. Then what its CLI reported beside is compared, and a difference is an alert (one
per agent per day), but for turns that hold one a person stopped (``agent.stopped``, or a
withdrawal's stop: ``task.withdrawn``): logged, no alert.

The file is swarm's (its gateway process writes it, outside the sandbox), opened without
following a link, and only a regular file is read; a line longer than ``MAX_LINE_BYTES`` or
not a record is skipped, logged once a tick.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from core.agents import clear_alert, open_alert
from core.context import Ctx
from core.costs import wire
from core.costs.usage_place import metered, usage_file
from core.event_kinds import EventKind
from core.history.event_queries import newest_of_kinds
from core.store.access import StoreAccess
from core.store.conn import Conn
from core.tasks import held_at

log = logging.getLogger(__name__)
MAX_READ_BYTES = 1024 * 1024  # of one agent's records read at one tick
MAX_LINE_BYTES = 64 * 1024  # a record is far shorter: a longer line is no record
USAGE_DIFFERS = "usage-differs"  # the alert: the gateway's count and the CLI's differ
# what stops an agent's running turn: a person's stop, a withdrawal (a cancel, a reassign)
STOPS = (EventKind.AGENT_STOPPED, EventKind.TASK_WITHDRAWN, EventKind.TASK_WITHDRAWN)


@dataclass(frozen=True)
class Chunk:
    """Whole lines of a records file: the booking's position it was read after (``seen``:
    file and offset, as stored), the file (device and inode), the byte they start at and the
    byte after them, each line with its offset."""

    seen: tuple[str, int]
    file: str
    start: int
    end: int
    lines: list[tuple[int, bytes]]


def read_chunk(path: Path, file: str, read_to: int) -> Chunk | None:
    """The whole lines of ``path`` after byte ``read_to`` of ``file`` (from its start when
    the file is another, or shorter: replaced), at most ``MAX_READ_BYTES``; None when there
    is no regular file there, or nothing new."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        here = f"{info.st_dev}:{info.st_ino}"
        start = read_to if here == file and info.st_size >= read_to else 0
        stream.seek(start)
        data = stream.read(MAX_READ_BYTES)
    whole = data.rfind(b"\n") + 1
    if whole == 0 and len(data) < MAX_READ_BYTES:
        return None  # nothing new, or a line being written
    end = start + (whole or len(data))  # a full read with no line end: no record, passed
    lines, at = [], start
    for line in data[:whole].split(b"\n")[:-1] if whole else []:
        lines.append((at, line))
        at += len(line) + 1
    return Chunk((file, read_to), here, start, end, lines)


def answers_of(agent: str, chunk: Chunk) -> tuple[list[tuple[str, wire.Answer]], int]:
    """The booked answers of ``chunk`` with their refs, and how many lines were no record
    of ``agent``'s."""
    found, skipped = [], 0
    for offset, line in chunk.lines:
        try:
            raw = json.loads(line) if len(line) <= MAX_LINE_BYTES else None
        except (ValueError, RecursionError):
            raw = None
        answer = wire.answer_of(raw, agent)
        if answer is None:
            skipped += 1
        elif answer.booked:
            found.append((wire.ref_of(agent, chunk.file, offset, answer), answer))
    return found, skipped


class WireUsage:
    """Each gateway agent's usage records, booked where the last booking stopped."""

    def __init__(self, store: StoreAccess) -> None:
        self.store = store

    async def tick(self) -> int:
        """Book the answers recorded since the last tick and compare; how many were new."""
        home, booked = self.store.settings.home, 0
        for agent in list(self.store.agents.values()):
            if metered(agent):
                booked += await self._read(agent.id, usage_file(home, agent.id))
                if await self.store.read(wire.settled, agent.id, self.store.clock.now()):
                    await self.store.write(agent.id, _compare, agent.id)
        return booked

    async def _read(self, agent: str, path: Path) -> int:
        file, read_to = await self.store.read(wire.position, agent)
        chunk = await asyncio.to_thread(read_chunk, path, file, read_to)
        if chunk is None:
            return 0
        answers, skipped = answers_of(agent, chunk)
        if skipped:
            log.warning("%s: %d line(s) of %s are no usage record: skipped", agent, skipped, path)
        new = await self.store.write(agent, _book, agent, chunk, answers)
        return max(new, 0)


def _book(
    conn: Conn, ctx: Ctx, agent: str, chunk: Chunk, answers: list[tuple[str, wire.Answer]]
) -> int:
    """``answers`` into the ledger, each on the task ``agent`` held when it started."""
    spent = [(ref, a, held_at(conn, agent, a.started)) for ref, a in answers]
    return wire.book(conn, ctx, agent, chunk.seen, (chunk.file, chunk.start, chunk.end), spent)


def _compare(conn: Conn, ctx: Ctx, agent: str) -> None:
    """A difference between the gateway's count and the CLI's, said as an alert (the one
    of a day before cleared first); of turns that hold a stopped one, logged."""
    stop = newest_of_kinds(conn, agent, STOPS)
    found = wire.compare(conn, ctx, agent, None if stop is None else float(stop.ts))
    if found is None:
        return
    if found.stopped_at is not None:
        log.info("%s", found.stopped_text())
        return
    clear_alert(conn, ctx, agent, USAGE_DIFFERS, f"{agent}: a new day's usage difference")
    open_alert(conn, ctx, agent, USAGE_DIFFERS, found.text())
