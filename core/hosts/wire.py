"""The host socket's messages: one JSON object a line each way, and the host's files.

A client sends one request a line (``{"op": ...}``) and reads one answer a line
(``{"ok": true, ...}`` or ``{"ok": false, "reason": ...}``), except ``events``, which turns
the connection into a stream of the host's journal entries after ``after``, then live ones.

Journal entries (``type``): ``ready`` (the session is open), ``turn`` (a prompt was sent),
``update`` (the agent's ``session/update``: ``kind`` and its words), ``permission`` (the agent
asks; ``request``, ``title``, ``options``), ``permission_done``, ``turn_end`` (the prompt's
``stop_reason`` and ``usage``, the turn's own; ``session_usage``: the session's running total
as the agent said it, where it says that and not the turn's), ``turn_error`` (the prompt's
error: ``code``, ``message``), ``session`` (a new or loaded session), ``exited`` (the agent
process ended), ``host_error``,
``agent_error`` (the agent wrote a line its protocol cannot take: ``message``, ``lines``),
``refused`` (a caller the socket refused: ``op``, ``pid``, ``why``, ``times``). Each has
``seq`` (1, 2, ... for the host's life) and ``at`` (epoch seconds); one over
``core.hosts.lines.ENTRY_LIMIT`` bytes is cut, its ``cut`` saying its size before. Each
entry is typed (``core.hosts.entries``: the host writes it from its body, swarm reads it
once), and so is each request (``core.hosts.requests``) and each reply
(``core.hosts.replies``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

LINE_LIMIT = 16 * 1024 * 1024  # bytes of one line (a prompt, a tool call's diff)
HOSTS = "hosts"  # $SWARM_HOME/hosts/<agent>.{sock,jsonl,session,log,pid}
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")

# requests
HELLO, PROMPT, ANSWER, CANCEL, NEW_SESSION, EVENTS, ACK, STOP = (
    "hello", "prompt", "answer", "cancel", "new_session", "events", "ack", "stop",
)  # fmt: skip
# journal entries
READY, TURN, UPDATE, PERMISSION, PERMISSION_DONE, TURN_END, TURN_ERROR, SESSION, EXITED = (
    "ready", "turn", "update", "permission", "permission_done", "turn_end", "turn_error",
    "session", "exited",
)  # fmt: skip
HOST_ERROR = "host_error"
AGENT_ERROR = "agent_error"  # the agent wrote what its protocol cannot take (``message``)
# an entry's fields read from the head of a line too long to read (the host writes them first)
HEAD_FIELDS = ("seq", "at", "type", "request", "delivery", "session", "kind", "code")
REFUSED = "refused"  # a caller of the host's socket refused (``op``, ``pid``, ``why``)
# the option a host adds to a request that offers none that rejects, so that a person can
# always say no: answered with it, the request is cancelled (ACP's ``cancelled`` outcome)
CANCEL_OPTION = "swarm:cancel"
CANCEL_LABEL = "Cancel (it offers no option that rejects)"


def folder(home: Path) -> Path:
    """Where the hosts' files live."""
    return home / HOSTS


def stem(home: Path, agent: str) -> Path:
    """``agent``'s files without their suffix (its name made safe for a file name)."""
    return folder(home) / _SAFE.sub("_", agent)


SESSION_SUFFIX = ".session"  # beside the journal: the session its host has open


def session_path(home: Path, agent: str) -> Path:
    """The file holding the session ``agent``'s host has open (to load it again)."""
    return journal_path(home, agent).with_suffix(SESSION_SUFFIX)


def host_session(home: Path, agent: str) -> str | None:
    """The session ``agent``'s host has open, or had last; None: none known."""
    try:
        return session_path(home, agent).read_text(encoding="utf-8").strip()[:200] or None
    except (OSError, UnicodeDecodeError):
        return None


def spent_path(journal: Path) -> Path:
    """Beside a journal: its session's running total cost at the last turn's end (Claude
    Code's ``total_cost_usd``), kept whatever becomes of the journal."""
    return journal.with_suffix(".spent")


SESSION_USAGE = "session_usage"  # a turn end's field: the session's running usage as said


def used_path(journal: Path) -> Path:
    """Beside a journal: its session's running usage at the last turn's end, where the agent
    says that and not the turn's (Mistral Vibe's ACP), kept whatever becomes of the
    journal."""
    return journal.with_suffix(".used")


def socket_path(home: Path, agent: str) -> Path:
    """The Unix socket ``agent``'s host listens on."""
    return stem(home, agent).with_suffix(".sock")


def journal_path(home: Path, agent: str) -> Path:
    """The host's journal: every entry as a JSON line (the transcript, after the host)."""
    return stem(home, agent).with_suffix(".jsonl")


def encode(message: dict[str, Any]) -> bytes:
    """One message as its line (a lone surrogate, which JSON's ``\\ud800`` gives and UTF-8
    cannot hold, written as ``?``)."""
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "replace") + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    """One line as its message; ValueError when it is not a JSON object."""
    found = json.loads(line)
    if not isinstance(found, dict):
        raise ValueError("not a JSON object")
    return found
