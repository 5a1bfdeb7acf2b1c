"""The journal entries of a host's life but its permission requests (``permission``): each a
frozen body the host writes from (``fields``: the entry's fields in the order they are
written, the host adding ``seq``, ``at`` and ``type``) and swarm reads back (``read``: total,
a field of the wrong type read as absent). The entries swarm makes itself, for a host it
cannot read (``Unreachable``, ``ReaderFailed``), are here too."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from core.hosts import wire
from core.hosts.fields import integer, mapping, number, optional_text, real, text
from core.hosts.turns import TOTAL_COST

# an update's fields that are not its words (the rest are: the agent's, as the driver said)
_NOT_WORDS = frozenset({"seq", "at", "type", "session", "kind", "outside", "host", "cut",
                        "unread"})  # fmt: skip


@dataclass(frozen=True)
class Ready:
    """The agent's session is open (``ready``): its ``pid``; ``lost``: the saved session
    the open one replaced (not loaded)."""

    TYPE: ClassVar[str] = wire.READY
    session: str | None
    pid: int | None = None
    lost: str = ""

    def fields(self) -> dict[str, Any]:
        return {"session": self.session, "pid": self.pid, **_lost(self.lost)}

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> Ready:
        return cls(optional_text(raw.get("session")), integer(raw.get("pid")),
                   text(raw.get("lost")))  # fmt: skip


@dataclass(frozen=True)
class Session:
    """A session opened (``session``): ``loaded`` again, or new (``lost``: the saved one it
    replaced)."""

    TYPE: ClassVar[str] = wire.SESSION
    session: str
    loaded: bool = False
    lost: str = ""

    def fields(self) -> dict[str, Any]:
        return {"session": self.session, "loaded": self.loaded, **_lost(self.lost)}

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> Session:
        return cls(text(raw.get("session")), raw.get("loaded") is True, text(raw.get("lost")))


@dataclass(frozen=True)
class Turn:
    """A prompt sent (``turn``): its ``delivery``, its size and its text."""

    TYPE: ClassVar[str] = wire.TURN
    delivery: int | None
    text: str
    chars: int = 0

    def fields(self) -> dict[str, Any]:
        return {"delivery": self.delivery, "chars": self.chars, "text": self.text}

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> Turn:
        return cls(integer(raw.get("delivery")), text(raw.get("text")),
                   integer(raw.get("chars")) or 0)  # fmt: skip


@dataclass(frozen=True)
class ApiRetry:
    """An ``api_retry`` update's figures, those said: the API's status and error, the
    attempt of how many, the wait before it (ms)."""

    status: int | None = None
    error: str = ""
    attempt: int | None = None
    max_retries: int | None = None
    delay_ms: float | None = None
    counted: bool = False  # whether it says its attempt or their number


@dataclass(frozen=True)
class Update:
    """One update of the agent's (``update``): its ``kind`` and ``words`` (the driver's
    fields, written as given); ``outside``: none of a turn's (a loaded session's history).
    The words most read are typed properties."""

    TYPE: ClassVar[str] = wire.UPDATE
    kind: str
    session: str | None = None
    words: Mapping[str, Any] = field(default_factory=dict)
    outside: bool = False

    def fields(self) -> dict[str, Any]:
        said = {"outside": True} if self.outside else {}
        return {"session": self.session, "kind": self.kind, **self.words, **said}

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> Update:
        words = {key: value for key, value in raw.items() if key not in _NOT_WORDS}
        return cls(text(raw.get("kind")), optional_text(raw.get("session")), words,
                   bool(raw.get("outside")))  # fmt: skip

    @property
    def text(self) -> str:
        return text(self.words.get("text"))

    @property
    def title(self) -> str:
        return text(self.words.get("title"))

    @property
    def status(self) -> str:
        return text(self.words.get("status"))

    @property
    def tool_call_id(self) -> str:
        return text(self.words.get("tool_call_id"))

    @property
    def plan(self) -> tuple[str, ...]:
        """A plan's steps, each in words."""
        steps = self.words.get("plan")
        return tuple(str(step) for step in steps) if isinstance(steps, list | tuple) else ()

    @property
    def retry(self) -> ApiRetry:
        """The words of an ``api_retry`` update."""
        words = self.words
        error = words.get("error")
        return ApiRetry(
            status=_whole(words.get("error_status")),
            error=text(error) if error is not None else "",
            attempt=_whole(words.get("attempt")),
            max_retries=_whole(words.get("max_retries")),
            delay_ms=real(words.get("retry_delay_ms")),
            counted="attempt" in words or "max_retries" in words,
        )


@dataclass(frozen=True)
class TurnEnd:
    """A prompt's end (``turn_end``): the agent's ``stop_reason``, the turn's own ``usage``
    and ``cost_usd`` where it says them, its ``meta`` as given; ``session_usage``: the
    session's running usage as the agent said it (where it says that, not the turn's)."""

    TYPE: ClassVar[str] = wire.TURN_END
    delivery: int | None
    stop_reason: str
    usage: Mapping[str, Any] | None = None
    cost_usd: float | None = None
    meta: Any = None
    session_usage: Mapping[str, Any] | None = None

    def fields(self) -> dict[str, Any]:
        so_far = {} if self.session_usage is None else {wire.SESSION_USAGE: self.session_usage}
        return {
            "delivery": self.delivery, "stop_reason": self.stop_reason, "usage": self.usage,
            "cost_usd": self.cost_usd, "meta": self.meta, **so_far,
        }  # fmt: skip

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> TurnEnd:
        return cls(
            integer(raw.get("delivery")), text(raw.get("stop_reason")),
            mapping(raw.get("usage")), real(raw.get("cost_usd")), raw.get("meta"),
            mapping(raw.get(wire.SESSION_USAGE)),
        )  # fmt: skip

    @property
    def model(self) -> str | None:
        """The model its meta names (None: none)."""
        said = self.meta.get("model") if isinstance(self.meta, Mapping) else None
        return said[:200] if isinstance(said, str) else None

    @property
    def total_cost(self) -> float | None:
        """Its session's running total cost, where its meta says it (Claude Code's)."""
        return real(self.meta.get(TOTAL_COST)) if isinstance(self.meta, Mapping) else None


