"""A host's journal file, as swarm reads it when the host cannot tell it: every life of the
agent's host appended (each numbered from 1, its first entry naming the host's pid,
``host``), moved aside at a host's start once over ``ROTATE_BYTES`` or ``ROTATE_AGE_S`` old
(one older file kept).

What a host journaled that swarm never took in (the host died while swarm was stopped, or
was replaced by ``desktop up`` before swarm read its end) is read from here once:
``unread`` gives, from the life swarm's cursor names (its host's pid and the last entry
taken in), the entries after the cursor and every later life but the running host's (which
swarm reads from its socket), each entry read once (``core.hosts.entries.read``). A cursor
whose life is no longer in the files gives nothing: nothing is taken in twice.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.hosts import lines, wire
from core.hosts.entries import Entry, read

ROTATE_BYTES = 64 * 1024 * 1024  # a journal past this is moved aside when its host starts
ROTATE_AGE_S = 7 * 86400.0  # ... and one whose first entry is older than this
OLDER = ".1.jsonl"  # beside the journal: the one before it


@dataclass
class Life:
    """One host's entries in the journal files (``host``: its pid; None: not named)."""

    host: int | None
    entries: list[Entry] = field(default_factory=list)


def older_path(home: Path, agent: str) -> Path:
    """The journal moved aside at the last rotation."""
    return wire.journal_path(home, agent).with_suffix(OLDER)


def rotate(path: Path, now: float | None = None) -> bool:
    """Move ``path`` aside (replacing the older one) when over ``ROTATE_BYTES`` or begun
    over ``ROTATE_AGE_S`` ago; True when it was. Only at a host's start: what swarm has not
    read of the last life stays readable in the older file (the one before is dropped)."""
    try:
        size = path.stat().st_size
    except OSError:
        return False
    first = next(_entries(path), None)
    old = first is not None and first.at > 0 and (now or time.time()) - first.at > ROTATE_AGE_S
    if size <= ROTATE_BYTES and not old:
        return False
    os.replace(path, path.with_suffix(OLDER))
    return True


def lives(home: Path, agent: str) -> list[Life]:
    """Every host's life in the older file, then the journal, in order."""
    found: list[Life] = []
    last = 0
    for entry in entries(wire.journal_path(home, agent)):
        if entry.seq <= 0:
            continue
        if entry.seq <= last or not found:
            found.append(Life(entry.host if entry.seq == 1 else None))
        found[-1].entries.append(entry)
        last = entry.seq
    return found


def unread(home: Path, agent: str, known_host: int, seq: int, running: int) -> list[Life]:
    """What swarm has not taken in: the entries after ``seq`` of the life of ``known_host``,
    and every life after it but ``running``'s. Nothing when the cursor's life is not in
    the files (``known_host`` 0: swarm read no host of this agent's yet)."""
    if not known_host:
        return []
    found = lives(home, agent)
    at = next((n for n in range(len(found) - 1, -1, -1) if found[n].host == known_host), None)
    if at is None:
        return []
    rest = [Life(known_host, [e for e in found[at].entries if e.seq > seq])]
    rest += [life for life in found[at + 1 :] if life.host is not None and life.host != running]
    return [life for life in rest if life.entries]


def entries(journal: Path) -> Iterator[Entry]:
    """The entries of the journal moved aside, then of ``journal``, each read once
    (``core.hosts.entries.read``; a line over ``wire.LINE_LIMIT`` or that is no object
    skipped)."""
    yield from _entries(journal.with_suffix(OLDER))
    yield from _entries(journal)


def _entries(path: Path) -> Iterator[Entry]:
    with contextlib.suppress(OSError), path.open("rb") as journal:
        while line := journal.readline(wire.LINE_LIMIT + 1):
            if not line.endswith(b"\n") and len(line) > wire.LINE_LIMIT:
                while (rest := journal.readline(wire.LINE_LIMIT)) and not rest.endswith(b"\n"):
                    pass
                continue
            found = lines.parse(line)
            if isinstance(found, dict):
                yield read(found)
