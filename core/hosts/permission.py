"""A permission request's journal entries: the agent asks (``PermissionAsked``, with the
options it offers) and the request is settled (``PermissionDone``). The host writes them from
these (``fields``) and swarm reads them back (``read``), whatever their shape."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from core.hosts import wire
from core.hosts.fields import integer as _int
from core.hosts.fields import text as _text

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
