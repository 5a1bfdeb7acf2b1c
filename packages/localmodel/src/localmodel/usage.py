"""The usage each answer reported, and its sums (``GET /_localmodel/usage``).

A request's usage is what its answer told the client, no more: the whole answer's tokens once
it is handed over (JSON) or once the event carrying them is written (a stream: the latest
usage-bearing event sent, so a stream cut off after Anthropic's ``message_start`` reports its
input and one output token, and a Responses stream cut before ``response.completed`` reports
none); an error, a stream without a usage chunk (Chat without ``include_usage``) or a stall
the server closed on reports none. Cache reads and writes are ``None`` where the dialect's
answer carries no such field (Chat Completions, Gemini).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localmodel.recording import RecordedRequest

FIELDS = ("input", "output", "cache_read", "cache_write")


@dataclass(frozen=True)
class Usage:
    """Tokens an answer reported: input, output, cache read and write (None: not reported)."""

    input: int
    output: int
    cache_read: int | None = None
    cache_write: int | None = None

    def to_json(self) -> dict[str, int | None]:
        """``{"input", "output", "cache_read", "cache_write"}``."""
        return {name: getattr(self, name) for name in FIELDS}


def summarize(records: Iterable[RecordedRequest]) -> dict[str, Any]:
    """The sums of the model requests among ``records``: in all and by model, and each one.

    ``requests`` counts the requests whose answer reported usage, ``unreported`` the others
    (errors, cut-off streams that had sent none); a cache sum is None when no request of the
    group reported that field.
    """
    total = _Sum()
    by_model: dict[str, _Sum] = {}
    each: list[dict[str, Any]] = []
    for record in records:
        if record.api is None:
            continue  # not a model request (a count of tokens, a list of models, a 404)
        model = record.model or ""
        total.add(record.usage)
        by_model.setdefault(model, _Sum()).add(record.usage)
        usage = record.usage.to_json() if record.usage is not None else None
        each.append({"seq": record.seq, "api": record.api, "model": model,
                     "status": record.status, "usage": usage})  # fmt: skip
    return {
        "total": total.to_json(),
        "models": {name: part.to_json() for name, part in by_model.items()},
        "requests": each,
    }


class _Sum:
    def __init__(self) -> None:
        self.requests = 0
        self.unreported = 0
        self.tokens: dict[str, int | None] = {"input": 0, "output": 0,
                                              "cache_read": None, "cache_write": None}  # fmt: skip

    def add(self, usage: Usage | None) -> None:
        if usage is None:
            self.unreported += 1
            return
        self.requests += 1
        for name in FIELDS:
            value = getattr(usage, name)
            if value is not None:
                self.tokens[name] = (self.tokens[name] or 0) + value

    def to_json(self) -> dict[str, int | None]:
        return {"requests": self.requests, "unreported": self.unreported, **self.tokens}
