"""A host journal's entries as typed messages: the host writes each from its body
(``fields``: ``core.hosts.bodies``, ``core.hosts.permission``) and swarm reads every entry
once, where it enters swarm's records (``read``), into an ``Entry``: its number, time and
type, its typed body, what ``lines.bounded`` cut of it (``cut``) and the fields as written
(``raw``). Reading is total: an entry of any shape (an old host's, a hostile agent's words
in it) becomes an ``Entry``; a field of the wrong type reads as absent, never raises. Swarm's
answer to a request (``Answer``) is one of the socket's requests (``core.hosts.requests``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.hosts.bodies import (
    AgentError,
    ApiRetry,
    Cut,
    Exited,
    HostError,
    ReaderFailed,
    Ready,
    Refused,
    Session,
    Turn,
    TurnEnd,
    TurnError,
    Unreachable,
    Update,
)
from core.hosts.fields import integer, real, text
from core.hosts.permission import OPTION_ID_MAX, PermissionAsked, PermissionDone, RequestOption
from core.hosts.requests import Answer

__all__ = [
    "OPTION_ID_MAX",
    "AgentError",
    "Answer",
    "ApiRetry",
    "Body",
    "Cut",
    "Entry",
    "Exited",
    "HostError",
    "PermissionAsked",
    "PermissionDone",
    "ReaderFailed",
    "Ready",
    "Refused",
    "RequestOption",
    "Session",
    "Turn",
    "TurnEnd",
    "TurnError",
    "Unreachable",
    "Update",
    "of",
    "read",
]  # fmt: skip

Body = (
    Ready | Session | Turn | Update | PermissionAsked | PermissionDone | TurnEnd | TurnError
    | Exited | HostError | AgentError | Refused | Unreachable | ReaderFailed
)  # fmt: skip
_KINDS: tuple[type[Body], ...] = (
    Ready, Session, Turn, Update, PermissionAsked, PermissionDone, TurnEnd, TurnError, Exited,
    HostError, AgentError, Refused, Unreachable, ReaderFailed,
)  # fmt: skip
_BODIES: dict[str, type[Body]] = {kind.TYPE: kind for kind in _KINDS}


@dataclass(frozen=True)
class Entry:
    """One journal entry as swarm reads it: ``seq`` (0: none, an entry swarm made itself),
    ``at`` (epoch seconds, 0.0: none), ``type``, ``body`` (the typed fields; None for a
    type no host writes), ``cut`` (what was cut of it, None: nothing), ``host`` (the pid a
    life's first entry names) and ``raw`` (every field as written)."""

    seq: int
    at: float
    type: str
    raw: Mapping[str, Any]
    body: Body | None = None
    cut: Cut | None = None
    host: int | None = None


def read(raw: Mapping[str, Any]) -> Entry:
    """``raw`` (one journal line's object) as an ``Entry``; never raises."""
    kind = text(raw.get("type"))
    maker = _BODIES.get(kind)
    return Entry(
        seq=integer(raw.get("seq")) or 0,
        at=real(raw.get("at")) or 0.0,
        type=kind,
        raw=raw,
        body=maker.read(raw) if maker is not None else None,
        cut=Cut.read(raw.get("cut")),
        host=integer(raw.get("host")),
    )


def of(body: Body, seq: int = 0, at: float = 0.0) -> Entry:
    """An entry swarm makes itself (a host it cannot read, a retry a CLI's log said), as
    ``read`` would give it from its line."""
    return Entry(seq, at, body.TYPE, {"type": body.TYPE, **body.fields()}, body)
