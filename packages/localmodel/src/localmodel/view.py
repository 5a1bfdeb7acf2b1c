"""What a model request says, whatever its API: the prompt, the turn's progress, the tools.

Each API module reads its request body into a :class:`View`. ``position`` is how many model
answers (tool calls) came back in the history since the latest user prompt: the index of the
script step to run, so a retried request gets the same step and a stateless server follows the
turn. ``key`` names the conversation up to that prompt (counters of failures and stalls).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Context a client adds to user messages, not the prompt a person typed: Claude Code's
# reminders, Codex's environment and instructions (AGENTS.md), Gemini CLI's session context.
CONTEXT_TAGS = ("system-reminder", "environment_context", "user_instructions", "session_context")
_CONTEXT = re.compile(
    r"<(" + "|".join(CONTEXT_TAGS) + r")\b[^>]*>.*?</\1>", re.DOTALL | re.IGNORECASE
)


@dataclass(frozen=True)
class OfferedTool:
    """A tool the request offers the model: its name, its input's JSON schema."""

    name: str
    schema: Mapping[str, Any] = field(default_factory=dict)
    namespace: str | None = None


@dataclass(frozen=True)
class View:
    """One request, read: ``api`` is anthropic, responses, chat or gemini."""

    api: str
    model: str
    stream: bool
    prompt: str
    position: int
    tools: tuple[OfferedTool, ...]
    key: str
    text: str
    extra: Mapping[str, Any] = field(default_factory=dict)
    deferred: tuple[str, ...] = ()
    json_schema: Mapping[str, Any] | None = None  # the JSON the answer must be (a side request)

    @property
    def tool_names(self) -> list[str]:
        """The offered tools' names."""
        return [t.name for t in self.tools]


def strip_context(text: str) -> str:
    """The text without the blocks of context clients add (``<system-reminder>``...)."""
    return _CONTEXT.sub("", text).strip()


def conversation_key(api: str, system: str, history: list[Any]) -> str:
    """A digest of the system prompt and the messages up to the prompt."""
    raw = json.dumps([api, system, _without_cache_marks(history)], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _without_cache_marks(value: Any) -> Any:
    # Clients move their cache markers as the conversation grows: they name no content.
    if isinstance(value, Mapping):
        return {k: _without_cache_marks(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_without_cache_marks(v) for v in value]
    return value


def estimate_tokens(text: str) -> int:
    """About four characters a token, at least one."""
    return max(1, len(text) // 4)


def as_text(value: Any) -> str:
    """Every string inside a JSON value, joined by newlines (what the model was shown)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return "\n".join(t for t in (as_text(v) for v in value.values()) if t)
    if isinstance(value, list):
        return "\n".join(t for t in (as_text(v) for v in value) if t)
    return ""


def schema_of(value: Any) -> Mapping[str, Any]:
    """A JSON schema, or {} when the value is not one."""
    return value if isinstance(value, Mapping) else {}


def schema_instance(schema: Mapping[str, Any], text: str) -> Any:
    """A value of the JSON ``schema`` (OpenAPI's upper-case types too): every property of an
    object, ``text`` for a string, an enum's first value, 1 for a number, false, []."""
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    kind = schema.get("type")
    kind = str((kind[0] if kind else "") if isinstance(kind, list) else kind or "").lower()
    properties = schema.get("properties")
    if kind == "object" or (not kind and isinstance(properties, Mapping)):
        fields = properties if isinstance(properties, Mapping) else {}
        return {k: schema_instance(schema_of(v), text) for k, v in fields.items()}
    return {"string": text, "integer": 1, "number": 1, "boolean": False, "array": []}.get(
        kind, text
    )
