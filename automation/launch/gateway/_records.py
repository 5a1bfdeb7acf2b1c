"""What the gateway and the proxy tell their caller: a usage record per model response, a
refusal per connection the proxy refused; and a sink that appends each as one JSON line to a
file under a folder the caller names, for another process (the coordinator) to read."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.costs.usage import Usage


@dataclass(frozen=True)
class UsageRecord:
    """One finished model response: whose, which vendor and wire format, which model, its
    tokens (``usage`` None: not known, never a guess), its HTTP status, whether it was
    streamed and read to its end, when it started and ended (Unix seconds), and whether its
    request offered the model tools (``offers_tools``: False, a CLI's side request; None:
    not known)."""

    agent: str
    vendor: str
    api: str
    model: str | None
    usage: Usage | None
    status: int
    streamed: bool
    complete: bool
    started: float
    ended: float
    tools: bool | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object (``usage`` null when unknown)."""
        found = dataclasses.asdict(self)
        found["usage"] = None if self.usage is None else self.usage.tokens()
        return found


@dataclass(frozen=True)
class Refusal:
    """A connection the egress proxy refused: the agent, the host and port it asked for
    (the host as printable text, cut short), the reason, when (Unix seconds)."""

    agent: str
    host: str
    port: int | None
    reason: str
    at: float

    def to_json(self) -> dict[str, Any]:
        """The refusal as a JSON object."""
        return dataclasses.asdict(self)


UsageCallback = Callable[[UsageRecord], None]
RefusalCallback = Callable[[Refusal], None]


class JsonLinesSink:
    """Appends records to ``folder/name`` as JSON lines (the folder made, mode 0700; the file
    0600, opened without following a link). Called from the event loop; a write is one
    ``os.write`` of a whole line, so a reader never sees half a record."""

    def __init__(self, folder: Path, name: str) -> None:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = folder / name
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        self._fd = os.open(self.path, flags, 0o600)
        self._lock = threading.Lock()

    def __call__(self, record: UsageRecord | Refusal) -> None:
        line = json.dumps(record.to_json(), separators=(",", ":"), ensure_ascii=True) + "\n"
        with self._lock:
            os.write(self._fd, line.encode("ascii"))

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


def read_lines(path: Path) -> list[dict[str, Any]]:
    """The whole records of a sink's file (a last line cut short is left for later)."""
    try:
        text = path.read_bytes().decode("ascii", errors="replace")
    except FileNotFoundError:
        return []
    whole = text[: text.rfind("\n") + 1]
    return [json.loads(line) for line in whole.splitlines() if line]
