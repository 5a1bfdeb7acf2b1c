"""A permission request's journal entries: the agent asks (``PermissionAsked``, with the
options it offers) and the request is settled (``PermissionDone``). The host writes them and
swarm reads them back, whatever their shape, by the same models (``core.hosts.model``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, PlainValidator

from core.hosts import wire
from core.hosts.fields import MaybeText, Text, Whole, text
from core.hosts.model import Message, absent, empty
from core.models import REJECT_ONCE

OPTION_ID_MAX = 200  # characters of an option's id: a longer one is no option (it is dropped)


class RequestOption(Message):
    """One of an agent's options for its request: ``id`` is what the host answers with."""

    id: Text
    name: Text = ""
    kind: Text = ""


def answerable(given: Any) -> list[Mapping[str, Any]]:
    """A request's options swarm can answer: objects with an id within ``OPTION_ID_MAX``
    (a number's id in words), each named (by its id where it has no name)."""
    if not isinstance(given, list | tuple):
        return []
    found: list[Mapping[str, Any]] = []
    for option in given:
        if isinstance(option, RequestOption):
            option = option.model_dump()
        if not isinstance(option, Mapping) or not option.get("id"):
            continue
        key = text(option["id"])
        if key and len(key) <= OPTION_ID_MAX:
            found.append({"id": key, "name": text(option.get("name")) or key,
                          "kind": text(option.get("kind"))})  # fmt: skip
    return found


Options = Annotated[tuple[RequestOption, ...], BeforeValidator(answerable)]


def options_of(given: Any) -> tuple[RequestOption, ...]:
    """``given`` (a driver's options, or a line's) as the options swarm can answer."""
    return tuple(RequestOption.model_validate(option) for option in answerable(given))


Tool = Annotated[Mapping[str, Any], PlainValidator(lambda v: v if isinstance(v, Mapping) else {})]


class PermissionAsked(Message):
    """The agent asks (``permission``): ``request`` names it (``<session>#<n>``); ``tool`` is
    the tool call as the agent sent it (its ``rawInput`` is what would run); ``unread``: the
    bytes of a request too long to read (its head's fields alone are known)."""

    TYPE: ClassVar[str] = wire.PERMISSION
    request: Text = ""
    delivery: Whole = None
    title: Text = ""
    kind: Text = ""
    tool: Tool = Field(default_factory=dict)
    options: Options = ()
    unread: Whole = Field(default=None, exclude_if=absent)

    @property
    def tool_input(self) -> Any:
        """What the tool would be run with (None: the agent sent none)."""
        return self.tool.get("rawInput")

    @property
    def tool_call_id(self) -> str:
        """The id of the tool call the request gates, as announced ("": none named)."""
        said = self.tool.get("toolCallId")
        return said if isinstance(said, str) else ""


class PermissionDone(Message):
    """The request is settled (``permission_done``): ``option`` the id chosen (None:
    withdrawn or cancelled), with its ``name`` and ``kind`` as the agent gave them."""

    TYPE: ClassVar[str] = wire.PERMISSION_DONE
    request: Text = ""
    option: MaybeText = None
    name: Text = Field(default="", exclude_if=empty)
    kind: Text = Field(default="", exclude_if=empty)


def with_a_no(options: Sequence[RequestOption]) -> tuple[RequestOption, ...]:
    """``options`` with :data:`core.hosts.wire.CANCEL_OPTION` added when none of them
    rejects (so that a person can always say no)."""
    if any(option.kind.startswith("reject") for option in options):
        return tuple(options)
    no = RequestOption(id=wire.CANCEL_OPTION, name=wire.CANCEL_LABEL, kind=REJECT_ONCE)
    return (*options, no)
