"""OpenAI Responses: ``POST /v1/responses`` (what Codex speaks), JSON or SSE.

A stream is ``response.created``, ``response.in_progress``, then per output item
``response.output_item.added``, its content (``response.content_part.added``,
``response.output_text.delta`` chunks, ``response.output_text.done``,
``response.content_part.done``; or ``response.function_call_arguments.delta`` chunks and
``.done`` for a ``function_call``), ``response.output_item.done``, and
``response.completed`` with the whole response and its usage. Every event has a
``sequence_number``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from localmodel import openai_errors
from localmodel.openai_errors import content_text
from localmodel.player import Outcome
from localmodel.script import Step
from localmodel.streaming import Event, chunks, sse
from localmodel.usage import Usage
from localmodel.view import OfferedTool, View, conversation_key, schema_of, strip_context
from localmodel.wire import BadRequest, new_id, now

MODEL_ITEMS = {
    "function_call",
    "custom_tool_call",
    "local_shell_call",
    "reasoning",
    "web_search_call",
    "tool_search_call",
}


class Responses:
    """The Responses API."""

    api = "responses"

    def read(self, body: Any, request: web.Request) -> View:
        """The request: its latest prompt, the model turns since, the offered tools."""
        if not isinstance(body, Mapping) or not isinstance(body.get("input"), str | list):
            raise BadRequest("Missing required parameter: 'input'.")
        raw = body["input"]
        items = [{"role": "user", "content": raw}] if isinstance(raw, str) else list(raw)
        items = [i for i in items if isinstance(i, Mapping)]
        system = str(body.get("instructions") or "")
        index = _prompt_index(items)
        prompt = strip_context(content_text(items[index].get("content"))) if index >= 0 else ""
        return View(
            api=self.api,
            model=str(body.get("model") or "local"),
            stream=body.get("stream") is True,
            prompt=prompt,
            position=_model_turns(items[index + 1 :]),
            tools=_tools(body.get("tools")),
            key=conversation_key(self.api, system, items[: index + 1]),
            text="\n".join([system, *(_item_text(i) for i in items)]).strip(),
        )

    def answer(self, outcome: Outcome, view: View) -> web.Response:
        """The completed response as JSON."""
        return web.json_response(_response(view, outcome, _items(outcome), "completed"))

    def events(self, outcome: Outcome, view: View) -> list[Event]:
        """The response as SSE events with sequence numbers."""
        items = _items(outcome)
        response_id = new_id("resp_")
        payloads: list[dict[str, Any]] = []
        started = _response(view, outcome, [], "in_progress", response_id)
        payloads.append({"type": "response.created", "response": started})
        payloads.append({"type": "response.in_progress", "response": started})
        for index, item in enumerate(items):
            payloads += _item_events(index, item, outcome.step.chunk_chars)
        done = _response(view, outcome, items, "completed", response_id)
        payloads.append({"type": "response.completed", "response": done})
        return [
            Event(
                sse({**p, "sequence_number": n}, p["type"]),
                chunk=p["type"] in _CHUNKS,
                usage=self.usage(outcome) if p["type"] == "response.completed" else None,
            )
            for n, p in enumerate(payloads)
        ]

    def usage(self, outcome: Outcome) -> Usage:
        """Input, output, and no cached tokens read or written."""
        return Usage(outcome.input_tokens, outcome.output_tokens, 0, 0)

    def error(self, step: Step) -> web.Response:
        """OpenAI's error answer."""
        return openai_errors.error(step)


_CHUNKS = {"response.output_text.delta", "response.function_call_arguments.delta"}


def _response(
    view: View,
    outcome: Outcome,
    items: list[dict[str, Any]],
    status: str,
    response_id: str | None = None,
) -> dict[str, Any]:
    done = status == "completed"
    return {
        "id": response_id or new_id("resp_"),
        "object": "response",
        "created_at": now(),
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "model": view.model,
        "output": items,
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "text": {"format": {"type": "text"}},
        "usage": _usage(outcome) if done else None,
    }


