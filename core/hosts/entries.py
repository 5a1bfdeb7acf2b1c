"""A host journal's entries as typed messages: one ``Entry`` (its number, time and type, its
typed body, what ``lines.bounded`` cut of it, the host a life's first entry names), its body
one of a discriminated union on ``type`` (``Body``: ``core.hosts.bodies``,
``core.hosts.permission``), read and written by one ``TypeAdapter`` (``BODY``): the host
writes each entry as ``line`` gives it, swarm reads each once, where it enters swarm's
records (``read``). Reading is total: an entry of any shape (an old host's, a hostile
agent's words in it) becomes an ``Entry``; a field of the wrong type reads as absent, a type
no host writes as no body; it never raises. Swarm's answer to a request (``Answer``) is one
of the socket's requests (``core.hosts.requests``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import (
    ConfigDict,
    Discriminator,
    Tag,
    TypeAdapter,
)

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
from core.hosts.fields import count, integer, real, text
from core.hosts.model import LINE
from core.hosts.permission import OPTION_ID_MAX, PermissionAsked, PermissionDone, RequestOption
from core.hosts.requests import Answer

__all__ = [
    "BODY",
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
    "line",
    "of",
    "read",
]  # fmt: skip

log = logging.getLogger(__name__)
Body = (
    Ready | Session | Turn | Update | PermissionAsked | PermissionDone | TurnEnd | TurnError
    | Exited | HostError | AgentError | Refused | Unreachable | ReaderFailed
)  # fmt: skip
KINDS: tuple[type[Body], ...] = (
    Ready, Session, Turn, Update, PermissionAsked, PermissionDone, TurnEnd, TurnError, Exited,
    HostError, AgentError, Refused, Unreachable, ReaderFailed,
)  # fmt: skip
_TYPES = frozenset(kind.TYPE for kind in KINDS)
_HEADER = frozenset({"seq", "at", "type", "host", "cut"})  # an entry's own: no body's word


def _kind(value: Any) -> str | None:
    """A body's tag: its line's ``type``, or the type of the body it is."""
    if isinstance(value, Mapping):
        return text(value.get("type"))
    return getattr(value, "TYPE", None)


if TYPE_CHECKING:
    Tagged = Body
else:  # the union as pydantic reads it: each body tagged by its type
    Tagged = Annotated[
        Union[tuple(Annotated[kind, Tag(kind.TYPE)] for kind in KINDS)],  # noqa: UP007
        Discriminator(_kind),
    ]


BODY: TypeAdapter[Body] = TypeAdapter(
    Tagged, config=ConfigDict(ser_json_inf_nan="constants", defer_build=True)
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One journal entry as swarm reads it: ``seq`` (0: none, an entry swarm made itself),
    ``at`` (epoch seconds, 0.0: none), ``type``, ``body`` (the typed fields, read by
    ``BODY``; None for a type no host writes), ``host`` (the pid a life's first entry names)
    and ``cut`` (what was cut of it, None: nothing)."""

    seq: int = 0
    at: float = 0.0
    type: str = ""
    body: Body | None = None
    host: int | None = None
    cut: Cut | None = None


def read(raw: Any) -> Entry:
    """``raw`` (one journal line's object) as an ``Entry``, its body read by ``BODY``;
    never raises."""
    if not isinstance(raw, Mapping):
        return Entry()
    kind, cut = text(raw.get("type")), raw.get("cut")
    try:
        body = BODY.validate_python(raw, context=LINE) if kind in _TYPES else None
    except Exception as exc:  # none known: every field reads total; said, never raised
        log.warning("a journal entry swarm could not read (%s)", type(exc).__name__)
        body = None
    said_cut = _cut(cut) if isinstance(cut, Mapping) else None
    seq, at, host = count(raw.get("seq")), real(raw.get("at")) or 0.0, integer(raw.get("host"))
    return Entry(seq, at, kind, body, host, said_cut)


def _cut(said: Mapping[str, Any]) -> Cut | None:
    try:
        return Cut.model_validate(said)
    except Exception:  # none known (its fields read total)
        return None


def line(entry: Entry) -> dict[str, Any]:
    """``entry`` as its line's object (``core.hosts.wire.encode`` writes it): number, time,
    type, its body's fields (written by ``BODY``; none stands for the entry's own), then
    the host and what was cut, where said."""
    body = {} if entry.body is None else BODY.dump_python(entry.body, mode="json")
    own = {key: value for key, value in body.items() if key not in _HEADER}
    host = {} if entry.host is None else {"host": entry.host}
    cut = {} if entry.cut is None else {"cut": entry.cut.model_dump(mode="json")}
    return {"seq": entry.seq, "at": entry.at, "type": entry.type, **own, **host, **cut}


def of(body: Body, seq: int = 0, at: float = 0.0, host: int | None = None) -> Entry:
    """An entry of ``body`` (the host's, numbered; or one swarm makes itself, for a host it
    cannot read or a retry a CLI's log said), as ``read`` would give it from its line."""
    return Entry(seq, at, body.TYPE, body, host)
