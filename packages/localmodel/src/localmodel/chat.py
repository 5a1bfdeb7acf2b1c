"""OpenAI Chat Completions: ``POST /v1/chat/completions`` (Aider, opencode, swarm's planner).

A stream is ``chat.completion.chunk`` objects: the role first, then ``content`` pieces or a
tool call (its id and name, then its ``arguments`` in pieces), a last chunk with the
``finish_reason``, a usage chunk when ``stream_options.include_usage`` asks, and
``data: [DONE]``.
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

DONE = b"data: [DONE]\n\n"


class Chat:
    """The Chat Completions API."""

    api = "chat"

    def read(self, body: Any, request: web.Request) -> View:
        """The request: its latest user message, the assistant turns since, the tools."""
        if not isinstance(body, Mapping) or not isinstance(body.get("messages"), list):
            raise BadRequest("Missing required parameter: 'messages'.")
        messages = [m for m in body["messages"] if isinstance(m, Mapping)]
        system = "\n".join(
            content_text(m.get("content"))
            for m in messages
            if m.get("role") in ("system", "developer")
        )
        index = _prompt_index(messages)
        prompt = strip_context(content_text(messages[index].get("content"))) if index >= 0 else ""
        return View(
            api=self.api,
            model=str(body.get("model") or "local"),
            stream=body.get("stream") is True,
            prompt=prompt,
            position=sum(1 for m in messages[index + 1 :] if m.get("role") == "assistant"),
            tools=_tools(body),
            key=conversation_key(self.api, system, messages[: index + 1]),
            text="\n".join(content_text(m.get("content")) for m in messages),
            extra={"include_usage": _include_usage(body)},
        )

    def answer(self, outcome: Outcome, view: View) -> web.Response:
        """The ``chat.completion`` object."""
        message: dict[str, Any] = {"role": "assistant", "content": outcome.text, "refusal": None}
        if outcome.call is not None:
            message["content"] = outcome.text or None
            message["tool_calls"] = [_call(outcome, with_arguments=True)]
        body = {
            **_head(view, "chat.completion"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": _finish(outcome),
                    "logprobs": None,
                }
            ],
            "usage": _usage(outcome),
        }
        return web.json_response(body)

    def events(self, outcome: Outcome, view: View) -> list[Event]:
        """The completion as ``chat.completion.chunk`` events, then ``[DONE]``."""
        head = _head(view, "chat.completion.chunk")
        size = outcome.step.chunk_chars

        def chunk(delta: dict[str, Any], finish: str | None = None, paced: bool = True) -> Event:
            choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
            return Event(sse({**head, "choices": [choice]}), chunk=paced)

        out = [chunk({"role": "assistant", "content": ""}, paced=False)]
        out += [chunk({"content": piece}) for piece in chunks(outcome.text, size)]
        if outcome.call is not None:
            out.append(chunk({"tool_calls": [_call(outcome, with_arguments=False)]}))
            out += [
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
                for piece in chunks(outcome.call.arguments_json, size)
            ]
        out.append(chunk({}, _finish(outcome), paced=False))
        if view.extra.get("include_usage"):
            body = {**head, "choices": [], "usage": _usage(outcome)}
            out.append(Event(sse(body), usage=self.usage(outcome)))
        out.append(Event(DONE))
        return out

    def usage(self, outcome: Outcome) -> Usage:
        """Prompt and completion tokens (Chat has no cache fields in its answer)."""
        return Usage(outcome.input_tokens, outcome.output_tokens)

    def error(self, step: Step) -> web.Response:
        """OpenAI's error answer."""
        return openai_errors.error(step)


def models_list(names: tuple[str, ...]) -> web.Response:
    """``GET /v1/models`` in OpenAI's form."""
    data = [{"id": n, "object": "model", "created": 0, "owned_by": "localmodel"} for n in names]
    return web.json_response({"object": "list", "data": data})


def _head(view: View, kind: str) -> dict[str, Any]:
    return {
        "id": new_id("chatcmpl-"),
        "object": kind,
        "created": now(),
        "model": view.model,
        "system_fingerprint": None,
    }


def _call(outcome: Outcome, with_arguments: bool) -> dict[str, Any]:
    assert outcome.call is not None
    arguments = outcome.call.arguments_json if with_arguments else ""
    call: dict[str, Any] = {
        "id": new_id("call_"),
        "type": "function",
        "function": {"name": outcome.call.name, "arguments": arguments},
    }
    return call if with_arguments else {"index": 0, **call}


def _finish(outcome: Outcome) -> str:
    return "tool_calls" if outcome.call is not None else "stop"


def _usage(outcome: Outcome) -> dict[str, int]:
    return {
        "prompt_tokens": outcome.input_tokens,
        "completion_tokens": outcome.output_tokens,
        "total_tokens": outcome.input_tokens + outcome.output_tokens,
    }


def _include_usage(body: Mapping[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, Mapping) and options.get("include_usage") is True


def _prompt_index(messages: list[Mapping[str, Any]]) -> int:
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.get("role") == "user" and strip_context(content_text(message.get("content"))):
            return index
    return -1


def _tools(body: Mapping[str, Any]) -> tuple[OfferedTool, ...]:
    declared = [t.get("function") for t in _list(body.get("tools")) if isinstance(t, Mapping)]
    tools: list[OfferedTool] = []
    for function in [*declared, *_list(body.get("functions"))]:
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            tools.append(OfferedTool(function["name"], schema_of(function.get("parameters"))))
    return tuple(tools)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