def _usage(outcome: Outcome) -> dict[str, Any]:
    return {
        "input_tokens": outcome.input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": outcome.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": outcome.input_tokens + outcome.output_tokens,
    }


def _items(outcome: Outcome) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if outcome.text or outcome.call is None:
        part = {"type": "output_text", "text": outcome.text, "annotations": [], "logprobs": []}
        items.append(
            {
                "id": new_id("msg_"),
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [part],
            }
        )
    if outcome.call is not None:
        call: dict[str, Any] = {
            "id": new_id("fc_"),
            "type": "function_call",
            "status": "completed",
            "arguments": outcome.call.arguments_json,
            "call_id": new_id("call_"),
            "name": outcome.call.name,
        }
        if outcome.call.namespace:
            call["namespace"] = outcome.call.namespace
        items.append(call)
    return items


def _item_events(index: int, item: dict[str, Any], size: int) -> list[dict[str, Any]]:
    where = {"item_id": item["id"], "output_index": index}
    if item["type"] == "message":
        part = item["content"][0]
        text = part["text"]
        opened = {**item, "status": "in_progress", "content": []}
        empty = {**part, "text": ""}
        return [
            {"type": "response.output_item.added", "output_index": index, "item": opened},
            {"type": "response.content_part.added", **where, "content_index": 0, "part": empty},
            *(
                {"type": "response.output_text.delta", **where, "content_index": 0,
                 "delta": piece, "logprobs": []}
                for piece in chunks(text, size)
            ),
            {"type": "response.output_text.done", **where, "content_index": 0, "text": text,
             "logprobs": []},
            {"type": "response.content_part.done", **where, "content_index": 0, "part": part},
            {"type": "response.output_item.done", "output_index": index, "item": item},
        ]  # fmt: skip
    arguments = item["arguments"]
    opened = {**item, "status": "in_progress", "arguments": ""}
    return [
        {"type": "response.output_item.added", "output_index": index, "item": opened},
        *(
            {"type": "response.function_call_arguments.delta", **where, "delta": piece}
            for piece in chunks(arguments, size)
        ),
        {"type": "response.function_call_arguments.done", **where, "arguments": arguments,
         "name": item["name"]},
        {"type": "response.output_item.done", "output_index": index, "item": item},
    ]  # fmt: skip


def _prompt_index(items: list[Mapping[str, Any]]) -> int:
    for index in range(len(items) - 1, -1, -1):
        item = items[index]
        if item.get("type", "message") != "message" or item.get("role") != "user":
            continue
        if strip_context(content_text(item.get("content"))):
            return index
    return -1


def _is_model_item(item: Mapping[str, Any]) -> bool:
    kind = item.get("type", "message")
    return kind in MODEL_ITEMS or (kind == "message" and item.get("role") == "assistant")


def _model_turns(items: list[Mapping[str, Any]]) -> int:
    turns, inside = 0, False
    for item in items:
        model = _is_model_item(item)
        turns += model and not inside
        inside = model
    return turns


def _item_text(item: Mapping[str, Any]) -> str:
    if "content" in item:
        return content_text(item.get("content"))
    return str(item.get("output") or item.get("arguments") or "")


def _tools(value: Any) -> tuple[OfferedTool, ...]:
    if not isinstance(value, list):
        return ()
    tools: list[OfferedTool] = []
    for tool in value:
        if not isinstance(tool, Mapping):
            continue
        if tool.get("type") == "namespace" and isinstance(tool.get("tools"), list):
            space = str(tool.get("name") or "")
            tools += [OfferedTool(t.name, t.schema, space) for t in _tools(tool["tools"])]
        elif isinstance(tool.get("name"), str):
            tools.append(OfferedTool(tool["name"], schema_of(tool.get("parameters"))))
    return tuple(tools)
