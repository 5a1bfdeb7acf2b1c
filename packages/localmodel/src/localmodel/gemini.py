"""Gemini: ``POST /v1beta/models/{model}:generateContent``, ``:streamGenerateContent?alt=sse``
and ``:countTokens`` (Gemini CLI through ``GOOGLE_GEMINI_BASE_URL``).

Answers are ``GenerateContentResponse`` objects: candidates with ``text`` and
``functionCall`` parts, ``finishReason`` ``STOP`` on the last, and ``usageMetadata``. A stream
sends one per ``data:`` line, the text in pieces and a function call whole. Errors are Google's
``{"error": {"code", "message", "status"}}``; a 429 is ``RESOURCE_EXHAUSTED`` with a
``QuotaFailure`` (a per-minute or a per-day quota) and a ``RetryInfo``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from localmodel.player import Outcome
from localmodel.script import Step
from localmodel.streaming import Event, chunks, sse
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
from localmodel.wire import BadRequest, error_message, new_id, whole_seconds

STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
MESSAGES = {
    400: "Request contains an invalid argument.",
    401: "API key not valid. Please pass a valid API key.",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
}
QUOTA_IDS = {
    "minute": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
    "day": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
}


class Gemini:
    """The Gemini API's generateContent and streamGenerateContent."""

    api = "gemini"

    def read(self, body: Any, request: web.Request) -> View:
        """The request: its latest user text, the model turns since, the declared functions."""
        if not isinstance(body, Mapping) or not isinstance(body.get("contents"), list):
            raise BadRequest("* GenerateContentRequest.contents: contents is not specified")
        contents = [c for c in body["contents"] if isinstance(c, Mapping)]
        system = as_text(body.get("systemInstruction") or body.get("system_instruction"))
        index = _prompt_index(contents)
        prompt = strip_context(_text(contents[index])) if index >= 0 else ""
        model, _, method = request.match_info.get("target", "").partition(":")
        return View(
            api=self.api,
            model=model or "gemini",
            stream=method == "streamGenerateContent",
            prompt=prompt,
            position=sum(1 for c in contents[index + 1 :] if c.get("role") == "model"),
            tools=_tools(body.get("tools")),
            key=conversation_key(self.api, system, contents[: index + 1]),
            text="\n".join([system, *(_text(c) for c in contents)]).strip(),
            json_schema=_json_schema(body.get("generationConfig")),
        )

    def answer(self, outcome: Outcome, view: View) -> web.Response:
        """One ``GenerateContentResponse`` with every part."""
        parts = ([{"text": outcome.text}] if outcome.text or outcome.call is None else []) + (
            [_call_part(outcome)] if outcome.call is not None else []
        )
        return web.json_response(_response(view, outcome, parts, last=True, response_id=None))

    def events(self, outcome: Outcome, view: View) -> list[Event]:
        """A response per text piece, the function call whole; the last says STOP."""
        pieces: list[dict[str, Any]] = [
            {"text": p} for p in chunks(outcome.text, outcome.step.chunk_chars)
        ]
        if outcome.call is not None:
            pieces.append(_call_part(outcome))
        if not pieces:
            pieces.append({"text": ""})
        response_id = new_id("", 11)
        out = []
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            # every piece says the prompt's tokens; the last one the candidates' too
            usage = self.usage(outcome) if last else Usage(outcome.input_tokens, 0)
            body = _response(view, outcome, [piece], last, response_id)
            out.append(Event(sse(body), chunk=True, usage=usage))
        return out

    def usage(self, outcome: Outcome) -> Usage:
        """Prompt and candidates tokens (no cached content is reported)."""
        return Usage(outcome.input_tokens, outcome.output_tokens)

    def error(self, step: Step) -> web.Response:
        """Google's error object; a 429's quota details and retry delay."""
        status = STATUSES.get(step.status, "UNKNOWN")
        error: dict[str, Any] = {
            "code": step.status,
            "message": error_message(step, MESSAGES),
            "status": status,
        }
        if step.status == 429:
            error |= _quota_error(step)
        headers = {"retry-after": whole_seconds(step.retry_after)} if step.retry_after else {}
        return web.json_response(
            {"error": error}, status=step.status, headers=headers | dict(step.headers)
        )


