"""An agent CLI's own log, read for what its screen or protocol does not show (Gemini CLI's
retries; opencode's over ACP).

Gemini CLI's is swarm's file: swarm names it when it launches the agent (``log_path``: the
CLI's ``debug_log`` variable, ``$SWARM_HOME/agent-logs/AGENT.log``) and reads what was added
since its last look (``LogTail``). The CLI appends to it; once read past ``KEEP_BYTES`` swarm
empties it, so it never grows without end (a writer that appends goes on at its new end; a
line written between the read and the emptying is lost, and the CLI's next retry writes
another). opencode's is the user's own, in its data folder, one for every opencode process
of that user (``core.clis.base.SessionLog``): read the same way, never emptied
(``keep_bytes=None``), each line taken only for the agent's own session.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.agent_state import AgentState
from core.privacy.files import open_plain

log = logging.getLogger(__name__)

KEEP_BYTES = 1 << 20  # a log read past this is emptied
READ_BYTES = 1 << 20  # read at most this much at one look (the newest part)
LINE_BYTES = 1 << 16  # a longer line is no line a CLI's reader wants (a stack, a JSON dump)
LOG_DIR = "agent-logs"


@dataclass(frozen=True)
class LogFinding:
    """One line of a CLI's log that says what its screen does not: a retry after a failure.

    ``at``: the line's own time; ``until``: when the CLI tries again, when the line says;
    ``line``: the line's message, as the evidence quotes it; ``expires``: when it is no
    longer news (the CLI tries again by then, and writes another entry if that fails)."""

    at: float
    state: AgentState  # LIMITED (a 429, a quota) or ERRORED (a 5xx, the network)
    line: str
    expires: float
    until: float | None = None


LogReader = Callable[[Sequence[str]], LogFinding | None]
"""A CLI's reading of lines added to its log: the newest finding in them, or None."""

SessionLogReader = Callable[[Sequence[str], str], LogFinding | None]
"""A CLI's reading of lines added to a log of all its sessions: the newest finding in the
lines of the session named (its ACP session id), or None."""


def log_path(home: Path, agent: str) -> Path:
    """Where ``agent``'s CLI writes the debug log swarm reads."""
    return home / LOG_DIR / f"{agent}.log"


class LogTail:
    """Reads what was added to one log file since the last look.

    ``read`` returns the CLI's reading of the complete lines added (None: nothing found).
    What the file held at the first read is old news (a retry from before swarm looked is
    not read; the CLI's next attempt writes an entry of its own); a file made after it is
    read whole. A file that shrank (emptied, replaced) is read from its start; a partial
    last line waits for its end; a file that does not exist (yet) is no finding. Read past
    ``keep_bytes``, it is emptied (None: never, the file is not swarm's: only read).
    """

    def __init__(self, path: Path, reader: LogReader, keep_bytes: int | None = KEEP_BYTES) -> None:
        self.path = path
        self.reader = reader
        self.keep_bytes = keep_bytes
        self._offset: int | None = None  # None: not read yet
        self._partial = b""
        self._warned = False

    def read(self) -> LogFinding | None:
        """The newest finding in the complete lines added since the last read."""
        try:
            with open_plain(self.path) as log:  # a link, FIFO or device is no log
                size = os.fstat(log.fileno()).st_size
                if self._offset is None:  # the first read: what is there is old news
                    self._offset = size
                if size < self._offset:  # emptied or replaced: from its start
                    self._offset, self._partial = 0, b""
                start = max(self._offset, size - READ_BYTES)
                if start > self._offset:
                    self._partial = b""  # skipped a part: its cut line is no line
                log.seek(start)
                data = log.read(size - start)
        except FileNotFoundError:
            if self._offset is None:
                self._offset = 0  # made later: read whole
            return None
        except OSError as exc:  # there but unreadable: its retries go unseen, said once
            self._failed(f"cannot be read ({exc.strerror})")
            return None
        self._offset = start + len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > LINE_BYTES:
            self._partial = b""  # its rest reads as a line of its own: not one of the reader's
        if self.keep_bytes is not None and self._offset >= self.keep_bytes and not self._partial:
            self._empty()
        return self.reader([raw.decode("utf-8", "replace") for raw in lines]) if lines else None

    def _empty(self) -> None:
        """Empty the file (its writer appends: it goes on at the new end)."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            try:
                if stat.S_ISREG(os.fstat(fd).st_mode):
                    os.ftruncate(fd, 0)
            finally:
                os.close(fd)
        except OSError as exc:
            self._failed(f"cannot be emptied ({exc.strerror}): it grows; its newest MB is read")
            return
        self._offset = 0

    def _failed(self, why: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("agent log %s %s", self.path, why)
