"""The usage each answer reported, recorded with its request and summed at /_localmodel/usage.

Every figure is read back from the answer as a client reads it (raw HTTP, strict SSE), so the
record is compared with what was sent, not with what the script asked for.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from lmtest import ANTHROPIC_HEADERS, Reply, post
from localmodel import AdminClient, LocalModel, Script, Step, Turn
from localmodel.usage import Usage

PROMPT = "count this please"


def _anthropic(reply: Reply, stream: bool) -> Usage:
    if not stream:
        usage = reply.json["usage"]
        output = usage["output_tokens"]
    else:
        events = {e.name: e.data for e in reply.events}
        usage = events["message_start"]["message"]["usage"]
        output = events["message_delta"]["usage"]["output_tokens"]
    return Usage(
        usage["input_tokens"],
        output,
        usage["cache_read_input_tokens"],
        usage["cache_creation_input_tokens"],
    )


def _responses(reply: Reply, stream: bool) -> Usage:
    body = reply.json if not stream else reply.events[-1].data["response"]
    usage = body["usage"]
    details = usage["input_tokens_details"]
    return Usage(
        usage["input_tokens"],
        usage["output_tokens"],
        details["cached_tokens"],
        details["cache_write_tokens"],
    )


def _chat(reply: Reply, stream: bool) -> Usage:
    usage = reply.json["usage"] if not stream else reply.events[-2].data["usage"]
    return Usage(usage["prompt_tokens"], usage["completion_tokens"])


def _gemini(reply: Reply, stream: bool) -> Usage:
    usage = reply.json["usageMetadata"] if not stream else reply.events[-1].data["usageMetadata"]
    return Usage(usage["promptTokenCount"], usage["candidatesTokenCount"])


def _call(
    api: str, model: LocalModel, stream: bool, prompt: str = PROMPT
) -> tuple[str, dict[str, Any]]:
    """The URL and body of a request in ``api``'s format."""
    if api == "anthropic":
        messages = [{"role": "user", "content": prompt}]
        return model.url + "/v1/messages", {"model": "claude-x", "max_tokens": 99,
                                            "messages": messages, "stream": stream}  # fmt: skip
    if api == "responses":
        return model.openai_url + "/responses", {"model": "gpt-x", "input": prompt,
                                                 "stream": stream}  # fmt: skip
    if api == "chat":
        body = {"model": "chat-x", "messages": [{"role": "user", "content": prompt}]}
        extra = {"stream": True, "stream_options": {"include_usage": True}} if stream else {}
        return model.openai_url + "/chat/completions", body | extra
    method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": prompt}]}]}
    return f"{model.url}/v1beta/models/gemini-x:{method}", body


READERS = {"anthropic": _anthropic, "responses": _responses, "chat": _chat, "gemini": _gemini}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("api", list(READERS))
async def test_each_answer_records_the_usage_it_reported(
    model: LocalModel, session: aiohttp.ClientSession, api: str, stream: bool
) -> None:
    """Estimated tokens (the script names none) and scripted ones, in each dialect's fields:
    the record holds what the client read from the answer."""
    model.script = Script(
        (Turn("scripted", (Step(text="ok", input_tokens=4321, output_tokens=87),)),)
    )
    url, body = _call(api, model, stream)
    reply = await post(session, url, body, ANTHROPIC_HEADERS)
    assert reply.status == 200
    (record,) = model.requests
    assert record.usage == READERS[api](reply, stream) and record.model is not None
    assert record.usage.input > 0 and record.usage.output > 0
    model.requests.clear()
    reply = await post(session, *_call(api, model, stream, "scripted"), ANTHROPIC_HEADERS)
    (record,) = model.requests
    cache = 0 if api in ("anthropic", "responses") else None
    assert record.usage == READERS[api](reply, stream) == Usage(4321, 87, cache, cache)


async def test_errors_report_no_usage_and_a_stream_only_what_it_sent(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    """A 429 reports none; a stalled Anthropic stream has reported its input and one output
    token (``message_start``), a stalled Responses stream nothing (its usage comes last); Chat
    streamed without ``include_usage`` reports none."""
    model.queue(Step.fail(429))
    url, body = _call("anthropic", model, stream=False)
    assert (await post(session, url, body, ANTHROPIC_HEADERS)).status == 429
    assert model.requests[-1].usage is None

    stall = Step(text="0123456789" * 3, chunk_chars=10, stall_after=1, input_tokens=500)
    for api, sent in (("anthropic", Usage(500, 1, 0, 0)), ("responses", None)):
        model.queue(stall)
        url, body = _call(api, model, stream=True)
        async with session.post(url, json=body, headers=ANTHROPIC_HEADERS) as response:
            received = b""
            while b"delta" not in received:
                received += await response.content.readany()
            await _stalled(model)
            assert model.requests[-1].usage == sent, api
            assert model.release() == 1
            await response.read()
        assert model.requests[-1].usage is not None and model.requests[-1].usage.output > 1

    url, body = _call("chat", model, stream=True)
    body["stream_options"] = {"include_usage": False}
    reply = await post(session, url, body)
    assert reply.status == 200 and "usage" not in reply.events[-2].data
    assert model.requests[-1].usage is None


async def test_the_usage_endpoint_sums_by_model_and_since(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    """Totals, per model and per request; ``since`` counts only later requests; a count of
    tokens or a 404 is no model request; a bad ``since`` is refused in one line."""
    model.queue(
        Step(text="a", input_tokens=10, output_tokens=1),
        Step(text="b", input_tokens=20, output_tokens=2),
        Step.fail(500),
        Step(text="c", input_tokens=40, output_tokens=4),
    )
    for api in ("anthropic", "anthropic", "chat", "chat"):
        url, body = _call(api, model, stream=False)
        await post(session, url, body, ANTHROPIC_HEADERS)
    await post(session, model.url + "/v1/messages/count_tokens", {"messages": []})
    await post(session, model.url + "/v1/nothing", {})
    admin = model.url + "/_localmodel/usage"
    async with session.get(admin) as r:
        usage = await r.json()
    assert usage["total"] == {"requests": 3, "unreported": 1, "input": 70, "output": 7,
                              "cache_read": 0, "cache_write": 0}  # fmt: skip
    assert usage["models"] == {
        "claude-x": {"requests": 2, "unreported": 0, "input": 30, "output": 3,
                     "cache_read": 0, "cache_write": 0},
        "chat-x": {"requests": 1, "unreported": 1, "input": 40, "output": 4,
                   "cache_read": None, "cache_write": None},
    }  # fmt: skip
    each = [(r["seq"], r["status"], r["usage"] and r["usage"]["input"]) for r in usage["requests"]]
    assert each == [(1, 200, 10), (2, 200, 20), (3, 500, None), (4, 200, 40)]
    later = await asyncio.to_thread(AdminClient(model.url).usage, 2)
    assert later["total"] == {"requests": 1, "unreported": 1, "input": 40, "output": 4,
                              "cache_read": None, "cache_write": None}  # fmt: skip
    assert model.requests[0].to_json()["usage"] == {"input": 10, "output": 1,
                                                    "cache_read": 0, "cache_write": 0}  # fmt: skip
    async with session.get(admin + "?since=x") as r:
        assert (r.status, await r.json()) == (400, {"error": "since must be a whole number"})


async def _stalled(model: LocalModel) -> None:
    for _ in range(1000):
        if model.status()["stalled"] == 1:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the stream never stalled")
