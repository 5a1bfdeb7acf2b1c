"""A host journal's entries as typed messages, and swarm's answer back (``Answer``): the host
writes a permission request and its end from these (``PermissionAsked.fields``) and reads
swarm's answer as one (``Answer.read``), and swarm reads every entry once, where it
enters swarm's records (``read``), into an ``Entry``: its number, time and type, the typed
body of the kinds that have one, and the fields as written (``raw``: what the transcript
shows). Reading is total: an entry of any shape (an old host's, a hostile agent's words in
it) becomes an ``Entry``; a field of the wrong type reads as absent, never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeGuard

from core.hosts import wire

OPTION_ID_MAX = 200  # characters of an option's id: a longer one is no option (it is dropped)


@dataclass(frozen=True)
class RequestOption:
    """One of an agent's options for its request: ``id`` is what the host answers with."""

    id: str
    name: str
    kind: str = ""

    def fields(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "kind": self.kind}


@dataclass(frozen=True)
class PermissionAsked:
    """The agent asks (``permission``): ``request`` names it (``<session>#<n>``); ``tool`` is
    the tool call as the agent sent it (its ``rawInput`` is what would run); ``unread``: the
    bytes of a request too long to read (its head's fields alone are known)."""

    TYPE: ClassVar[str] = wire.PERMISSION
    request: str
    title: str = ""
    kind: str = ""
    tool: Mapping[str, Any] = field(default_factory=dict)
    options: tuple[RequestOption, ...] = ()
    delivery: int | None = None
    unread: int | None = None

    @property
    def tool_input(self) -> Any:
        """What the tool would be run with (None: the agent sent none)."""
        return self.tool.get("rawInput")

    def fields(self) -> dict[str, Any]:
        """The journal entry's fields (the host adds ``seq``, ``at`` and ``type``)."""
        return {
            "request": self.request, "delivery": self.delivery, "title": self.title,
            "kind": self.kind, "tool": dict(self.tool),
            "options": [option.fields() for option in self.options],
        }  # fmt: skip

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> PermissionAsked:
        tool = raw.get("tool")
        return cls(
            request=_text(raw.get("request")),
            title=_text(raw.get("title")),
            kind=_text(raw.get("kind")),
            tool=tool if isinstance(tool, Mapping) else {},
            options=_options(raw.get("options")),
            delivery=_int(raw.get("delivery")),
            unread=_int(raw.get("unread")),
        )


@dataclass(frozen=True)
class PermissionDone:
    """The request is settled (``permission_done``): ``option`` the id chosen (None:
    withdrawn or cancelled), with its ``name`` and ``kind`` as the agent gave them."""

    TYPE: ClassVar[str] = wire.PERMISSION_DONE
    request: str
    option: str | None = None
    name: str = ""
    kind: str = ""

    def fields(self) -> dict[str, Any]:
        """The journal entry's fields (the host adds ``seq``, ``at`` and ``type``)."""
        said = {k: v for k, v in (("name", self.name), ("kind", self.kind)) if v}
        return {"request": self.request, "option": self.option, **said}

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> PermissionDone:
        option = raw.get("option")
        return cls(
            request=_text(raw.get("request")),
            option=_text(option) if option is not None else None,
            name=_text(raw.get("name")),
            kind=_text(raw.get("kind")),
        )


@dataclass(frozen=True)
class Answer:
    """Swarm's answer to a waiting permission request, the socket's ``answer`` request: the
    option ``option`` chosen (None: cancel the request)."""

    OP: ClassVar[str] = wire.ANSWER
    request: str
    option: str | None

    def fields(self) -> dict[str, Any]:
        """The request's fields (the client adds ``op``)."""
        return {"request": self.request, "option": self.option}

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> Answer:
        option = raw.get("option")
        return cls(_text(raw.get("request")), _text(option) if option is not None else None)


Body = PermissionAsked | PermissionDone
_BODIES: dict[str, type[PermissionAsked] | type[PermissionDone]] = {
    PermissionAsked.TYPE: PermissionAsked,
    PermissionDone.TYPE: PermissionDone,
}


@dataclass(frozen=True)
class Entry:
    """One journal entry as swarm reads it: ``seq`` (0: none, an entry swarm made itself),
    ``at`` (epoch seconds, 0.0: none), ``type``, ``body`` (the typed fields of the kinds
    that have them, None for the others) and ``raw`` (every field as written)."""

    seq: int
    at: float
    type: str
    raw: Mapping[str, Any]
    body: Body | None = None


def read(raw: Mapping[str, Any]) -> Entry:
    """``raw`` (one journal line's object) as an ``Entry``; never raises."""
    kind = _text(raw.get("type"))
    maker = _BODIES.get(kind)
    at = raw.get("at")
    return Entry(
        seq=_int(raw.get("seq")) or 0,
        at=float(at) if _number(at) else 0.0,
        type=kind,
        raw=raw,
        body=maker.read(raw) if maker is not None else None,
    )


def _options(given: Any) -> tuple[RequestOption, ...]:
    """A request's options swarm can answer: objects with an id within ``OPTION_ID_MAX``."""
    if not isinstance(given, list | tuple):
        return ()
    found = []
    for option in given:
        if not isinstance(option, Mapping) or not option.get("id"):
            continue
        key = _text(option["id"])
        if key and len(key) <= OPTION_ID_MAX:
            found.append(RequestOption(key, _text(option.get("name")) or key,
                                       _text(option.get("kind"))))  # fmt: skip
    return tuple(found)


def _text(value: Any) -> str:
    """A field as text: a string as it is, a number in digits, anything else empty."""
    if isinstance(value, str):
        return value
    if _number(value):
        return str(value)
    return ""


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return int(value)
    except (ValueError, OverflowError):
        return None


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value
