"""Gemini CLI's debug log: its retries, which its screen does not show.

It retries a per-minute 429 or a 5xx of its model behind its spinner for minutes with
nothing else on its screen (docs/agents.md), so swarm names its debug log
(``GEMINI_DEBUG_LOG_FILE``) when it launches it and reads each retry there (``retries``).
An entry is ``[2026-11-25T13:20:17.227Z] [WARN] message``, the message on as many lines as
it has, each written whole (one write): 0.61's ``retryWithBackoff`` writes ``Attempt 1
failed: You exceeded your current quota, ... Please retry in 3s.`` / ``Suggested retry after
3s.. Retrying after 5969ms...``, or ``Attempt 1 failed with status 500. Retrying with
backoff... _ApiError: {...}`` and the error's stack (tests/agents/test_gemini_live.py; the
saved log in ``core/clis/gemini/logs/``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import takewhile

from core.agent_state import AgentState
from core.clis.logs import LogFinding

_ENTRY = re.compile(r"^\[(?P<at>\d{4}-\d\d-\d\dT[\d:.]+Z)\] \[(?P<level>[A-Z]+)\] (?P<text>.*)$")
_ATTEMPT = re.compile(r"^Attempt \d+ failed\b")
_AFTER = re.compile(r"\. Retrying after (?P<ms>\d{1,9})ms\.\.\.$", re.M)  # a quota's own delay
_STATUS = re.compile(r"^Attempt \d+ failed with (?:status )?(?P<status>\d{3}|5xx)\b")
_LIMIT = re.compile(r"(?i)\b429\b|quota|rate.?limit|resource.?exhausted|too many requests")
TEXT_MAX = 300  # characters of the entry kept (its error's JSON can be long)
BACKOFF_MAX_S = 60.0  # its longest wait between attempts (30 s, +30 % jitter), and the request


def retries(lines: Sequence[str]) -> LogFinding | None:
    """The newest failed attempt in lines of 0.61's debug log: ``limited`` for a 429 or a
    quota until its retry (the one the entry names, else its latest), ``errored`` for
    another failure until its latest retry; None when the lines hold none."""
    for at, text in reversed(list(_entries(lines))):
        if _ATTEMPT.match(text):
            return _finding(at, text)
    return None


def _entries(lines: Sequence[str]) -> Iterator[tuple[float, str]]:
    """Each ``[time] [WARN]`` entry's time and message (its lines joined by newlines)."""
    at: float | None = None
    text: list[str] = []
    for line in lines:
        found = _ENTRY.match(line.rstrip("\r"))
        if found is None:
            if at is not None:
                text.append(line)
            continue
        if at is not None:
            yield at, "\n".join(text)
        at, text = None, []
        if found["level"] == "WARN":
            try:
                at, text = datetime.fromisoformat(found["at"]).timestamp(), [found["text"]]
            except ValueError:
                continue
    if at is not None:
        yield at, "\n".join(text)


def _finding(at: float, text: str) -> LogFinding:
    """One failed attempt's entry as what it says of the agent."""
    first, *more = text.split("\n")
    said = " ".join([first, *takewhile(lambda line: not line[:1].isspace(), more)])[:TEXT_MAX]
    delay = _AFTER.search(text)
    if delay is not None:  # limited until the retry it names
        until = at + int(delay["ms"]) / 1000
        return LogFinding(at, AgentState.LIMITED, said, until, until)
    # "failed with status 500", "failed with 429 error (no Retry-After header)"; else "failed:
    # <the error>. Max attempts reached", "failed. Retrying with backoff"
    status = _STATUS.match(text)
    limit = status["status"] == "429" if status else _LIMIT.search(first) is not None
    retry = at + BACKOFF_MAX_S  # its next attempt, at the latest
    if limit:
        return LogFinding(at, AgentState.LIMITED, said, retry, retry)
    return LogFinding(at, AgentState.ERRORED, said, retry)
