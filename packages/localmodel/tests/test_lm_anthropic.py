"""Anthropic Messages over raw HTTP, SSE parsed strictly: text, tool use, errors, pacing."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
from lmtest import ANTHROPIC_HEADERS, CLAUDE_TOOLS, SseEvent, post
from localmodel import LocalModel, Script, Step, Turn

STREAM_ORDER_TEXT = [
    "message_start",
    "content_block_start",
    "ping",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
]


def request(
    prompt: Any, *, stream: bool = False, tools: bool = True, **extra: Any
) -> dict[str, Any]:
    """A Messages request with one user message (or the given list of messages)."""
    messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
    body = {"model": "claude-test", "max_tokens": 1024, "messages": messages, "stream": stream}
    return body | ({"tools": CLAUDE_TOOLS} if tools else {}) | extra


def collapse(names: list[str | None]) -> list[str | None]:
    """The event names with runs of deltas shown once."""
    out: list[str | None] = []
    for name in names:
        if not (out and name == out[-1] == "content_block_delta"):
            out.append(name)
    return out


def assemble(events: list[SseEvent]) -> list[dict[str, Any]]:
    """The content blocks a client builds from the stream (tool input parsed from its JSON)."""
    blocks: dict[int, dict[str, Any]] = {}
    partial: dict[int, str] = {}
    for event in events:
        assert event.name == event.data["type"], "the event name is the data's type"
        data = event.data
        if data["type"] == "content_block_start":
            blocks[data["index"]] = dict(data["content_block"])
        elif data["type"] == "content_block_delta":
            delta = data["delta"]
            if delta["type"] == "text_delta":
                blocks[data["index"]]["text"] += delta["text"]
            else:
                partial[data["index"]] = partial.get(data["index"], "") + delta["partial_json"]
    for index, text in partial.items():
        blocks[index]["input"] = json.loads(text)
    return [blocks[i] for i in sorted(blocks)]


async def test_text_answer_non_streaming(model: LocalModel, session: aiohttp.ClientSession) -> None:
    model.script = Script((Turn("say hi", (Step(text="hi there"),)),))
    reply = await post(session, model.url + "/v1/messages", request("please say hi"))
    assert reply.status == 200 and reply.headers["request-id"].startswith("req_")
    message = reply.json
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["id"].startswith("msg_") and message["model"] == "claude-test"
    assert message["content"] == [{"type": "text", "text": "hi there"}]
    assert (message["stop_reason"], message["stop_sequence"]) == ("end_turn", None)
    assert message["usage"]["input_tokens"] >= 1 and message["usage"]["output_tokens"] >= 1


async def test_streamed_text_events_in_order(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    text = "a streamed answer that takes several chunks"
    model.script = Script((Turn("stream", (Step(text=text, chunk_chars=5),)),))
    reply = await post(session, model.url + "/v1/messages", request("stream it", stream=True))
    events = reply.events
    assert collapse([e.name for e in events]) == STREAM_ORDER_TEXT
    start = events[0].data["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["input_tokens"] >= 1
    deltas = [e.data["delta"]["text"] for e in events if e.name == "content_block_delta"]
    assert len(deltas) == 9 and "".join(deltas) == text
    assert assemble(events) == [{"type": "text", "text": text}]
    final = events[-2].data
    assert final["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert final["usage"]["output_tokens"] >= 1


async def test_a_shell_step_is_claude_codes_bash_tool_then_the_next_step_answers(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    command = "git status && pytest -q tests/test_parser.py"
    turn = Turn("fix", (Step(text="Running the tests.", shell=command), Step(text="All fixed.")))
    model.script = Script((turn,))
    first = await post(session, model.url + "/v1/messages", request("fix the parser", stream=True))
    events = first.events
    text_block, tool_block = assemble(events)
    assert text_block == {"type": "text", "text": "Running the tests."}
    assert tool_block["type"] == "tool_use" and tool_block["name"] == "Bash"
    assert tool_block["input"] == {"command": command}
    assert tool_block["id"].startswith("toolu_")
    json_deltas = [e for e in events if e.name == "content_block_delta" and e.data["index"] == 1]
    assert len(json_deltas) > 2 and json_deltas[0].data["delta"]["partial_json"] == ""
    assert events[-2].data["delta"]["stop_reason"] == "tool_use"

    history = [
        {"role": "user", "content": "fix the parser"},
        {"role": "assistant", "content": [text_block, tool_block]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": tool_block["id"], "content": "1 passed"},
                {"type": "text", "text": "<system-reminder>todo list empty</system-reminder>"},
            ],
        },
    ]
    second = await post(session, model.url + "/v1/messages", request(history, stream=True))
    assert assemble(second.events) == [{"type": "text", "text": "All fixed."}]
    assert [r.outcome for r in model.requests] == [
        f"turn step 1: shell {command!r}",
        "turn step 2: text 'All fixed.'",
    ]
    assert [r.prompt for r in model.requests] == ["fix the parser"] * 2


async def test_an_mcp_tool_is_called_by_its_plain_name(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    step = Step(tool="report", input={"status": "done", "note": "merged"})
    model.script = Script((Turn("report", (step,)),))
    reply = await post(session, model.url + "/v1/messages", request("report please"))
    (block,) = reply.json["content"]
    assert block["name"] == "mcp__swarm__report"
    assert block["input"] == {"status": "done", "note": "merged"}
    assert reply.json["stop_reason"] == "tool_use"


async def test_a_tool_not_offered_is_said_in_the_answer(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    model.script = Script((Turn("go", (Step(tool="deploy"),)),))
    reply = await post(session, model.url + "/v1/messages", request("go"))
    (block,) = reply.json["content"]
    assert block["type"] == "text" and "no tool 'deploy' among the offered tools" in block["text"]
    assert "mcp__swarm__report" in block["text"]


async def test_a_side_request_without_tools_gets_text(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    model.script = Script((Turn("fix", (Step(shell="make test"),)),))
    reply = await post(session, model.url + "/v1/messages", request("fix it", tools=False))
    assert reply.json["content"] == [{"type": "text", "text": "ok"}]


async def test_claude_codes_context_blocks_are_not_the_prompt(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    model.script = Script((Turn("deploy", (Step(text="wrong"),)), Turn("say hi", (Step("hi"),))))
    content = [
        {"type": "text", "text": "<system-reminder>\nAs you answer, deploy...\n</system-reminder>"},
        {"type": "text", "text": "say hi", "cache_control": {"type": "ephemeral"}},
    ]
    reply = await post(
        session, model.url + "/v1/messages", request([{"role": "user", "content": content}])
    )
    assert reply.json["content"][0]["text"] == "hi"
    assert model.requests[0].prompt == "say hi"


async def test_429_carries_retry_after_and_every_reset_header(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    model.queue(Step.rate_limit(reset_in=90, retry_after=30, should_retry=False))
    before = time.time()
    reply = await post(session, model.url + "/v1/messages", request("hi"), ANTHROPIC_HEADERS)
    assert reply.status == 429
    assert reply.json["type"] == "error" and reply.json["error"]["type"] == "rate_limit_error"
    assert reply.json["error"]["message"]
    assert reply.headers["retry-after"] == "30" and reply.headers["x-should-retry"] == "false"
    for kind in ("requests", "tokens", "input-tokens", "output-tokens"):
        assert reply.headers[f"anthropic-ratelimit-{kind}-remaining"] == "0"
        assert int(reply.headers[f"anthropic-ratelimit-{kind}-limit"]) > 0
        reset = datetime.strptime(
            reply.headers[f"anthropic-ratelimit-{kind}-reset"], "%Y-%m-%dT%H:%M:%SZ"
        ).replace(tzinfo=UTC)
        assert 88 <= reset.timestamp() - before <= 92


async def test_500_and_529_are_api_and_overloaded_errors(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    model.queue(Step.fail(500), Step.fail(529, "Overloaded right now"))
    first = await post(session, model.url + "/v1/messages", request("hi"))
    second = await post(session, model.url + "/v1/messages", request("hi", stream=True))
    assert (first.status, first.json["error"]["type"]) == (500, "api_error")
    assert second.status == 529 and second.json["error"] == {
        "type": "overloaded_error",
        "message": "Overloaded right now",
    }
    assert "retry-after" not in first.headers and "x-should-retry" not in first.headers


async def test_a_failure_served_times_then_the_turn_goes_on_per_conversation(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    steps = (Step.rate_limit(times=2), Step(text="after the limit"))
    model.script = Script((Turn("work", steps),))
    url = model.url + "/v1/messages"
    statuses = [(await post(session, url, request("work now"))).status for _ in range(3)]
    other = await post(session, url, request("work later"))  # another conversation
    assert statuses == [429, 429, 200] and other.status == 429
    last = await post(session, url, request("work now"))
    assert last.json["content"][0]["text"] == "after the limit"


async def test_a_stream_stalls_mid_way_until_released(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    text = "0123456789" * 3
    model.script = Script((Turn("slow", (Step(text=text, chunk_chars=10, stall_after=2),)),))
    url = model.url + "/v1/messages"
    async with session.post(url, json=request("slow please", stream=True)) as response:
        received = b""
        while received.count(b"text_delta") < 2:
            received += await response.content.readany()
        await asyncio.sleep(0.5)
        received += await _available(response)
        assert received.count(b"text_delta") == 2 and b"message_stop" not in received
        assert model.status()["stalled"] == 1
        assert model.release() == 1
        received += await response.read()
    assert received.count(b"text_delta") == 3 and received.endswith(b'{"type":"message_stop"}\n\n')


async def test_a_delayed_answer_starts_when_released(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    """A step's ``delay`` holds the whole answer (not a byte sent) until it passes or a
    test releases it: a turn the test ends when it chooses, not after a fixed wait."""
    model.script = Script((Turn("later", (Step(text="at last", delay=60),)),))
    answer = asyncio.ensure_future(post(session, model.url + "/v1/messages", request("later")))
    while model.status()["stalled"] != 1:  # noqa: ASYNC110 (a count, no event to await)
        await asyncio.sleep(0.02)
    assert not answer.done()
    assert model.release() == 1
    said = await asyncio.wait_for(answer, 30)  # released, not after its 60 s
    assert said.status == 200 and said.json["content"][0]["text"] == "at last"


async def _available(response: aiohttp.ClientResponse) -> bytes:
    try:
        return await asyncio.wait_for(response.content.readany(), 0.2)
    except TimeoutError:
        return b""


async def test_a_slow_stream_waits_between_chunks(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    model.queue(Step(text="abcde", chunk_chars=1, chunk_delay=0.1))
    started = time.monotonic()
    reply = await post(session, model.url + "/v1/messages", request("x", stream=True))
    assert time.monotonic() - started >= 0.4
    assert assemble(reply.events) == [{"type": "text", "text": "abcde"}]


async def test_a_slow_stream_goes_on_at_once_when_released(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    """A release ends the pace of a stream under way (no stall counted): the rest of its
    chunks come at once, not 30 s later."""
    model.queue(Step(text="abcd", chunk_chars=1, chunk_delay=10))
    url = model.url + "/v1/messages"
    async with session.post(url, json=request("x", stream=True)) as response:
        received = b""
        while received.count(b"text_delta") < 1:
            received += await response.content.readany()
        assert model.release() == 0
        received += await asyncio.wait_for(response.read(), 5)
    assert received.count(b"text_delta") == 4 and received.endswith(b'{"type":"message_stop"}\n\n')


async def test_a_non_streaming_stall_delays_the_answer(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    model.queue(Step(text="late", stall_after=0, stall_for=0.3))
    started = time.monotonic()
    reply = await post(session, model.url + "/v1/messages", request("x"))
    assert time.monotonic() - started >= 0.3 and reply.json["content"][0]["text"] == "late"


async def test_a_stall_for_one_model_answers_another_models_request_at_once(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    """A side request to another model (Gemini CLI's router) is answered with no release;
    the request to the model named stalls until released."""
    step = Step(text="late", stall_after=0, model="main", times=1)
    model.script = Script((Turn("slow", (step,)),))
    side = await post(session, model.url + "/v1/messages", request("slow", model="router-lite"))
    assert side.json["content"][0]["text"] == "late" and model.pauses.stalled == 0
    url = model.url + "/v1/messages"
    main = asyncio.create_task(post(session, url, request("slow", model="main-model")))
    while model.pauses.stalled == 0:
        assert not main.done()
        await asyncio.sleep(0.01)
    assert model.pauses.release() == 1
    assert (await main).json["content"][0]["text"] == "late"


async def test_count_tokens_and_models(model: LocalModel, session: aiohttp.ClientSession) -> None:
    body = {"model": "claude-test", "messages": [{"role": "user", "content": "x" * 400}]}
    counted = await post(session, model.url + "/v1/messages/count_tokens", body)
    assert counted.status == 200 and counted.json["input_tokens"] >= 100
    async with session.get(model.url + "/v1/models", headers=ANTHROPIC_HEADERS) as response:
        listing = await response.json()
    assert [m["id"] for m in listing["data"]] == ["local", "other"]
    assert listing["data"][0]["type"] == "model" and listing["has_more"] is False
    assert len(model.requests) == 2  # count_tokens and models are recorded, not scripted


async def test_a_body_without_messages_is_an_invalid_request(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    reply = await post(session, model.url + "/v1/messages", {"model": "m"})
    assert reply.status == 400 and reply.json["error"]["type"] == "invalid_request_error"
    assert model.requests[0].status == 400


async def test_after_an_api_error_the_latest_block_is_the_prompt(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    # Claude Code 2.1.328 sends a prompt that got an API error again, as an earlier block of the
    # next prompt's message: [{"text": "limit me\n"}, {"text": "fail me"}]
    model.script = Script(
        (Turn("limit me", (Step.rate_limit(),)), Turn("fail me", (Step(text="failing"),)))
    )
    content = [{"type": "text", "text": "limit me\n"}, {"type": "text", "text": "fail me"}]
    message = [{"role": "user", "content": content}]
    reply = await post(session, model.url + "/v1/messages", request(message))
    assert reply.status == 200 and model.requests[0].prompt == "fail me"


DEFERRED_NOTE = (
    "The following deferred tools are now available via ToolSearch. Their schemas are NOT "
    'loaded. Use ToolSearch with query "select:<name>[,<name>...]" to load tool schemas '
    "before calling them:\nCronCreate\nWebFetch\nmcp__swarm__report\n\nAvailable agent types"
)
TOOL_SEARCH = {
    "name": "ToolSearch",
    "input_schema": {
        "type": "object",
        "properties": {"query": {"type": "string"}, "max_results": {"type": "number"}},
        "required": ["query", "max_results"],
    },
}


async def test_a_deferred_mcp_tool_is_loaded_through_toolsearch_first(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    # As Claude Code 2.1.328 does it: MCP tools named in a system message, their schemas sent
    # once ToolSearch has loaded them (the tool_result holds a tool_reference).
    steps = (Step(tool="report", input={"status": "done"}), Step(text="Reported."))
    model.script = Script((Turn("report", steps),))
    bash, _read, report = CLAUDE_TOOLS
    history: list[dict[str, Any]] = [
        {"role": "user", "content": [{"type": "text", "text": "report done"}]},
        {"role": "system", "content": DEFERRED_NOTE},
    ]
    url = model.url + "/v1/messages"
    first = await post(session, url, request(history, tools=False) | {"tools": [bash, TOOL_SEARCH]})
    (search,) = first.json["content"]
    assert (search["name"], search["input"]) == (
        "ToolSearch",
        {"query": "select:mcp__swarm__report", "max_results": 5},
    )
    history += [
        {"role": "assistant", "content": [search]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": search["id"],
                    "content": [{"type": "tool_reference", "tool_name": "mcp__swarm__report"}],
                },
                {"type": "text", "text": "Tool loaded."},
            ],
        },
    ]
    tools = [bash, TOOL_SEARCH, {**report, "defer_loading": True}]
    second = await post(session, url, request(history, tools=False) | {"tools": tools})
    (call,) = second.json["content"]
    assert (call["name"], call["input"]) == ("mcp__swarm__report", {"status": "done"})
    history += [
        {"role": "assistant", "content": [call]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "ok"}],
        },
    ]
    third = await post(session, url, request(history, tools=False) | {"tools": tools})
    assert third.json["content"] == [{"type": "text", "text": "Reported."}]
    assert [r.outcome for r in model.requests] == [
        "turn step 1 (loading mcp__swarm__report): tool report",
        "turn step 1: tool report",
        "turn step 2: text 'Reported.'",
    ]
