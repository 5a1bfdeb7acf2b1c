"""A host journal's entries as typed messages: one ``Entry`` (its number, time and type, its
typed body, what ``lines.bounded`` cut of it, the host a life's first entry names), its body
one of a discriminated union on ``type`` (``Body``: ``core.hosts.bodies``,
``core.hosts.permission``), read and written by one ``TypeAdapter`` (``ENTRY``): the host
writes each entry as ``line`` gives it, swarm reads each once, where it enters swarm's
records (``read``). Reading is total: an entry of any shape (an old host's, a hostile
agent's words in it) becomes an ``Entry``; a field of the wrong type reads as absent, a type
no host writes as no body; it never raises. Swarm's answer to a request (``Answer``) is one
of the socket's requests (``core.hosts.requests``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import (
    Discriminator,
    SerializerFunctionWrapHandler,
    Tag,
    TypeAdapter,
    ValidationInfo,
    model_serializer,
    model_validator,
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
from core.hosts.model import LINE, Message, from_line
from core.hosts.permission import OPTION_ID_MAX, PermissionAsked, PermissionDone, RequestOption
from core.hosts.requests import Answer

__all__ = [
    "ENTRY",
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


class Entry(Message):
    """One journal entry as swarm reads it: ``seq`` (0: none, an entry swarm made itself),
    ``at`` (epoch seconds, 0.0: none), ``type``, ``body`` (the typed fields; None for a
    type no host writes), ``host`` (the pid a life's first entry names) and ``cut`` (what
    was cut of it, None: nothing)."""

    seq: int = 0
    at: float = 0.0
    type: str = ""
    body: Tagged | None = None
    host: int | None = None
    cut: Cut | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_line(cls, raw: Any, info: ValidationInfo) -> Any:
        """A line's flat object: its own fields, and the whole of it as its body's."""
        if not from_line(info):
            return raw
        if not isinstance(raw, Mapping):
            return {}
        kind, cut = text(raw.get("type")), raw.get("cut")
        return {"seq": count(raw.get("seq")), "at": real(raw.get("at")) or 0.0, "type": kind,
                "body": raw if kind in _TYPES else None, "host": integer(raw.get("host")),
                "cut": cut if isinstance(cut, Mapping) else None}  # fmt: skip

    @model_serializer(mode="wrap")
    def _flat(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The line's flat object: number, time, type, the body's fields, then the host
        and what was cut, where said."""
        found: dict[str, Any] = handler(self)
        body = found.pop("body", None) or {}
        host, cut = found.pop("host", None), found.pop("cut", None)
        own = {key: value for key, value in body.items() if key not in _HEADER}
        return {**found, **own, **({"host": host} if host is not None else {}),
                **({"cut": cut} if cut is not None else {})}  # fmt: skip


ENTRY: TypeAdapter[Entry] = TypeAdapter(Entry)


def read(raw: Any) -> Entry:
    """``raw`` (one journal line's object) as an ``Entry``; never raises."""
    try:
        return ENTRY.validate_python(raw, context=LINE)
    except Exception as exc:  # none known: every field reads total; said, never raised
        log.warning("a journal entry swarm could not read (%s)", type(exc).__name__)
        kind = text(raw.get("type")) if isinstance(raw, Mapping) else ""
        return Entry(type=kind)


def line(entry: Entry) -> dict[str, Any]:
    """``entry`` as its line's object (``core.hosts.wire.encode`` writes it)."""
    found: dict[str, Any] = ENTRY.dump_python(entry, mode="json")
    return found


def of(body: Body, seq: int = 0, at: float = 0.0, host: int | None = None) -> Entry:
    """An entry of ``body`` (the host's, numbered; or one swarm makes itself, for a host it
    cannot read or a retry a CLI's log said), as ``read`` would give it from its line."""
    return Entry(seq=seq, at=at, type=body.TYPE, body=body, host=host)
