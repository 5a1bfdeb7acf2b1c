"""Anthropic Messages: ``POST /v1/messages`` (JSON or SSE) and ``/v1/messages/count_tokens``.

Streams are ``message_start`` (with usage), per content block ``content_block_start``,
``content_block_delta`` (``text_delta``; a ``tool_use`` block's input as ``input_json_delta``
chunks) and ``content_block_stop``, a ``ping`` after the first block opens, ``message_delta``
(stop reason, output tokens) and ``message_stop``. Errors are
``{"type": "error", "error": {"type", "message"}}``; a 429 carries ``retry-after`` and the
``anthropic-ratelimit-*`` headers (limits, none remaining, RFC 3339 resets).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from localmodel.player import Outcome
from localmodel.script import Step
from localmodel.streaming import Event, chunks, sse
from localmodel.tools import TOOL_SEARCH, deferred_tools
from localmodel.usage import Usage
from localmodel.view import (
    OfferedTool,
    View,
    as_text,
    conversation_key,
    estimate_tokens,
    schema_of,
    strip_context,
)
from localmodel.wire import BadRequest, error_message, new_id, rfc3339_in, whole_seconds

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
MESSAGES = {
    400: "Invalid request",
    401: "invalid x-api-key",
    429: "This request would exceed the rate limit for your organization. Please try again "
    "later; see the response headers for the current usage.",
    500: "Internal server error",
    529: "Overloaded",
}
LIMITS = {"requests": "50", "tokens": "40000", "input-tokens": "30000", "output-tokens": "8000"}


class Anthropic:
    """The Messages API."""

    api = "anthropic"

    def read(self, body: Any, request: web.Request) -> View:
        """The request: its latest prompt, the tool calls since, the offered tools."""
        if not isinstance(body, Mapping) or not isinstance(body.get("messages"), list):
            raise BadRequest("messages: Field required")
        messages = [m for m in body["messages"] if isinstance(m, Mapping)]
        system = as_text(body.get("system"))
        index = _prompt_index(messages)
        prompt = _prompt(messages[index].get("content")) if index >= 0 else ""
        position = sum(1 for m in messages[index + 1 :] if _is_answer(m))
        text = "\n".join([system, *(_text(m.get("content")) for m in messages)]).strip()
        return View(
            api=self.api,
            model=str(body.get("model") or "claude"),
            stream=body.get("stream") is True,
            prompt=prompt,
            position=position,
            tools=_tools(body.get("tools")),
            key=conversation_key(self.api, system, messages[: index + 1]),
            text=text,
            deferred=deferred_tools(text),
        )

    def answer(self, outcome: Outcome, view: View) -> web.Response:
        """The whole message as JSON."""
        message = _message(view, outcome, blocks=_blocks(outcome))
        message["stop_reason"] = _stop_reason(outcome)
        return web.json_response(message, headers={"request-id": new_id("req_")})

    def events(self, outcome: Outcome, view: View) -> list[Event]:
        """The message as SSE events, its text and tool input in chunks."""
        start = _message(view, outcome, blocks=[])
        start["usage"]["output_tokens"] = 1
        started = Usage(outcome.input_tokens, 1, 0, 0)
        out = [
            Event(sse({"type": "message_start", "message": start}, "message_start"), usage=started)
        ]
        size = outcome.step.chunk_chars
        for index, block in enumerate(_blocks(outcome)):
            out += _block_events(index, block, size)
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": _stop_reason(outcome), "stop_sequence": None},
            "usage": {"output_tokens": outcome.output_tokens},
        }
        out.append(Event(sse(delta, "message_delta"), usage=self.usage(outcome)))
        out.append(Event(sse({"type": "message_stop"}, "message_stop")))
        return out

    def usage(self, outcome: Outcome) -> Usage:
        """Input, output, and no cache read or written."""
        return Usage(outcome.input_tokens, outcome.output_tokens, 0, 0)

    def error(self, step: Step) -> web.Response:
        """``{"type": "error", "error": {...}}`` with the status's headers."""
        kind = ERROR_TYPES.get(step.status, "api_error")
        request_id = new_id("req_")
        body = {
            "type": "error",
            "error": {"type": kind, "message": error_message(step, MESSAGES)},
            "request_id": request_id,
        }
        headers = {"request-id": request_id}
        if step.status == 429:
            headers |= rate_limit_headers(step)
        if step.should_retry is not None:
            headers["x-should-retry"] = "true" if step.should_retry else "false"
        return web.json_response(body, status=step.status, headers=headers | dict(step.headers))


