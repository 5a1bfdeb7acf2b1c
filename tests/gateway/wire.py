"""The four wire formats' requests as the CLIs send them (placeholder keys), for the tests
and the bench."""

from __future__ import annotations

from typing import Any

from automation.launch.gateway import Vendor
from tests.gateway.rig import PLACEHOLDER

FORMATS = ("messages", "responses", "chat", "gemini")
VENDOR_OF = {"messages": Vendor.ANTHROPIC, "responses": Vendor.OPENAI, "chat": Vendor.OPENAI,
             "gemini": Vendor.GEMINI}  # fmt: skip


def request(fmt: str, prompt: str, stream: bool) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The path, JSON body and headers of a request in ``fmt`` saying ``prompt``."""
    if fmt == "messages":
        body: dict[str, Any] = {"model": "local", "max_tokens": 256, "stream": stream,
                                "messages": [{"role": "user", "content": prompt}]}  # fmt: skip
        headers = {"x-api-key": PLACEHOLDER, "anthropic-version": "2023-06-01"}
        return "/v1/messages", body, headers
    bearer = {"Authorization": f"Bearer {PLACEHOLDER}"}
    if fmt == "responses":
        return "/v1/responses", {"model": "local", "input": prompt, "stream": stream}, bearer
    if fmt == "chat":
        body = {"model": "local", "stream": stream,
                "messages": [{"role": "user", "content": prompt}]}  # fmt: skip
        if stream:
            body["stream_options"] = {"include_usage": True}
        return "/v1/chat/completions", body, bearer
    verb = "streamGenerateContent?alt=sse&" if stream else "generateContent?"
    body = {"contents": [{"role": "user", "parts": [{"text": prompt}]}]}
    return f"/v1beta/models/local:{verb}key={PLACEHOLDER}", body, {"x-goog-api-key": PLACEHOLDER}
