"""A model response's usage, read from the bytes as they pass (JSON whole, or SSE event by
event), for the four wire formats: Anthropic Messages, OpenAI Responses and Chat Completions,
Gemini's generateContent. Nothing is guessed: a body it cannot read gives no usage.

``input`` is the uncached input, as Anthropic counts it: OpenAI's and Gemini's input counts
include their cached tokens, which are taken off (as ``core.clis.codex`` does).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

from core.costs.usage import MAX_TOKENS, Usage

MAX_JSON_BYTES = 32 * 1024 * 1024  # a JSON answer longer than this is not read for usage
MAX_LINE_BYTES = 8 * 1024 * 1024  # an SSE line longer than this stops the reading


class Api(enum.Enum):
    """Which wire format a model request speaks (by its path)."""

    MESSAGES = "anthropic-messages"
    RESPONSES = "openai-responses"
    CHAT = "openai-chat"
    GEMINI = "gemini"


def api_of(path: str) -> Api | None:
    """The wire format of a request to ``path``; None: no model request (a list of models,
    a count of tokens)."""
    if path.endswith("/messages"):
        return Api.MESSAGES
    if path.endswith("/responses"):
        return Api.RESPONSES
    if path.endswith("/chat/completions"):
        return Api.CHAT
    if path.endswith((":generateContent", ":streamGenerateContent")):
        return Api.GEMINI
    return None


def offers_tools(body: bytes) -> bool | None:
    """Whether a model request offers the model tools: every request of an agent's
    conversation does, in each wire format (``tools``; Gemini's Code Assist wraps the request
    in ``request``); a CLI's side request (a session's title, Gemini CLI's router) offers
    none. None: the body is no JSON object (or longer than ``MAX_JSON_BYTES``). The body is
    the agent's: this only says which answers its CLI's own report is compared with."""
    if len(body) > MAX_JSON_BYTES:
        return None
    try:
        sent = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(sent, dict):
        return None
    inner = sent.get("request")
    return bool(sent.get("tools") or (isinstance(inner, dict) and inner.get("tools")))


class UsageReader:
    """Fed a response's body chunk by chunk; ``result`` gives its model and usage."""

    def __init__(self, api: Api, streamed: bool) -> None:
        self.api, self.streamed = api, streamed
        self.model: str | None = None
        self.usage: Usage | None = None
        self.unreadable = False  # a body too long or not the format: its usage unknown
        self._body = bytearray()

    def feed(self, chunk: bytes) -> None:
        """Take the next bytes of the body."""
        if self.unreadable:
            return
        self._body += chunk
        if not self.streamed:
            if len(self._body) > MAX_JSON_BYTES:
                self._stop()
            return
        while (end := self._body.find(b"\n")) >= 0:
            line = bytes(self._body[:end]).rstrip(b"\r")
            del self._body[: end + 1]
            self._line(line)
        if len(self._body) > MAX_LINE_BYTES:
            self._stop()

    def result(self) -> tuple[str | None, Usage | None]:
        """The model the response named and its usage (None: not known)."""
        if not self.unreadable and not self.streamed:
            try:
                whole = json.loads(bytes(self._body))
            except (ValueError, RecursionError):
                whole = None
            # Gemini's streamGenerateContent without alt=sse: a JSON array of its chunks
            for event in whole if isinstance(whole, list) else [whole]:
                self._event(event)
        elif not self.unreadable and self._body.strip():
            self._line(bytes(self._body).rstrip(b"\r"))
        return (None if self.unreadable else self.model), (None if self.unreadable else self.usage)

    def _stop(self) -> None:
        self.unreadable = True
        self._body.clear()

    def _line(self, line: bytes) -> None:
        if not line.startswith(b"data:"):
            return
        data = line[5:].strip()
        if not data or data == b"[DONE]":
            return
        try:
            self._event(json.loads(data))
        except (ValueError, RecursionError):
            return  # one event not JSON: the others still count

    def _event(self, event: Any) -> None:
        if not isinstance(event, Mapping):
            return
        match self.api:
            case Api.MESSAGES:
                self._messages(event)
            case Api.RESPONSES:
                self._responses(event)
            case Api.CHAT:
                self._take(_text(event.get("model")), _openai(event.get("usage")))
            case Api.GEMINI:
                self._take(_text(event.get("modelVersion")), _gemini(event.get("usageMetadata")))

    def _messages(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message")
            if isinstance(message, Mapping):
                self._take(_text(message.get("model")), _anthropic(message.get("usage"), None))
        elif kind == "message_delta":
            self._take(None, _anthropic(event.get("usage"), self.usage))
        elif kind == "message":  # the whole answer, not streamed
            self._take(_text(event.get("model")), _anthropic(event.get("usage"), None))

    def _responses(self, event: Mapping[str, Any]) -> None:
        if event.get("object") == "response":  # the whole answer, not streamed
            self._take(_text(event.get("model")), _openai(event.get("usage")))
            return
        done = ("response.completed", "response.incomplete", "response.failed")
        response = event.get("response")
        if event.get("type") in done and isinstance(response, Mapping):
            self._take(_text(response.get("model")), _openai(response.get("usage")))

    def _take(self, model: str | None, usage: Usage | None) -> None:
        self.model = model or self.model
        self.usage = usage or self.usage


def _text(value: Any) -> str | None:
    return value[:200] if isinstance(value, str) and value else None


def _count(raw: Mapping[str, Any], name: str) -> int | None:
    value = raw.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKENS:
        return value
    return None


def _anthropic(raw: Any, before: Usage | None) -> Usage | None:
    """Anthropic's usage; a ``message_delta``'s counts over ``message_start``'s."""
    if not isinstance(raw, Mapping):
        return None
    base = before or Usage()
    names = {"input": "input_tokens", "output": "output_tokens",
             "cache_read": "cache_read_input_tokens",
             "cache_write": "cache_creation_input_tokens"}  # fmt: skip
    found = {kind: _count(raw, name) for kind, name in names.items()}
    if all(value is None for value in found.values()):
        return None
    return Usage(**{kind: getattr(base, kind) if v is None else v for kind, v in found.items()})


def _openai(raw: Any) -> Usage | None:
    """Responses' (``input_tokens``) or Chat Completions' (``prompt_tokens``) usage."""
    if not isinstance(raw, Mapping):
        return None
    given = _count(raw, "input_tokens")
    given = _count(raw, "prompt_tokens") if given is None else given
    output = _count(raw, "output_tokens")
    output = _count(raw, "completion_tokens") if output is None else output
    if given is None or output is None:
        return None
    details = raw.get("input_tokens_details") or raw.get("prompt_tokens_details") or {}
    details = details if isinstance(details, Mapping) else {}
    cached = _count(details, "cached_tokens") or 0
    written = _count(details, "cache_write_tokens") or 0
    return Usage(max(given - cached - written, 0), output, cached, written)


def _gemini(raw: Any) -> Usage | None:
    """Gemini's ``usageMetadata`` (thoughts count as output, as Gemini bills them)."""
    if not isinstance(raw, Mapping):
        return None
    prompt = _count(raw, "promptTokenCount")
    if prompt is None:
        return None
    cached = _count(raw, "cachedContentTokenCount") or 0
    output = (_count(raw, "candidatesTokenCount") or 0) + (_count(raw, "thoughtsTokenCount") or 0)
    return Usage(max(prompt - cached, 0), output, cached, 0)