def rate_limit_headers(step: Step) -> dict[str, str]:
    """``retry-after`` and every ``anthropic-ratelimit-*`` header, none remaining."""
    retry_after = step.retry_after if step.retry_after is not None else step.reset_in
    headers = {"retry-after": whole_seconds(retry_after)}
    reset = rfc3339_in(step.reset_in)
    for kind, limit in LIMITS.items():
        headers[f"anthropic-ratelimit-{kind}-limit"] = limit
        headers[f"anthropic-ratelimit-{kind}-remaining"] = "0"
        headers[f"anthropic-ratelimit-{kind}-reset"] = reset
    return headers


def count_tokens(body: Any) -> web.Response:
    """``{"input_tokens": n}``: about four characters a token."""
    if not isinstance(body, Mapping) or not isinstance(body.get("messages"), list):
        raise BadRequest("messages: Field required")
    text = as_text([body.get("system"), body.get("messages"), body.get("tools")])
    return web.json_response({"input_tokens": estimate_tokens(text)})


def _message(view: View, outcome: Outcome, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": view.model,
        "content": blocks,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": outcome.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": outcome.output_tokens,
        },
    }


def _blocks(outcome: Outcome) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if outcome.text or outcome.call is None:
        blocks.append({"type": "text", "text": outcome.text})
    if outcome.call is not None:
        call = outcome.call
        blocks.append(
            {"type": "tool_use", "id": new_id("toolu_"), "name": call.name, "input": call.arguments}
        )
    return blocks


def _block_events(index: int, block: dict[str, Any], size: int) -> list[Event]:
    opened: dict[str, Any]
    if block["type"] == "text":
        opened = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in chunks(block["text"], size)]
        first: list[Event] = []
    else:
        opened = {**block, "input": {}}
        deltas = [
            {"type": "input_json_delta", "partial_json": piece}
            for piece in chunks(json.dumps(block["input"]), size)
        ]
        first = [_delta(index, {"type": "input_json_delta", "partial_json": ""}, chunk=False)]
    start = {"type": "content_block_start", "index": index, "content_block": opened}
    out = [Event(sse(start, "content_block_start"))]
    if index == 0:
        out.append(Event(sse({"type": "ping"}, "ping")))
    out += first + [_delta(index, d) for d in deltas]
    out.append(Event(sse({"type": "content_block_stop", "index": index}, "content_block_stop")))
    return out


def _delta(index: int, delta: dict[str, Any], chunk: bool = True) -> Event:
    payload = {"type": "content_block_delta", "index": index, "delta": delta}
    return Event(sse(payload, "content_block_delta"), chunk=chunk)


def _stop_reason(outcome: Outcome) -> str:
    return "tool_use" if outcome.call is not None else "end_turn"


def _prompt_index(messages: list[Mapping[str, Any]]) -> int:
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.get("role") != "user" or _has_tool_result(message.get("content")):
            continue
        if strip_context(_text(message.get("content"))):
            return index
    return -1


def _prompt(content: Any) -> str:
    # The last text block that is not context: after an API error Claude Code sends the failed
    # prompt again as an earlier block of the next prompt's message.
    if not isinstance(content, list):
        return strip_context(_text(content))
    texts = [strip_context(_text([block])) for block in content]
    return next((t for t in reversed(texts) if t), "")


def _is_answer(message: Mapping[str, Any]) -> bool:
    # A step of the script; a ToolSearch call that loads a deferred tool is not one.
    if message.get("role") != "assistant":
        return False
    content = message.get("content")
    calls = [b for b in content if isinstance(b, Mapping)] if isinstance(content, list) else []
    names = {b.get("name") for b in calls if b.get("type") == "tool_use"}
    return names != {TOOL_SEARCH}


def _has_tool_result(content: Any) -> bool:
    return isinstance(content, list) and any(
        isinstance(b, Mapping) and b.get("type") == "tool_result" for b in content
    )


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = []
    for block in content:
        if isinstance(block, Mapping) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif isinstance(block, Mapping) and block.get("type") == "tool_result":
            parts.append(_text(block.get("content")))
    return "\n".join(parts)


def _tools(value: Any) -> tuple[OfferedTool, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        OfferedTool(str(t["name"]), schema_of(t.get("input_schema")))
        for t in value
        if isinstance(t, Mapping) and isinstance(t.get("name"), str)
    )
