"""OpenAI Responses (Codex's API) through the official openai client, unchanged."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import openai
import pytest
from lmtest import CODEX_TOOLS, post
from localmodel import LocalModel, Script, Step, Turn

ENVIRONMENT = "<environment_context>\n  <cwd>/work/app</cwd>\n</environment_context>"


def codex_input(prompt: str) -> list[dict[str, Any]]:
    """The input Codex sends: its environment context, then the prompt."""
    return [
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": ENVIRONMENT}],
        },
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]},
    ]


async def test_text_answer_non_streaming(model: LocalModel, oai: openai.AsyncOpenAI) -> None:
    model.script = Script((Turn("hello", (Step(text="hi from the model"),)),))
    response = await oai.responses.create(model="gpt-test", input="hello there")
    assert response.status == "completed" and response.output_text == "hi from the model"
    assert response.model == "gpt-test" and response.id.startswith("resp_")
    assert response.usage is not None and response.usage.total_tokens >= 2


async def test_streamed_text_events_through_the_clients_stream_helper(
    model: LocalModel, oai: openai.AsyncOpenAI
) -> None:
    text = "a streamed answer in several pieces"
    model.script = Script((Turn("stream", (Step(text=text, chunk_chars=4),)),))
    kinds: list[str] = []
    items: Any = codex_input("stream it")
    async with oai.responses.stream(model="gpt-test", input=items) as stream:
        async for event in stream:
            kinds.append(event.type)
        final = await stream.get_final_response()
    assert final.output_text == text
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds.count("response.output_text.delta") == 9
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert model.requests[0].prompt == "stream it"


async def test_a_shell_step_is_codexs_exec_command_then_the_next_step_answers(
    model: LocalModel, oai: openai.AsyncOpenAI
) -> None:
    extra = {"sandbox_permissions": "require_escalated"}
    turn = Turn("build", (Step(shell="make build", input=extra), Step(text="Built.")))
    model.script = Script((turn,))
    items: Any = codex_input("build it")
    tools: Any = CODEX_TOOLS
    stream = await oai.responses.create(model="gpt-test", input=items, tools=tools, stream=True)
    events: list[Any] = [event async for event in stream]
    sequence = [e.sequence_number for e in events]
    assert sequence == list(range(len(events)))
    deltas = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    done = [e for e in events if e.type == "response.output_item.done"]
    (call,) = [e.item for e in done]
    assert call.type == "function_call" and call.name == "exec_command"
    assert json.loads("".join(deltas)) == json.loads(call.arguments)
    assert json.loads(call.arguments) == {"cmd": "make build", **extra}
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.output[0].type == "function_call"

    items += [
        {
            "type": "function_call",
            "call_id": call.call_id,
            "name": call.name,
            "arguments": call.arguments,
        },
        {"type": "function_call_output", "call_id": call.call_id, "output": "ok"},
    ]
    second = await oai.responses.create(model="gpt-test", input=items, tools=tools)
    assert second.output_text == "Built."


async def test_an_mcp_tool_and_a_namespaced_tool(
    model: LocalModel, oai: openai.AsyncOpenAI
) -> None:
    model.queue(Step(tool="report", input={"status": "done"}), Step(tool="lookup"))
    namespace: Any = {
        "type": "namespace",
        "name": "mcp__docs__",
        "description": "docs",
        "tools": [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}],
    }
    tools: Any = CODEX_TOOLS
    first = await oai.responses.create(model="m", input="x", tools=tools)
    second = await oai.responses.create(model="m", input="x", tools=[namespace])
    call: Any = first.output[0]
    assert call.type == "function_call" and call.name == "mcp__swarm__report"
    assert json.loads(call.arguments) == {"status": "done"}
    spaced: Any = second.output[0]
    assert spaced.type == "function_call" and spaced.namespace == "mcp__docs__"


async def test_429_is_a_rate_limit_error_with_headers(
    model: LocalModel, oai: openai.AsyncOpenAI
) -> None:
    model.queue(Step.rate_limit(retry_after=7, reset_in=360))
    with pytest.raises(openai.RateLimitError) as caught:
        await oai.responses.create(model="m", input="x")
    error = caught.value
    assert error.code == "rate_limit_exceeded"
    assert "try again in 7s" in error.message
    headers = error.response.headers
    assert headers["retry-after"] == "7" and headers["x-ratelimit-reset-requests"] == "6m0s"
    assert headers["x-ratelimit-remaining-requests"] == "0"


async def test_a_spent_quota_and_a_server_error(model: LocalModel, oai: openai.AsyncOpenAI) -> None:
    model.queue(Step.rate_limit(quota="day"), Step.fail(500))
    with pytest.raises(openai.RateLimitError) as quota:
        await oai.responses.create(model="m", input="x")
    with pytest.raises(openai.InternalServerError) as failed:
        await oai.responses.create(model="m", input="x")
    assert (
        quota.value.code == "insufficient_quota"
        and "retry-after" not in quota.value.response.headers
    )
    assert failed.value.status_code == 500


async def test_a_body_without_input_is_refused(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    reply = await post(session, model.openai_url + "/responses", {"model": "m"})
    assert reply.status == 400 and reply.json["error"]["type"] == "invalid_request_error"
