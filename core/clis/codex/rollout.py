"""Codex's session rollouts: each turn's usage (the tmux and desktop routes).

Codex writes each session to ``<codex home>/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl``
(the codex home: ``$CODEX_HOME``, else ``~/.codex``), one folder for every workspace: the
first line (``session_meta``) names the session's ``id`` and the ``cwd`` it ran in. Measured
with 0.169.0: a turn is ``task_started`` ... ``task_complete`` (with its ``turn_id``); each
model answer in it writes an ``event_msg`` ``token_count`` whose ``info.total_token_usage`` is
the session's running total (``last_token_usage`` the answer's own); ``turn_context`` names
the ``model``. No cost is written (the price table prices it).

A turn's usage is what the running total grew by since the last turn's end (a ``token_count``
said twice counts once); it began at its ``task_started`` line's ``timestamp`` (else its
first ``token_count``'s). Its input is OpenAI's: ``input_tokens`` includes the cached
(``cached_input_tokens``) and the cache-written (``cache_write_input_tokens``) tokens; the
ledger's input is the rest (all zero with the test model server: the split is not measured).

A turn a stop cut (Escape: ``turn_aborted``, reason ``interrupted``) is of unknown usage:
its last request was asked of the model, but its answer's count never came, and the
running total stays where the last whole answer left it (measured with 0.169.0: the total
unchanged after the abort; before, such a turn was not booked at all). Not counted in the
rollout at all: the title request Codex sends beside each prompt ("Generate a concise,
single-line task title ..."); through swarm's gateway it is on the wire.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.clis.base import UsageTurn
from core.clis.session_lines import JsonLines, first_line, line_time
from core.formats.tomltext import TomlError, loads
from core.privacy.files import open_plain

PATTERN = "*/*/*/rollout-*.jsonl"  # sessions/YYYY/MM/DD/
DAY_S = 86400.0
ABORTED = "turn_aborted"  # a turn a stop (or a new prompt) cut
TURN_ENDS = ("task_complete", ABORTED)
_KEYS = ("input_tokens", "cached_input_tokens", "cache_write_input_tokens", "output_tokens")


def sessions_dir(codex_home: Path, cwd: str) -> Path:
    """The folder of Codex's sessions, every workspace's (``session_cwd`` tells them apart)."""
    return codex_home / "sessions"


def recent(now: float) -> list[str]:
    """The day folders a session begun about ``now`` is in: the day before, the day and the
    day after, by local time and by UTC (whichever Codex's clock says)."""
    days = {
        time.strftime("%Y/%m/%d", convert(now + shift))
        for shift in (-DAY_S, 0.0, DAY_S)
        for convert in (time.localtime, time.gmtime)
    }
    return [f"{day}/rollout-*.jsonl" for day in sorted(days)]


def session_cwd(path: Path) -> str | None:
    """The folder the session of ``path`` ran in (its first line's ``cwd``), or None."""
    line = first_line(path)
    payload = line.get("payload") if line and line.get("type") == "session_meta" else None
    cwd = payload.get("cwd") if isinstance(payload, dict) else None
    return cwd if isinstance(cwd, str) else None


def reader(path: Path, cwd: str) -> RolloutReader:
    """The reader of one rollout (``cwd``'s: ``session_cwd`` chose it)."""
    return RolloutReader(path)


@dataclass
class RolloutReader:
    """Reads one session's rollout from where it stopped; the turns ended since. Read again
    from the start after a restart, it gives the same turns (their ``ref`` is recorded
    once)."""

    path: Path
    session: str = ""
    model: str | None = None
    counted: dict[str, int] = field(default_factory=dict)  # the total at the last turn's end
    total: dict[str, int] = field(default_factory=dict)  # the newest total read
    began: float | None = None  # when the open turn began
    lines: JsonLines = field(init=False)

    def __post_init__(self) -> None:
        self.lines = JsonLines(self.path)
        self.session = self.session or self.path.stem.removeprefix("rollout-")[-36:]

    def read(self) -> list[UsageTurn]:
        """The turns whose end was written since the last read."""
        turns = []
        for line in self.lines.read():
            payload = line.get("payload")
            if not isinstance(payload, dict):
                continue
            kind = line.get("type")
            if kind == "session_meta" and isinstance(payload.get("id"), str):
                self.session = payload["id"]
            elif kind == "turn_context" and isinstance(payload.get("model"), str):
                self.model = payload["model"]
            elif kind == "event_msg" and payload.get("type") == "task_started":
                self.began = line_time(line.get("timestamp"))
            elif kind == "event_msg" and payload.get("type") == "token_count":
                self.began = self.began or line_time(line.get("timestamp"))
                self._count(payload.get("info"))
            elif kind == "event_msg" and payload.get("type") in TURN_ENDS:
                turn = self._turn(payload.get("turn_id"), payload.get("type") == ABORTED)
                turns += [turn] if turn else []
        return turns

    def _count(self, info: Any) -> None:
        total = info.get("total_token_usage") if isinstance(info, dict) else None
        if not isinstance(total, dict):
            return
        found = {key: total.get(key, 0) for key in _KEYS}  # an older Codex: no cache write
        if all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in found.values()):
            self.total = {key: int(value) for key, value in found.items()}

    def _turn(self, turn_id: Any, aborted: bool = False) -> UsageTurn | None:
        """The turn ending now: what the total grew by; an ``aborted`` one's usage unknown
        (an empty ``usage``) whatever it grew by."""
        grew = {key: self.total.get(key, 0) - self.counted.get(key, 0) for key in _KEYS}
        began, self.began = self.began, None
        self.counted = dict(self.total)
        if aborted and isinstance(turn_id, str):
            ref = f"rollout:{self.session}:{turn_id}"
            return UsageTurn(ref, self.session, self.model, {}, None, began)
        if not any(grew.values()) or min(grew.values()) < 0:  # nothing new, or no running total
            return None
        cached, written = grew["cached_input_tokens"], grew["cache_write_input_tokens"]
        usage = {
            "input_tokens": max(grew["input_tokens"] - cached - written, 0),
            "output_tokens": grew["output_tokens"],
            "cache_read_input_tokens": cached,
            "cache_creation_input_tokens": written,
        }
        turn = turn_id if isinstance(turn_id, str) else f"total-{sum(self.total.values())}"
        ref = f"rollout:{self.session}:{turn}"
        return UsageTurn(ref, self.session, self.model, usage, None, began)


CONFIG_MAX = 1 << 20  # bytes of config.toml read, at most


def configured_model(codex_home: Path) -> str | None:
    """The ``model`` its ``config.toml`` chooses (top level), if it says one."""
    try:
        with open_plain(codex_home / "config.toml") as f:  # an agent's copy: its to write
            raw = loads(f.read(CONFIG_MAX).decode("utf-8"))
    except (OSError, UnicodeDecodeError, TomlError):
        return None
    model = raw.get("model")
    return model.strip() if isinstance(model, str) and model.strip() else None
