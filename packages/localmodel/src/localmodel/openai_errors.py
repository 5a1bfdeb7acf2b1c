"""OpenAI's error answers (Responses and Chat Completions share them) and message helpers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from localmodel.script import Step
from localmodel.wire import error_message, new_id, whole_seconds

# (type, code) by status; a 429 with quota="day" is insufficient_quota (a spent quota)
KINDS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}
MESSAGES = {
    400: "Invalid request",
    401: "Incorrect API key provided. You can find your API key at "
    "https://platform.openai.com/account/api-keys.",
    500: "The server had an error while processing your request. Sorry about that!",
    503: "The engine is currently overloaded, please try again later",
}
QUOTA = "You exceeded your current quota, please check your plan and billing details."


def error(step: Step) -> web.Response:
    """``{"error": {"message", "type", "param", "code"}}`` and, for a 429, the limit headers."""
    kind, code = KINDS.get(step.status, ("server_error", None))
    message = error_message(step, MESSAGES)
    if step.status == 429 and step.quota == "day":
        kind = code = "insufficient_quota"
        message = step.message or QUOTA
    elif step.status == 429 and not step.message:
        wait = step.retry_after if step.retry_after is not None else step.reset_in
        message = f"Rate limit reached for requests. Please try again in {wait:g}s."
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    headers = {"x-request-id": new_id("req_")}
    if step.status == 429:
        headers |= rate_limit_headers(step)
    if step.should_retry is not None:
        headers["x-should-retry"] = "true" if step.should_retry else "false"
    return web.json_response(body, status=step.status, headers=headers | dict(step.headers))


def rate_limit_headers(step: Step) -> dict[str, str]:
    """``x-ratelimit-*`` (resets as durations), ``retry-after`` only when the step sets it."""
    headers = {}
    for kind, limit in (("requests", "500"), ("tokens", "30000")):
        headers[f"x-ratelimit-limit-{kind}"] = limit
        headers[f"x-ratelimit-remaining-{kind}"] = "0"
        headers[f"x-ratelimit-reset-{kind}"] = duration(step.reset_in)
    if step.retry_after is not None:
        headers["retry-after"] = whole_seconds(step.retry_after)
    return headers


def duration(seconds: float) -> str:
    """A Go-style duration like OpenAI's reset headers: ``6m0s``, ``1s``, ``250ms``."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes}m{rest}s"
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"


def content_text(content: Any) -> str:
    """A message's text: a string, or its parts' ``text``."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "\n".join(
        str(p.get("text", "")) for p in content if isinstance(p, Mapping) and "text" in p
    )
