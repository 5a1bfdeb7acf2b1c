"""OpenAI Chat Completions (Aider, opencode, swarm's planner) through the official client."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import openai
import pytest
from lmtest import OPENCODE_TOOLS, post
from localmodel import LocalModel, RecordedRequest, Script, Step, Turn


async def test_text_answer_and_models(model: LocalModel, oai: openai.AsyncOpenAI) -> None:
    model.script = Script((Turn("ping", (Step(text="pong", input_tokens=12, output_tokens=3),)),))
    answer = await oai.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "ping?"}]
    )
    assert answer.choices[0].message.content == "pong"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and (answer.usage.prompt_tokens, answer.usage.total_tokens) == (
        12,
        15,
    )
    models = await oai.models.list()
    assert [m.id for m in models.data] == ["local", "other"]


async def test_a_streamed_tool_call_arrives_in_pieces_and_assembles(
    model: LocalModel, oai: openai.AsyncOpenAI
) -> None:
    step = Step(text="Let me look.", shell="ls -la src", chunk_chars=5)
    model.script = Script((Turn("look", (step, Step(text="Found it."))),))
    messages: list[Any] = [{"role": "user", "content": "look around"}]
    tools: Any = OPENCODE_TOOLS
    stream = await oai.chat.completions.create(
        model="m",
        messages=messages,
        tools=tools,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    calls = [
        c.choices[0].delta.tool_calls for c in chunks if c.choices and c.choices[0].delta.tool_calls
    ]
    arguments = "".join(tc[0].function.arguments or "" for tc in calls if tc[0].function)
    assert text == "Let me look." and len(calls) > 2
    assert calls[0][0].id and calls[0][0].function and calls[0][0].function.name == "bash"
    assert json.loads(arguments) == {"command": "ls -la src", "description": "Run ls -la src"}
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "tool_calls" and set(finishes[:-1]) == {None}
    assert chunks[-1].choices == [] and chunks[-1].usage is not None

    messages += [
        {
            "role": "assistant",
            "content": text,
            "tool_calls": [
                {
                    "id": calls[0][0].id,
                    "type": "function",
                    "function": {"name": "bash", "arguments": arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": calls[0][0].id, "content": "main.py"},
    ]
    async with oai.chat.completions.stream(model="m", messages=messages, tools=tools) as second:
        final = await second.get_final_completion()
    assert final.choices[0].message.content == "Found it."


async def test_a_non_streamed_tool_call(model: LocalModel, oai: openai.AsyncOpenAI) -> None:
    model.queue(Step(tool="report", input={"status": "done"}))
    tools: Any = OPENCODE_TOOLS
    answer = await oai.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x"}], tools=tools
    )
    message = answer.choices[0].message
    assert answer.choices[0].finish_reason == "tool_calls" and message.content is None
    assert message.tool_calls is not None
    call = message.tool_calls[0]
    assert call.type == "function" and call.function.name == "swarm_report"


async def test_errors_with_their_statuses_and_headers(
    model: LocalModel, oai: openai.AsyncOpenAI
) -> None:
    model.queue(
        Step.fail(429, headers={"Retry-After": "3"}),
        Step.fail(401, "Incorrect API key provided: sk-te***"),
        Step.fail(503),
    )
    hello: Any = [{"role": "user", "content": "hello"}]
    with pytest.raises(openai.RateLimitError) as limited:
        await oai.chat.completions.create(model="m", messages=hello)
    with pytest.raises(openai.AuthenticationError) as refused:
        await oai.chat.completions.create(model="m", messages=hello)
    with pytest.raises(openai.InternalServerError) as down:
        await oai.chat.completions.create(model="m", messages=hello)
    assert limited.value.response.headers["retry-after"] == "3"
    assert refused.value.code == "invalid_api_key" and "sk-te***" in refused.value.message
    assert down.value.status_code == 503 and model.pending == 0


async def test_a_responder_answers_prompts_no_turn_matches(
    oai: openai.AsyncOpenAI, model: LocalModel
) -> None:
    def echo(request: RecordedRequest) -> Step:
        return Step(text=request.messages[-1]["content"].upper())

    model.player.responder = echo
    model.script = Script((Turn("scripted", (Step(text="from the script"),)),))
    hello: Any = [{"role": "user", "content": "ping"}]
    scripted: Any = [{"role": "user", "content": "scripted"}]
    echoed = await oai.chat.completions.create(model="m", messages=hello)
    matched = await oai.chat.completions.create(model="m", messages=scripted)
    assert echoed.choices[0].message.content == "PING"
    assert matched.choices[0].message.content == "from the script"


async def test_a_body_that_is_not_json_is_refused(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    async with session.post(model.openai_url + "/chat/completions", data=b"{oops") as response:
        body = await response.json()
    assert response.status == 400 and body["error"]["type"] == "invalid_request_error"
    assert model.requests[0].body == "{oops"


async def test_an_unknown_endpoint_is_a_recorded_404(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    reply = await post(session, model.url + "/v1/embeddings", {"input": "x"})
    assert (
        reply.status == 404
        and "localmodel has no POST /v1/embeddings" in reply.json["error"]["message"]
    )
    assert (model.requests[0].path, model.requests[0].status) == ("/v1/embeddings", 404)
