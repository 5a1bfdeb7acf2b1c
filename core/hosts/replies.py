"""The host socket's replies as typed messages: each request's answer (``Done`` or one of its
kinds) or its refusal (``Failed``), a union on ``ok`` read by one ``TypeAdapter`` per
request (``reply``: the client knows what it asked). Reading is total: a reply of any shape
(an older host's, a host gone wrong) is one of them, a field of the wrong type read as
absent, anything whose ``ok`` is not true a ``Failed``."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Literal, TypeVar, Union

from pydantic import Discriminator, Field, PlainValidator, Tag, TypeAdapter

from core.hosts.fields import Count, OptionalText, Text, Truthy, Whole
from core.hosts.model import Message, empty


class Failed(Message):
    """The host did not do what was asked: ``reason`` in one line; ``busy``: a turn runs
    (ask again after it), ``gone``: its agent is gone, ``refused``: the caller may not ask."""

    ok: Annotated[Literal[False], PlainValidator(lambda _said: False)] = False
    reason: Text = ""
    busy: Truthy = Field(default=False, exclude_if=empty)
    gone: Truthy = Field(default=False, exclude_if=empty)
    refused: Truthy = Field(default=False, exclude_if=empty)


class Done(Message):
    """The host did what was asked."""

    ok: Literal[True] = True


class HostHello(Done):
    """Who and where the host is (``hello``): its ``agent``, its own ``pid`` and its agent's,
    the session open, whether a turn runs (``busy``) and its ``delivery``, its journal's last
    entry (``seq``) and swarm's acknowledgement (``acked``), the agent's ``exit_code`` once
    it exited."""

    agent: Text = ""
    pid: Whole = None
    agent_pid: Whole = None
    session: OptionalText = None
    busy: Truthy = False
    delivery: Whole = None
    seq: Count = 0
    acked: Count = 0
    exit_code: Whole = None


class Taken(Done):
    """A prompt the agent accepted (``prompt``): the ``updates`` of its turn so far, whether
    the turn ``ended`` already; ``again``: a delivery taken before (not sent twice)."""

    updates: Count = 0
    ended: Truthy = False
    again: Truthy = Field(default=False, exclude_if=empty)


class Cancelled(Done):
    """A cancel (``cancel``): whether a turn was ``running``; ``by_host``: its agent did not
    answer the cancel in time, and its host ended the turn."""

    running: Truthy = False
    by_host: Truthy = Field(default=False, exclude_if=empty)


class Opened(Done):
    """A new session (``new_session``): the ``session`` now open."""

    session: OptionalText = None


Reply = Done | Failed
D = TypeVar("D", bound=Done)


def _ok(value: Any) -> str:
    """A reply's tag: done only where its ``ok`` is true."""
    said = value.get("ok") if isinstance(value, Mapping) else getattr(value, "ok", None)
    return "done" if said is True else "failed"


@cache
def reply(kind: type[D]) -> TypeAdapter[D | Failed]:
    """The adapter that reads a reply to a request ``kind`` answers."""
    tagged = Annotated[
        Union[Annotated[kind, Tag("done")], Annotated[Failed, Tag("failed")]],  # type: ignore[valid-type]  # noqa: UP007
        Discriminator(_ok),
    ]
    return TypeAdapter(tagged)


def read(kind: type[D], raw: Any) -> D | Failed:
    """``raw`` (one reply line's object) as a reply to a request ``kind`` answers; a reply
    that is no object a ``Failed`` saying so (never raises)."""
    if not isinstance(raw, Mapping):
        return Failed(reason="the host's answer is no object")
    try:
        return reply(kind).validate_python(raw)
    except Exception as exc:  # none known: every field reads total
        return Failed(reason=f"the host's answer could not be read: {type(exc).__name__}")
