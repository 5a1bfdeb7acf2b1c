"""Claude Code's session transcripts: each turn's usage and cost (the tmux and desktop routes).

Claude Code writes each session to ``<config dir>/projects/<cwd, every / and . as ->/
<session id>.jsonl`` (the config dir: ``$CLAUDE_CONFIG_DIR``, else ``~/.claude``). Each
answer of the model is an ``assistant`` line whose ``message`` has its ``id``, ``model``
and ``usage`` (one line per content block of a message, the same id on each). Measured with
2.1.328: in its terminal (the tmux and desktop routes) each turn ends with a ``system`` line of
``subtype`` ``turn_duration``, and a ``cost-state`` line (the session's running
``totalCostUSD``) is written only when the session ends; run with ``-p``, each run ends with a
``cost-state`` line and no ``turn_duration`` (0.019024 after the first run, 0.039284 after the
second). A turn is the answers since the last turn's end: their usage summed; its cost what
the session's total grew by when a ``cost-state`` ends it, else unknown (the price table's):
a session's total at its end also counts Claude Code's side requests (a title, ...), which
are no turn's. A turn began at its first answer's line's ``timestamp``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.clis.base import UsageTurn
from core.clis.session_lines import JsonLines, line_time

_USAGE_KEYS = (
    "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
)  # fmt: skip


def transcript_dir(config_dir: Path, cwd: str) -> Path:
    """The folder of the sessions Claude Code ran in ``cwd``."""
    return config_dir / "projects" / re.sub(r"[^A-Za-z0-9-]", "-", cwd)


def reader(path: Path, cwd: str) -> TranscriptReader:
    """The reader of one transcript (a file of ``cwd``'s alone)."""
    return TranscriptReader(path)


@dataclass
class TranscriptReader:
    """Reads one session's transcript from where it stopped; the turns ended
    since. Read again from the start after a restart, it gives the same turns (their
    ``ref`` is recorded once)."""

    path: Path
    spent: float = 0.0  # the session's total at the last cost-state read
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # message id -> line
    began: float | None = None  # the time of the open turn's first answer
    lines: JsonLines = field(init=False)

    def __post_init__(self) -> None:
        self.lines = JsonLines(self.path)

    def read(self) -> list[UsageTurn]:
        """The turns whose end was written since the last read."""
        turns = []
        for line in self.lines.read():
            kind = line.get("type")
            if kind == "assistant":
                self._answer(line)
            elif kind == "system" and line.get("subtype") == "turn_duration" and self.answers:
                turns.append(self._turn(line, None))
            elif kind == "cost-state":
                cost = self._grew(line.get("totalCostUSD"))
                if self.answers:
                    turns.append(self._turn(line, cost))
        return turns

    def _grew(self, total: Any) -> float | None:
        """What the session's total grew by since the last ``cost-state``, if it is one."""
        number = float(total) if isinstance(total, int | float) else math.nan  # bool: 0 or 1
        if isinstance(total, bool) or not math.isfinite(number) or number < self.spent:
            return None
        grew, self.spent = round(number - self.spent, 9), number
        return grew

    def _answer(self, line: dict[str, Any]) -> None:
        message = line.get("message")
        if isinstance(message, dict) and isinstance(message.get("usage"), dict):
            if not self.answers:
                self.began = line_time(line.get("timestamp"))
            self.answers[str(message.get("id") or line.get("uuid"))] = message

    def _turn(self, line: dict[str, Any], cost: float | None) -> UsageTurn:
        usage = dict.fromkeys(_USAGE_KEYS, 0)
        for message in self.answers.values():
            for key in _USAGE_KEYS:
                value = message["usage"].get(key)
                if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                    usage[key] += value
        last_id, last = list(self.answers.items())[-1]
        session = str(line.get("sessionId") or self.path.stem)
        self.answers, began, self.began = {}, self.began, None
        model = last.get("model")
        return UsageTurn(
            f"transcript:{session}:{last_id}", session,
            str(model) if isinstance(model, str) else None, usage, cost, began,
        )  # fmt: skip
