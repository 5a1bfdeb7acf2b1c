"""Usage from the wire: each model answer through the gateway gives one record whose tokens
are what localmodel counted for it, in the four wire formats, streamed and not; an answer
the gateway cannot read gives a record of unknown usage, never a guess."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web
from localmodel import LocalModel, Step

from automation.launch.gateway import UsageRecord, Vendor
from automation.launch.gateway._model import INLINE_JSON_BYTES
from automation.launch.gateway._usage import offers_tools
from tests.gateway.rig import Rig, Upstream
from tests.gateway.wire import FORMATS, VENDOR_OF, request

API_OF = {"messages": "anthropic-messages", "responses": "openai-responses",
          "chat": "openai-chat", "gemini": "gemini"}  # fmt: skip


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("fmt", FORMATS)
async def test_usage_equals_localmodels_count(rig: Rig, fmt: str, stream: bool) -> None:
    rig.model.queue(Step(text="a longer answer, streamed in pieces " * 3, input_tokens=1234,
                         output_tokens=56, chunk_chars=8))  # fmt: skip
    path, body, headers = request(fmt, "count me", stream)
    async with rig.client(VENDOR_OF[fmt]).post(path, json=body, headers=headers) as answer:
        assert answer.status == 200, await answer.text()
        await answer.read()
    record = await _one_record(rig)
    counted = rig.model.requests[-1].usage
    assert counted is not None and record.usage is not None
    assert (record.usage.input, record.usage.output) == (counted.input, counted.output)
    assert (record.usage.input, record.usage.output) == (1234, 56)
    assert record.usage.cache_read == (counted.cache_read or 0)
    assert record.usage.cache_write == (counted.cache_write or 0)
    assert (record.agent, record.vendor, record.api) == (
        VENDOR_OF[fmt].value, VENDOR_OF[fmt].value, API_OF[fmt],
    )  # fmt: skip
    assert record.model == "local" and record.status == 200
    assert record.streamed is stream and record.complete
    assert record.started <= record.ended


TOOLS = {  # one tool, as each wire format offers it
    "messages": [{"name": "bash", "description": "run", "input_schema": {"type": "object"}}],
    "responses": [{"type": "function", "name": "bash", "parameters": {"type": "object"}}],
    "chat": [{"type": "function", "function": {"name": "bash", "parameters": {"type": "object"}}}],
    "gemini": [{"functionDeclarations": [{"name": "bash", "parameters": {"type": "object"}}]}],
}


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_record_says_whether_its_request_offered_tools(rig: Rig, fmt: str) -> None:
    """A request of the agent's conversation offers tools; a CLI's side request (a title)
    offers none: each record says which, for the comparison with the CLI's own report."""
    for offered in (True, False):
        path, body, headers = request(fmt, "say hi", stream=True)
        if offered:
            body["tools"] = TOOLS[fmt]
        async with rig.client(VENDOR_OF[fmt]).post(path, json=body, headers=headers) as answer:
            assert answer.status == 200, await answer.text()
            await answer.read()
        record = await _one_record(rig)
        assert record.tools is offered and record.usage is not None
        rig.records.clear()


async def test_a_long_request_is_read_for_its_tools_too(rig: Rig) -> None:
    """A body longer than the gateway reads on its loop (``INLINE_JSON_BYTES``: a long
    conversation) is read in a thread, its record the same."""
    path, body, headers = request("messages", "x" * (INLINE_JSON_BYTES + 1), stream=True)
    body["tools"] = TOOLS["messages"]
    async with rig.client(VENDOR_OF["messages"]).post(path, json=body, headers=headers) as answer:
        assert answer.status == 200, await answer.text()
        await answer.read()
    record = await _one_record(rig)
    assert record.tools is True and record.usage is not None


def test_a_body_that_is_no_json_object_offers_tools_not_known() -> None:
    """Gemini's Code Assist wraps the request (``request.tools``); a body that is no JSON
    object, or empty tools, is read as it is."""
    wrapped = {"model": "m", "project": "p", "request": {"contents": [], "tools": TOOLS["gemini"]}}
    assert offers_tools(json.dumps(wrapped).encode()) is True
    assert offers_tools(b'{"tools": [], "messages": []}') is False
    assert offers_tools(b'{"request": "tools"}') is False
    for raw in (b"not json", b"[1, 2]", b"\xff\xfe", b'"tools"', b"[" * 100_000):
        assert offers_tools(raw) is None, raw


async def test_a_chat_stream_without_its_usage_chunk_is_unknown(rig: Rig) -> None:
    path, body, headers = request("chat", "say hi", stream=True)
    body.pop("stream_options")
    async with rig.client(Vendor.OPENAI).post(path, json=body, headers=headers) as answer:
        await answer.read()
    record = await _one_record(rig)
    assert rig.model.requests[-1].usage is None
    assert record.usage is None and record.complete


async def test_an_error_answer_is_unknown_usage(rig: Rig) -> None:
    rig.model.queue(Step.fail(529))
    path, body, headers = request("messages", "say hi", stream=False)
    async with rig.client(Vendor.ANTHROPIC).post(path, json=body, headers=headers) as answer:
        assert answer.status == 529
    record = await _one_record(rig)
    assert record.usage is None and record.status == 529


async def test_requests_that_are_no_model_answer_give_no_record(rig: Rig) -> None:
    async with rig.client(Vendor.OPENAI).get("/v1/models") as answer:
        assert answer.status == 200
    await asyncio.sleep(0.05)
    assert rig.records == []


BROKEN = {
    "not json": (b"this is not json", "application/json"),
    "json without usage": (b'{"type": "message", "model": "m"}', "application/json"),
    "usage of strings": (
        b'{"type": "message", "usage": {"input_tokens": "9", "output_tokens": "1"}}',
        "application/json",
    ),
    "negative tokens": (
        b'{"type": "message", "usage": {"input_tokens": -5, "output_tokens": -1}}',
        "application/json",
    ),
    "sse of garbage": (b"data: {nope\n\ndata: [DONE]\n\n", "text/event-stream"),
}


@pytest.mark.parametrize("case", BROKEN)
async def test_an_answer_it_cannot_read_is_unknown_usage(
    model: LocalModel, sockets: Path, case: str
) -> None:
    raw, content_type = BROKEN[case]
    upstream = Upstream(lambda: web.Response(body=raw, content_type=content_type))
    async with upstream as url, Rig(model, sockets, upstream=url) as rig:
        path, body, headers = request("messages", "say hi", stream=False)
        async with rig.client(Vendor.ANTHROPIC).post(path, json=body, headers=headers) as got:
            assert await got.read() == raw  # passed on as it came
        record = await _one_record(rig)
    assert record.usage is None


async def _one_record(rig: Rig) -> UsageRecord:
    for _ in range(500):
        if rig.records:
            break
        await asyncio.sleep(0.01)
    assert len(rig.records) == 1, rig.records
    return rig.records[0]
