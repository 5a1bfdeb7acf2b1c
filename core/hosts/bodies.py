"""The journal entries of a host's life but its permission requests (``permission``): each a
frozen pydantic model (``core.hosts.model``) the host writes (``model_dump``: its fields in
the order they are written, the host adding ``seq``, ``at`` and ``type``) and swarm reads
back, total (``core.hosts.entries``: a field of the wrong type read as absent). The entries
swarm makes itself, for a host it cannot read (``Unreachable``, ``ReaderFailed``), are here
too."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import (
    BeforeValidator,
    Field,
    PlainValidator,
    SerializerFunctionWrapHandler,
    SkipValidation,
    ValidationInfo,
    model_serializer,
    model_validator,
)

from core.hosts import wire
from core.hosts.fields import (
    Count,
    Object,
    OptionalText,
    Real,
    Said,
    Text,
    Truthy,
    Whole,
    integer,
    real,
    text,
    whole,
)
from core.hosts.model import Message, absent, empty, from_line
from core.hosts.turns import TOTAL_COST

# an update's fields that are not its words (the rest are: the agent's, as the driver said)
_NOT_WORDS = frozenset({"seq", "at", "type", "session", "kind", "outside", "host", "cut",
                        "unread"})  # fmt: skip


OUTPUT_MAX = 2000  # characters of a tool call's output a driver journals (its head)


class Ready(Message):
    """The agent's session is open (``ready``): its ``pid``; ``lost``: the saved session
    the open one replaced (not loaded)."""

    TYPE: ClassVar[str] = wire.READY
    session: OptionalText = None
    pid: Whole = None
    lost: Text = Field(default="", exclude_if=empty)


class Session(Message):
    """A session opened (``session``): ``loaded`` again, or new (``lost``: the saved one it
    replaced)."""

    TYPE: ClassVar[str] = wire.SESSION
    session: Text = ""
    loaded: Said = False
    lost: Text = Field(default="", exclude_if=empty)


class Turn(Message):
    """A prompt sent (``turn``): its ``delivery``, its size and its text."""

    TYPE: ClassVar[str] = wire.TURN
    delivery: Whole = None
    chars: Count = 0
    text: Text = ""


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


class Update(Message):
    """One update of the agent's (``update``): its ``kind`` and ``words`` (the driver's
    fields, written as given, on the line beside its own); ``outside``: none of a turn's (a
    loaded session's history). The words most read are typed properties."""

    TYPE: ClassVar[str] = wire.UPDATE
    session: OptionalText = None
    kind: Text = ""
    words: Annotated[Mapping[str, Any], SkipValidation] = Field(default_factory=dict)
    outside: Truthy = False

    @model_validator(mode="before")
    @classmethod
    def _words_apart(cls, raw: Any, info: ValidationInfo) -> Any:
        """On a line, the fields that are not the update's own are its words."""
        if not from_line(info) or not isinstance(raw, Mapping):
            return raw
        words = {key: value for key, value in raw.items() if key not in _NOT_WORDS}
        return {**raw, "words": words}

    @model_serializer(mode="wrap")
    def _words_beside(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The words written beside the update's own fields (``outside`` only when so)."""
        said = {"outside": True} if self.outside else {}
        return {"session": self.session, "kind": self.kind, **self.words, **said}

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
    def output(self) -> str:
        """A tool call's output as its driver gave it (its head: ``OUTPUT_MAX`` at most)."""
        return text(self.words.get("output"))[:OUTPUT_MAX]

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
            status=whole(words.get("error_status")),
            error=text(error) if error is not None else "",
            attempt=whole(words.get("attempt")),
            max_retries=whole(words.get("max_retries")),
            delay_ms=real(words.get("retry_delay_ms")),
            counted="attempt" in words or "max_retries" in words,
        )


