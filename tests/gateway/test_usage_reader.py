"""The usage reader on the vendors' documented answers with cache and thinking counts (which
localmodel does not send): each normalized to uncached input, output, cache read and write;
bytes split anywhere, including inside an event, read the same."""

from __future__ import annotations

import json
from typing import Any

import pytest

from automation.launch.gateway._usage import Api, UsageReader, api_of
from core.costs.usage import Usage


def _sse(*events: dict[str, Any]) -> bytes:
    return b"".join(
        f"event: {e.get('type', 'x')}\r\ndata: {json.dumps(e)}\r\n\r\n".encode() for e in events
    )


ANTHROPIC_STREAM = _sse(
    {"type": "message_start", "message": {"model": "claude-sonnet-4-5", "usage": {
        "input_tokens": 12, "cache_creation_input_tokens": 3000,
        "cache_read_input_tokens": 20000, "output_tokens": 1}}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
     "usage": {"output_tokens": 456}},
    {"type": "message_stop"},
)  # fmt: skip
RESPONSE = {"object": "response", "model": "gpt-5-codex", "usage": {
    "input_tokens": 5000, "input_tokens_details": {"cached_tokens": 4096},
    "output_tokens": 300, "output_tokens_details": {"reasoning_tokens": 200}}}  # fmt: skip
RESPONSES_JSON = json.dumps(RESPONSE).encode()
CHAT_STREAM = (
    b'data: {"model": "gpt-4.1", "choices": [{"delta": {"content": "hi"}}], "usage": null}\n\n'
    b'data: {"model": "gpt-4.1", "choices": [], "usage": {"prompt_tokens": 2000, '
    b'"completion_tokens": 7, "prompt_tokens_details": {"cached_tokens": 1024}}}\n\n'
    b"data: [DONE]\n\n"
)
GEMINI_STREAM = (
    b'data: {"candidates": [{"content": {"parts": [{"text": "a"}]}}], "usageMetadata": '
    b'{"promptTokenCount": 900}, "modelVersion": "gemini-2.5-pro"}\r\n\r\n'
    b'data: {"candidates": [{"content": {"parts": [{"text": "b"}]}, "finishReason": "STOP"}], '
    b'"usageMetadata": {"promptTokenCount": 900, "cachedContentTokenCount": 800, '
    b'"candidatesTokenCount": 30, "thoughtsTokenCount": 70}, "modelVersion": "gemini-2.5-pro"}'
    b"\r\n\r\n"
)
GEMINI_ARRAY = json.dumps([
    {"candidates": [], "usageMetadata": {"promptTokenCount": 50}, "modelVersion": "gemini-x"},
    {"candidates": [], "usageMetadata": {"promptTokenCount": 50, "candidatesTokenCount": 5}},
]).encode()  # fmt: skip
CASES = {
    "anthropic stream": (Api.MESSAGES, True, ANTHROPIC_STREAM, "claude-sonnet-4-5",
                         Usage(12, 456, 20000, 3000)),
    "responses json": (Api.RESPONSES, False, RESPONSES_JSON, "gpt-5-codex",
                       Usage(904, 300, 4096, 0)),
    "chat stream": (Api.CHAT, True, CHAT_STREAM, "gpt-4.1", Usage(976, 7, 1024, 0)),
    "gemini stream": (Api.GEMINI, True, GEMINI_STREAM, "gemini-2.5-pro", Usage(100, 100, 800, 0)),
    "gemini array": (Api.GEMINI, False, GEMINI_ARRAY, "gemini-x", Usage(50, 5, 0, 0)),
}  # fmt: skip


@pytest.mark.parametrize("split", [1, 7, 10_000])
@pytest.mark.parametrize("case", CASES)
def test_read_and_normalized(case: str, split: int) -> None:
    api, streamed, raw, model, usage = CASES[case]
    reader = UsageReader(api, streamed)
    for at in range(0, len(raw), split):
        reader.feed(raw[at : at + split])
    assert reader.result() == (model, usage)


def test_an_sse_line_too_long_is_unknown() -> None:
    reader = UsageReader(Api.CHAT, True)
    reader.feed(b"data: " + b"x" * (9 * 1024 * 1024))
    reader.feed(CHAT_STREAM)
    assert reader.result() == (None, None)


@pytest.mark.parametrize(
    ("path", "api"),
    [("/v1/messages", Api.MESSAGES), ("/v1/messages/count_tokens", None),
     ("/v1/responses", Api.RESPONSES), ("/openai/v1/chat/completions", Api.CHAT),
     ("/v1beta/models/gemini-2.5-pro:streamGenerateContent", Api.GEMINI),
     ("/v1beta/models/x:countTokens", None), ("/v1/models", None)],
)  # fmt: skip
def test_which_requests_are_model_answers(path: str, api: Api | None) -> None:
    assert api_of(path) is api
