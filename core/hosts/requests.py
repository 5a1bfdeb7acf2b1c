"""The host socket's requests as typed messages (``core.hosts.wire``: one JSON object a line,
its ``op`` naming it): swarm's side sends their ``fields``, the host reads each line once
(``parse``) into one of them, or the one line why it is none."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from core.hosts import wire
from core.hosts.fields import integer, text


@dataclass(frozen=True)
class Hello:
    """Who and where the host is."""

    OP: ClassVar[str] = wire.HELLO


@dataclass(frozen=True)
class Prompt:
    """A prompt for the agent, its delivery's id (sent once whatever the retries)."""

    OP: ClassVar[str] = wire.PROMPT
    delivery: int
    text: str

    def fields(self) -> dict[str, Any]:
        return {"delivery": self.delivery, "text": self.text}


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
        return cls(text(raw.get("request")), text(option) if option is not None else None)


@dataclass(frozen=True)
class Cancel:
    """Stop the running turn."""

    OP: ClassVar[str] = wire.CANCEL


@dataclass(frozen=True)
class NewSession:
    """A new session (the agent's context cleared)."""

    OP: ClassVar[str] = wire.NEW_SESSION


@dataclass(frozen=True)
class Events:
    """The journal's entries after ``after``, then live ones (the connection a stream)."""

    OP: ClassVar[str] = wire.EVENTS
    after: int = 0


@dataclass(frozen=True)
class Ack:
    """Swarm has the journal's entries up to ``seq``."""

    OP: ClassVar[str] = wire.ACK
    seq: int


@dataclass(frozen=True)
class Stop:
    """End the agent and the host."""

    OP: ClassVar[str] = wire.STOP


Request = Hello | Prompt | Answer | Cancel | NewSession | Events | Ack | Stop
_BARE: dict[str, Request] = {
    wire.HELLO: Hello(), wire.CANCEL: Cancel(), wire.NEW_SESSION: NewSession(),
    wire.STOP: Stop(),
}  # fmt: skip


def parse(raw: Mapping[str, Any]) -> Request | str:
    """``raw`` (one request line's object) as its request, or why it is none, in one line."""
    op = raw.get("op")
    if isinstance(op, str) and op in _BARE:
        return _BARE[op]
    if op == wire.PROMPT:
        delivery, said = integer(raw.get("delivery")), raw.get("text")
        if delivery is None or not isinstance(said, str):
            return "bad prompt request: it needs a delivery (a number) and a text (a string)"
        return Prompt(delivery, said)
    if op == wire.ANSWER:
        return Answer.read(raw)
    if op == wire.EVENTS:
        after = raw.get("after")
        found = integer(after) if after is not None else 0
        return "bad events request: after is no number" if found is None else Events(found)
    if op == wire.ACK:
        seq = integer(raw.get("seq"))
        return "bad ack request: seq is no number" if seq is None else Ack(seq)
    return f"unknown op {_shown(op)}"


def _shown(op: Any) -> str:
    said = repr(op)
    return said if len(said) <= 60 else said[:59] + "…"
