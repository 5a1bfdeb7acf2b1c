"""A protocol agent's transcript row (``agent_transcript``), as its statements
(``core.agents._transcript_queries``) return it, and in words: its one line, what a page
shows of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.formats.text import escape_controls, flat, shorten

TEXT_MAX = 4000  # characters of one row
OUTPUT_MARK = " → "  # in a tool call's text: between its words and the head of its output

# the row kinds
PROMPT, MESSAGE, TOOL, PLAN, PERMISSION, TURN_END, TURN_ERROR, EXITED, RETRY = (
    "prompt", "message", "tool", "plan", "permission", "turn_end", "turn_error", "exited",
    "retry",
)  # fmt: skip


@dataclass(frozen=True)
class Line:
    """One transcript row."""

    id: int
    agent: str
    rev: int
    task_id: int | None
    delivery_id: int | None
    at: float
    kind: str
    call: str | None
    status: str | None
    text: str

    def to_json(self) -> dict[str, Any]:
        """The row for the API and the live stream (its time as ``ts``), with its one line
        and the text a page shows."""
        found = {k: v for k, v in self.__dict__.items() if k != "at"}
        return {**found, "ts": self.at, "line": status_line(self), "shown": shown_text(self)}


def status_line(line: Line, width: int = 200) -> str:
    """What the row says in one line, controls escaped: ``tool call touch x (in progress)``."""
    status = (line.status or "").replace("_", " ")
    words = {
        PROMPT: lambda: f"prompt taken: {line.text}",
        MESSAGE: lambda: f"says: {_tail(line.text, width)}",
        TOOL: lambda: _tool(line.text, status),
        PLAN: lambda: f"plan: {line.text}",
        PERMISSION: lambda: f"asks: {line.text}" + (f" ({status})" if status else " (waiting)"),
        TURN_END: lambda: f"turn ended ({line.status})",
        TURN_ERROR: lambda: f"the turn failed: {line.text}",
        EXITED: lambda: f"the agent exited ({status})",
        RETRY: lambda: f"API error {line.status or '(no answer)'}, retrying: {line.text}",
    }.get(line.kind, lambda: f"{line.kind}: {line.text}")()
    return shorten(flat(words), width)


def shown_text(line: Line) -> str:
    """What a page shows of the row: an answer and a prompt whole (their line breaks kept),
    the others as their line; every other control character escaped."""
    if line.kind == MESSAGE:
        return escape_controls(line.text, keep="\n")
    if line.kind == PROMPT:
        return escape_controls(f"prompt taken:\n{line.text}", keep="\n")
    return status_line(line, TEXT_MAX)


def _tool(text: str, status: str) -> str:
    """``tool call Bash: ls (completed) → a.txt ⏎ b.txt``: its words, its status, then the
    head of what it printed (after ``OUTPUT_MARK`` in its text)."""
    words, _, output = (text or "a tool").partition(OUTPUT_MARK)
    said = f"tool call {words}" + (f" ({status})" if status else "")
    return f"{said}{OUTPUT_MARK}{output}" if output else said


def _tail(text: str, width: int) -> str:
    """The end of an answer (what it says now), on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else "…" + flat[-(width - 1) :]
