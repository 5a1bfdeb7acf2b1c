"""The gateway with the official OpenAI client (its own httpx2 over the agent's socket, as a CLI's
client would reach its relay), an agent told apart by its socket only, and an answer the
client leaves before its end."""

from __future__ import annotations

import asyncio

import httpx2
import openai
from localmodel import Step

from automation.launch.gateway import UsageRecord, Vendor
from tests.gateway.rig import PLACEHOLDER, REAL_KEYS, Rig
from tests.gateway.wire import request


async def _records(rig: Rig, count: int) -> list[UsageRecord]:
    for _ in range(500):
        if len(rig.records) >= count:
            break
        await asyncio.sleep(0.01)
    assert len(rig.records) == count, rig.records
    return rig.records


async def test_the_openai_client_streams_with_usage(rig: Rig) -> None:
    transport = httpx2.AsyncHTTPTransport(uds=str(rig.routes[Vendor.OPENAI].socket))
    async with httpx2.AsyncClient(transport=transport) as http:
        client = openai.AsyncOpenAI(api_key=PLACEHOLDER, base_url="http://gateway/v1",
                                    http_client=http, max_retries=0)  # fmt: skip
        rig.model.queue(Step(text="streamed to the official client", input_tokens=321,
                             output_tokens=12))  # fmt: skip
        stream = await client.responses.create(model="local", input="hi", stream=True)
        usage = None
        async for event in stream:
            if event.type == "response.completed":
                usage = event.response.usage
        rig.model.queue(Step(text="chat", input_tokens=40, output_tokens=3))
        chat = await client.chat.completions.create(
            model="local", messages=[{"role": "user", "content": "hi"}], stream=True,
            stream_options={"include_usage": True},
        )  # fmt: skip
        async for _ in chat:
            pass
    assert usage is not None and usage.input_tokens == 321
    first, second = await _records(rig, 2)
    assert first.usage is not None and (first.usage.input, first.usage.output) == (321, 12)
    assert second.usage is not None and (second.usage.input, second.usage.output) == (40, 3)
    assert rig.model.requests[-1].sent_secret("authorization", f"Bearer {REAL_KEYS[Vendor.OPENAI]}")


async def test_the_agent_is_its_socket_not_what_it_says(rig: Rig) -> None:
    path, body, headers = request("chat", "hi", stream=False)
    headers |= {"X-Swarm-Agent": "anthropic", "User-Agent": "anthropic"}
    async with rig.client(Vendor.OPENAI).post(path, json=body, headers=headers) as answer:
        await answer.read()
    (record,) = await _records(rig, 1)
    assert record.agent == "openai" and record.vendor == "openai"


async def test_an_answer_left_early_is_an_incomplete_record(rig: Rig) -> None:
    rig.model.queue(Step(text="abcd" * 20, chunk_chars=4, chunk_delay=0.1, input_tokens=99))
    path, body, headers = request("messages", "slowly", stream=True)
    session = rig.client(Vendor.ANTHROPIC)
    async with session.post(path, json=body, headers=headers) as answer:
        got = b""
        while b"abcd" not in got:
            got += await answer.content.readany()
        answer.close()
    (record,) = await _records(rig, 1)
    assert not record.complete and record.streamed
    assert record.usage is not None and record.usage.input == 99  # message_start's, as sent
