"""The host socket's requests as typed messages (``core.hosts.wire``: one JSON object a line,
its ``op`` naming it), a discriminated union on ``op`` read and written by one
``TypeAdapter`` (``REQUEST``): swarm's side writes each (``line``), the host reads each line
once (``parse``) into one of them, or the one line why it is none."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, PlainValidator, StrictStr, TypeAdapter, ValidationError

from core.hosts.fields import MaybeText, Needed, Text, integer
from core.hosts.model import Message


class Hello(Message):
    """Who and where the host is."""

    op: Literal["hello"] = "hello"


class Prompt(Message):
    """A prompt for the agent, its delivery's id (sent once whatever the retries)."""

    op: Literal["prompt"] = "prompt"
    delivery: Needed = Field(default=None, validate_default=True)
    text: StrictStr


class Answer(Message):
    """Swarm's answer to a waiting permission request, the socket's ``answer`` request: the
    option ``option`` chosen (None: cancel the request)."""

    op: Literal["answer"] = "answer"
    request: Text = ""
    option: MaybeText = None


class Cancel(Message):
    """Stop the running turn."""

    op: Literal["cancel"] = "cancel"


class NewSession(Message):
    """A new session (the agent's context cleared)."""

    op: Literal["new_session"] = "new_session"


def _after(value: Any) -> int:
    """``after``: none is 0; anything else a number."""
    if value is None:
        return 0
    found = integer(value)
    if found is None:
        raise ValueError("is no number")
    return found


class Events(Message):
    """The journal's entries after ``after``, then live ones (the connection a stream)."""

    op: Literal["events"] = "events"
    after: Annotated[int, PlainValidator(_after)] = 0


class Ack(Message):
    """Swarm has the journal's entries up to ``seq``."""

    op: Literal["ack"] = "ack"
    seq: Needed = Field(default=None, validate_default=True)


class Stop(Message):
    """End the agent and the host."""

    op: Literal["stop"] = "stop"


Request = Hello | Prompt | Answer | Cancel | NewSession | Events | Ack | Stop
REQUEST: TypeAdapter[Request] = TypeAdapter(
    Annotated[Request, Field(discriminator="op")], config=ConfigDict(defer_build=True)
)


def parse(raw: Any) -> Request | str:
    """``raw`` (one request line's object) as its request, or why it is none, in one line."""
    try:
        return REQUEST.validate_python(raw)
    except ValidationError as exc:
        return _why(raw, exc)


def op_of(raw: Any) -> str | None:
    """The ``op`` a request's line names, whatever else it holds (None: none in words)."""
    op = raw.get("op") if isinstance(raw, dict) else None
    return op if isinstance(op, str) else None


def line(request: Request) -> dict[str, Any]:
    """``request`` as its line's object (``op`` first)."""
    found: dict[str, Any] = REQUEST.dump_python(request, mode="json")
    return found


def _why(raw: Any, exc: ValidationError) -> str:
    """What is wrong with a request, in one line: its op unknown, or its first bad field."""
    op = raw.get("op") if isinstance(raw, dict) else None
    error = exc.errors()[0] if exc.errors() else None
    if error is None or error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return f"unknown op {_shown(op)}"
    where = ".".join(str(part) for part in error["loc"][1:]) or "it"
    said = " ".join(str(error["msg"]).removeprefix("Value error, ").split())
    return f"bad {_shown(op)} request: {_shown(where)} {said}"[:200]


def _shown(value: Any) -> str:
    said = value if isinstance(value, str) else repr(value)
    said = " ".join(said.split())
    return said if len(said) <= 60 else said[:59] + "…"
