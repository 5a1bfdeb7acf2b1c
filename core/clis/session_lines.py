"""The new whole JSON lines of a CLI's own session file, read from where the last read
stopped (the session readers of ``core.clis``' CLIs: Claude Code's transcripts, Codex's
rollouts)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from core.privacy.files import open_plain

LINE_BYTES = 1 << 20  # a longer line is no turn's (a request's blob): skipped
READ_MAX = 64 << 20  # bytes of a session file read at once (the rest: at the next read)


@dataclass
class JsonLines:
    """``path`` read from ``offset``: each read gives the objects on the lines written whole
    since (a line still being written waits for the next read; a line that is no JSON
    object, or longer than ``LINE_BYTES``, is skipped)."""

    path: Path
    offset: int = 0

    def read(self) -> list[dict[str, Any]]:
        """The objects on the whole lines written since the last read (at most
        ``READ_MAX`` bytes of them a read)."""
        try:
            with open_plain(self.path) as handle:
                handle.seek(self.offset)
                data = handle.read(READ_MAX)
        except OSError:
            return []
        end = data.rfind(b"\n") + 1
        if end == 0 and len(data) == READ_MAX:  # a line over READ_MAX: no turn's, passed
            self.offset += len(data)
            return []
        self.offset += end
        return [line for raw in data[:end].splitlines() if (line := json_line(raw)) is not None]


def json_line(raw: bytes) -> dict[str, Any] | None:
    """The JSON object on one line, or None."""
    if len(raw) > LINE_BYTES:
        return None
    try:
        line = json.loads(raw)
    except ValueError:
        return None
    return line if isinstance(line, dict) else None


def first_line(path: Path) -> dict[str, Any] | None:
    """The JSON object on ``path``'s first line (None: unreadable, unfinished, no object)."""
    try:
        with open_plain(path) as handle:
            raw = handle.readline(LINE_BYTES + 1)
    except OSError:
        return None
    return json_line(raw) if raw.endswith(b"\n") else None


def line_time(value: Any) -> float | None:
    """An ISO 8601 time a CLI wrote (``2026-11-26T10:30:18.216Z``) as seconds since the
    epoch, or None (no time, or no such time)."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:  # a time with no zone is not known to be UTC
        return None
    seconds = when.timestamp()
    return seconds if math.isfinite(seconds) else None
