"""Gemini CLI's saved chats: each answer's usage (the tmux and desktop routes).

Gemini CLI 0.61.0 keeps a workspace's chats in ``<home>/.gemini/tmp/<name>/chats/
session-<time><id>.jsonl`` (the home: ``$GEMINI_CLI_HOME``, else ``~``), the workspace's
``<name>`` in ``<home>/.gemini/projects.json`` (``{"projects": {"/abs/cwd": "work"}}``). Each
answer of the model is a line of ``type`` ``gemini`` with its ``id``, ``model`` and
``tokens`` (``input``, ``output``, ``cached``, ``thoughts``, ``tool``, ``total``); the first
line names the ``sessionId``; lines of ``$set`` rewrite the chat's fields. It writes no turn's
end and no cost: each answer (one model call) is a row of the ledger, priced by the price
table. Its input is Gemini's prompt count, the cached part with it: the ledger's input is the
rest plus the tool-use prompt, its output the answer's with the thoughts (the cached, thought
and tool counts were 0 with the test model server: that split is not measured). Its router's
own request (a small model asked which model answers) is written nowhere: not counted. An
answer's turn began at the ``timestamp`` of the last prompt before it (a ``user`` message
that is no tool's answer: a tool's is a ``user`` message of ``functionResponse`` parts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.clis.base import UsageTurn
from core.clis.session_lines import LINE_BYTES, JsonLines, line_time
from core.privacy.files import open_plain

PATTERN = "session-*.jsonl"


def chats_dir(home: Path, cwd: str) -> Path:
    """The folder of the chats Gemini CLI ran in ``cwd`` (its name in ``projects.json``; a
    folder that is none when the file does not name ``cwd``)."""
    folder = home / ".gemini"
    try:
        with open_plain(folder / "projects.json") as handle:  # the agent's to write
            projects = json.loads(handle.read(LINE_BYTES)).get("projects")
    except (OSError, ValueError, AttributeError):
        projects = None
    name = projects.get(cwd) if isinstance(projects, dict) else None
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        return folder / "tmp" / "-"  # no chat of cwd's is known
    return folder / "tmp" / name / "chats"


def reader(path: Path, cwd: str) -> ChatReader:
    """The reader of one chat (``cwd``'s: its folder is)."""
    return ChatReader(path)


@dataclass
class ChatReader:
    """Reads one chat from where it stopped: each answer written since, once."""

    path: Path
    session: str = ""
    seen: set[str] = field(default_factory=set)  # answer ids given
    prompted: float | None = None  # the time of the last prompt read
    lines: JsonLines = field(init=False)

    def __post_init__(self) -> None:
        self.lines = JsonLines(self.path)
        self.session = self.session or self.path.stem

    def read(self) -> list[UsageTurn]:
        """The answers written since the last read."""
        found = []
        for line in self.lines.read():
            if isinstance(line.get("sessionId"), str):
                self.session = line["sessionId"]
            rewrite = line.get("$set")
            messages = rewrite.get("messages") if isinstance(rewrite, dict) else [line]
            for message in messages if isinstance(messages, list) else []:
                turn = self._answer(message)
                found += [turn] if turn else []
        return found

    def _answer(self, message: Any) -> UsageTurn | None:
        if isinstance(message, dict) and message.get("type") == "user" and _prompt(message):
            self.prompted = line_time(message.get("timestamp"))
        if not isinstance(message, dict) or message.get("type") != "gemini":
            return None
        tokens, answer_id = message.get("tokens"), message.get("id")
        if not isinstance(tokens, dict) or not isinstance(answer_id, str):
            return None
        if answer_id in self.seen:
            return None
        self.seen.add(answer_id)
        count = {key: _count(tokens.get(key)) for key in ("input", "output", "cached",
                                                           "thoughts", "tool")}  # fmt: skip
        cached = min(count["cached"], count["input"])
        usage = {
            "input_tokens": count["input"] - cached + count["tool"],
            "output_tokens": count["output"] + count["thoughts"],
            "cache_read_input_tokens": cached,
            "cache_creation_input_tokens": 0,
        }
        model = message.get("model")
        began = self.prompted or line_time(message.get("timestamp"))
        return UsageTurn(f"gemini:{self.session}:{answer_id}", self.session,
                         model if isinstance(model, str) else None, usage, None,
                         began)  # fmt: skip


def _prompt(message: dict[str, Any]) -> bool:
    """Whether a ``user`` message is a prompt (not a tool's answer given back)."""
    parts = message.get("content")
    if not isinstance(parts, list):
        return True
    return not any(isinstance(part, dict) and "functionResponse" in part for part in parts)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