def count_tokens(body: Any) -> web.Response:
    """``{"totalTokens": n}``."""
    contents = body.get("contents") if isinstance(body, Mapping) else None
    return web.json_response({"totalTokens": estimate_tokens(as_text(contents))})


def models_list(names: tuple[str, ...]) -> web.Response:
    """``GET /v1beta/models`` in Gemini's form."""
    methods = ["generateContent", "streamGenerateContent", "countTokens"]
    models = [
        {"name": f"models/{n}", "displayName": n, "supportedGenerationMethods": methods}
        for n in names
    ]
    return web.json_response({"models": models})


def _quota_error(step: Step) -> dict[str, Any]:
    wait = step.retry_after if step.retry_after is not None else step.reset_in
    delay = whole_seconds(wait)
    message = step.message or (
        "You exceeded your current quota, please check your plan and billing details. "
        "For more information on this error, head to: "
        f"https://ai.google.dev/gemini-api/docs/rate-limits. Please retry in {wait:g}s."
    )
    violation = {
        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
        "quotaId": QUOTA_IDS[step.quota],
        "quotaDimensions": {"location": "global", "model": "gemini"},
        "quotaValue": "50" if step.quota == "day" else "10",
    }
    details = [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{delay}s"},
    ]
    return {"message": message, "details": details}


def _response(
    view: View,
    outcome: Outcome,
    parts: list[dict[str, Any]],
    last: bool,
    response_id: str | None,
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if last:
        candidate["finishReason"] = "STOP"
    usage = {"promptTokenCount": outcome.input_tokens, "totalTokenCount": outcome.input_tokens}
    if last:
        usage["candidatesTokenCount"] = outcome.output_tokens
        usage["totalTokenCount"] = outcome.input_tokens + outcome.output_tokens
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": view.model,
        "responseId": response_id or new_id("", 11),
    }


def _call_part(outcome: Outcome) -> dict[str, Any]:
    assert outcome.call is not None
    return {"functionCall": {"name": outcome.call.name, "args": outcome.call.arguments}}


def _prompt_index(contents: list[Mapping[str, Any]]) -> int:
    for index in range(len(contents) - 1, -1, -1):
        content = contents[index]
        if content.get("role", "user") != "user" or _has_function_response(content):
            continue
        if strip_context(_text(content)):
            return index
    return -1


def _parts(content: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    parts = content.get("parts")
    return [p for p in parts if isinstance(p, Mapping)] if isinstance(parts, list) else []


def _has_function_response(content: Mapping[str, Any]) -> bool:
    return any("functionResponse" in p for p in _parts(content))


def _text(content: Mapping[str, Any]) -> str:
    return "\n".join(str(p["text"]) for p in _parts(content) if "text" in p)


def _json_schema(config: Any) -> Mapping[str, Any] | None:
    """The schema of the JSON a request asks for (``responseMimeType: application/json``)."""
    if not isinstance(config, Mapping) or config.get("responseMimeType") != "application/json":
        return None
    return schema_of(config.get("responseJsonSchema") or config.get("responseSchema"))


def _tools(value: Any) -> tuple[OfferedTool, ...]:
    if not isinstance(value, list):
        return ()
    tools: list[OfferedTool] = []
    for tool in value:
        declared = tool.get("functionDeclarations") if isinstance(tool, Mapping) else None
        for function in declared if isinstance(declared, list) else []:
            if isinstance(function, Mapping) and isinstance(function.get("name"), str):
                schema = function.get("parametersJsonSchema") or function.get("parameters")
                tools.append(OfferedTool(function["name"], schema_of(schema)))
    return tuple(tools)