@dataclass(frozen=True)
class TurnError:
    """A prompt the agent answered with an error (``turn_error``): its ``code``,
    ``message`` and ``data``; ``has_data``: whether the agent's error had data at all (a
    connection that broke has none, and its entry no ``data`` field)."""

    TYPE: ClassVar[str] = wire.TURN_ERROR
    delivery: int | None
    message: str
    code: int | None = None
    data: Any = None
    has_data: bool = True

    def fields(self) -> dict[str, Any]:
        said = {"data": self.data} if self.has_data else {}
        return {"delivery": self.delivery, "code": self.code, "message": self.message, **said}

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> TurnError:
        return cls(integer(raw.get("delivery")), text(raw.get("message")),
                   integer(raw.get("code")), raw.get("data"), "data" in raw)  # fmt: skip

    @property
    def said(self) -> str:
        """Its words: the error's own message where the protocol's is a generic one
        (codex-acp: "Internal error", its data saying "exceeded retry limit, last status:
        429")."""
        inner = self.data.get("message") if isinstance(self.data, Mapping) else None
        generic = self.message.strip().lower() in ("", "internal error")
        return inner if generic and isinstance(inner, str) and inner.strip() else self.message


@dataclass(frozen=True)
class Exited:
    """The agent process ended (``exited``) with its exit ``code``."""

    TYPE: ClassVar[str] = wire.EXITED
    code: int | None

    def fields(self) -> dict[str, Any]:
        return {"code": self.code}

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> Exited:
        return cls(integer(raw.get("code")))


@dataclass(frozen=True)
class HostError:
    """The host failed (``host_error``): the agent did not start, or its output closed."""

    TYPE: ClassVar[str] = wire.HOST_ERROR
    message: str

    def fields(self) -> dict[str, Any]:
        return {"message": self.message}

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> HostError:
        return cls(text(raw.get("message")))


@dataclass(frozen=True)
class AgentError:
    """The agent wrote what its protocol cannot take (``agent_error``): the last such thing
    in words, and how many ``lines`` since the last said."""

    TYPE: ClassVar[str] = wire.AGENT_ERROR
    message: str
    lines: int = 1

    def fields(self) -> dict[str, Any]:
        return {"message": self.message, "lines": self.lines}

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> AgentError:
        return cls(text(raw.get("message")), integer(raw.get("lines")) or 0)


@dataclass(frozen=True)
class Refused:
    """A caller the host's socket refused (``refused``): the ``op`` it asked (None: none
    read), its ``pid``, ``why``, and how many ``times`` since the last said."""

    TYPE: ClassVar[str] = wire.REFUSED
    op: str | None
    pid: int | None
    why: str
    times: int = 1

    def fields(self) -> dict[str, Any]:
        return {"op": self.op, "pid": self.pid, "why": self.why, "times": self.times}

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> Refused:
        return cls(optional_text(raw.get("op")), integer(raw.get("pid")),
                   text(raw.get("why")), integer(raw.get("times")) or 1)  # fmt: skip


@dataclass(frozen=True)
class Unreachable:
    """Swarm's own entry: the watcher could not reach the host (``gone``: none runs)."""

    TYPE: ClassVar[str] = "unreachable"
    message: str
    gone: bool = False

    def fields(self) -> dict[str, Any]:
        return {"message": self.message, **({"gone": True} if self.gone else {})}

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> Unreachable:
        return cls(text(raw.get("message")), bool(raw.get("gone")))


@dataclass(frozen=True)
class ReaderFailed:
    """Swarm's own entry: its reader of the host's journal failed (or one entry of it)."""

    TYPE: ClassVar[str] = "reader_failed"
    message: str

    def fields(self) -> dict[str, Any]:
        return {"message": self.message}

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> ReaderFailed:
        return cls(text(raw.get("message")))


@dataclass(frozen=True)
class Cut:
    """What ``core.hosts.lines.bounded`` said of an entry it cut: its size before
    (``bytes``) and the fields it ``dropped`` whole."""

    bytes: int
    dropped: tuple[str, ...] = ()

    def fields(self) -> dict[str, Any]:
        return {"bytes": self.bytes, **({"dropped": list(self.dropped)} if self.dropped else {})}

    @classmethod
    def read(cls, raw: Any) -> Cut | None:
        if not isinstance(raw, Mapping):
            return None
        dropped = raw.get("dropped")
        names = tuple(text(n) for n in dropped) if isinstance(dropped, list) else ()
        return cls(integer(raw.get("bytes")) or 0, names)


def _lost(lost: str) -> dict[str, str]:
    return {"lost": lost} if lost else {}


def _whole(value: Any) -> int | None:
    """A count or a status said as a number (a string of digits is none)."""
    return integer(value) if number(value) else None