class TurnEnd(Message):
    """A prompt's end (``turn_end``): the agent's ``stop_reason``, the turn's own ``usage``
    and ``cost_usd`` where it says them, its ``meta`` as given; ``session_usage``: the
    session's running usage as the agent said it (where it says that, not the turn's)."""

    TYPE: ClassVar[str] = wire.TURN_END
    delivery: Whole = None
    stop_reason: Text = ""
    usage: Object = None
    cost_usd: Real = None
    meta: Any = None
    session_usage: Object = Field(default=None, exclude_if=absent)

    @property
    def model(self) -> str | None:
        """The model its meta names (None: none)."""
        said = self.meta.get("model") if isinstance(self.meta, Mapping) else None
        return said[:200] if isinstance(said, str) else None

    @property
    def total_cost(self) -> float | None:
        """Its session's running total cost, where its meta says it (Claude Code's)."""
        return real(self.meta.get(TOTAL_COST)) if isinstance(self.meta, Mapping) else None


class TurnError(Message):
    """A prompt the agent answered with an error (``turn_error``): its ``code``,
    ``message`` and ``data``; ``has_data``: whether the agent's error had data at all (a
    connection that broke has none, and its entry no ``data`` field)."""

    TYPE: ClassVar[str] = wire.TURN_ERROR
    delivery: Whole = None
    code: Whole = None
    message: Text = ""
    data: Any = None
    has_data: bool = Field(default=True, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _data_said(cls, raw: Any, info: ValidationInfo) -> Any:
        """On a line, whether it has data is whether it has the field."""
        if not from_line(info) or not isinstance(raw, Mapping):
            return raw
        return {**raw, "has_data": "data" in raw}

    @model_serializer(mode="wrap")
    def _data_if_said(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        found: dict[str, Any] = handler(self)
        if not self.has_data:
            found.pop("data", None)
        return found

    @property
    def said(self) -> str:
        """Its words: the error's own message where the protocol's is a generic one
        (codex-acp: "Internal error", its data saying "exceeded retry limit, last status:
        429")."""
        inner = self.data.get("message") if isinstance(self.data, Mapping) else None
        generic = self.message.strip().lower() in ("", "internal error")
        return inner if generic and isinstance(inner, str) and inner.strip() else self.message


class Exited(Message):
    """The agent process ended (``exited``) with its exit ``code``."""

    TYPE: ClassVar[str] = wire.EXITED
    code: Whole = None


class HostError(Message):
    """The host failed (``host_error``): the agent did not start, or its output closed."""

    TYPE: ClassVar[str] = wire.HOST_ERROR
    message: Text = ""


class AgentError(Message):
    """The agent wrote what its protocol cannot take (``agent_error``): the last such thing
    in words, and how many ``lines`` since the last said."""

    TYPE: ClassVar[str] = wire.AGENT_ERROR
    message: Text = ""
    lines: Count = 1


class Refused(Message):
    """A caller the host's socket refused (``refused``): the ``op`` it asked (None: none
    read), its ``pid``, ``why``, and how many ``times`` since the last said."""

    TYPE: ClassVar[str] = wire.REFUSED
    op: OptionalText = None
    pid: Whole = None
    why: Text = ""
    times: Annotated[int, PlainValidator(lambda value: integer(value) or 1)] = 1


class Unreachable(Message):
    """Swarm's own entry: the watcher could not reach the host (``gone``: none runs)."""

    TYPE: ClassVar[str] = "unreachable"
    message: Text = ""
    gone: Truthy = Field(default=False, exclude_if=empty)


class ReaderFailed(Message):
    """Swarm's own entry: its reader of the host's journal failed (or one entry of it)."""

    TYPE: ClassVar[str] = "reader_failed"
    message: Text = ""


def _names(value: Any) -> tuple[str, ...]:
    return tuple(text(name) for name in value) if isinstance(value, list | tuple) else ()


Names = Annotated[tuple[str, ...], BeforeValidator(_names)]


class Cut(Message):
    """What ``core.hosts.lines.bounded`` said of an entry it cut: its size before
    (``bytes``) and the fields it ``dropped`` whole."""

    bytes: Count = 0
    dropped: Names = Field(default=(), exclude_if=empty)
