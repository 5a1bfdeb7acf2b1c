"""opencode's own log: the model requests it retries, which its ACP says nothing of.

Over ACP 1.18.33 retries a 429 or a 5xx of its model with no ``session/update`` and no
error (the turn only takes longer); its log says each failed request. The log is
``<data dir>/opencode/log/opencode.log`` (the data dir: ``$XDG_DATA_HOME``, else
``~/.local/share``: a protocol agent's ``cli_dir``), one file that every opencode process of
the user appends to, a line each: ``timestamp=2026-11-26T06:39:38.025Z level=ERROR
run=73e9719b message="stream error" ... session.id=ses_... small=false agent=build
mode=primary error.error="AI_APICallError: Rate limit reached for requests. Please try again
in 2s."`` (its values ``key=value``, quoted with JSON's escapes when they hold a space; the
saved logs in ``core/clis/opencode/logs/``). A line is the agent's when its ``session.id``
is the agent's ACP session (the same ``ses_...`` id). The error's words are the provider's:
a line is read strictly, and a long one is none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from core.agent_state import AgentState
from core.clis.logs import LogFinding

LINE_MAX = 8192  # characters: a longer line is no stream error of its (its lines are ~300)
TEXT_MAX = 300  # characters of the error kept as the evidence
BACKOFF_MAX_S = 60.0  # its longest wait with no delay said (30 s) and the request after it
_FIELD = re.compile(r'(?P<key>[A-Za-z][\w.]{0,63})=(?P<value>"(?:[^"\\]|\\.)*"|[^\s"]*)(?:\s|$)')
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z")
_SESSION = re.compile(r"ses_[A-Za-z0-9]{1,64}")
_LIMIT = re.compile(
    r"(?i)\b429\b|rate.?limit|too many requests|quota|overloaded|resource.?exhausted"
)  # the words of its screen's limit rules (rules.toml)
_AGAIN = re.compile(
    r"(?i)try again in (?:(?P<minutes>\d{1,4})m)?(?P<n>\d{1,6}(?:\.\d{1,3})?)(?P<unit>ms|s)\b"
)


def log_file(cli_dir: Path) -> Path:
    """opencode's log in its data dir (a protocol agent's ``cli_dir``)."""
    return cli_dir / "opencode" / "log" / "opencode.log"


def retries(lines: Sequence[str], session: str) -> LogFinding | None:
    """The newest ``stream error`` of ``session``'s own requests in lines of the log:
    ``limited`` for a rate limit (until the retry it says, else its latest), else
    ``errored`` until its latest retry; None when the lines hold none (or no session is
    named)."""
    if not _SESSION.fullmatch(session):
        return None
    for fields in reversed(list(_errors(lines))):
        if fields.get("session.id") == session and fields.get("small") != "true":
            return _finding(fields)
    return None


def _errors(lines: Sequence[str]) -> Iterator[dict[str, str]]:
    """The fields of each whole ``stream error`` line, its error last (a cut or long line
    is none)."""
    for line in lines:
        if len(line) > LINE_MAX or 'message="stream error"' not in line:
            continue
        fields = _fields(line.rstrip("\r"))
        if fields and fields.get("message") == "stream error" and "error.error" in fields:
            yield fields


def _fields(line: str) -> dict[str, str] | None:
    """A line's ``key=value`` fields; None when it is not all of them (cut, or not its)."""
    fields: dict[str, str] = {}
    place = 0
    for found in _FIELD.finditer(line):
        if found.start() != place:
            return None
        value = found["value"]
        if value.startswith('"'):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        fields.setdefault(found["key"], str(value))
        place = found.end()
    return fields if place == len(line) and "timestamp" in fields else None


def _finding(fields: Mapping[str, str]) -> LogFinding | None:
    """One stream error's line as what it says of the agent."""
    stamp = fields["timestamp"]
    try:
        at = datetime.fromisoformat(stamp).timestamp() if _TIME.fullmatch(stamp) else None
    except ValueError:  # 2026-13-45
        return None
    if at is None:
        return None
    said = " ".join(fields["error.error"].split())[:TEXT_MAX] or "stream error"
    retry = at + BACKOFF_MAX_S
    if not _LIMIT.search(said):
        return LogFinding(at, AgentState.ERRORED, said, retry)
    again = _AGAIN.search(said)
    if again is None:
        return LogFinding(at, AgentState.LIMITED, said, retry, retry)
    scale = 0.001 if again["unit"] == "ms" else 1.0
    wait = int(again["minutes"] or 0) * 60 + float(again["n"]) * scale
    return LogFinding(at, AgentState.LIMITED, said, at + wait, at + wait)
