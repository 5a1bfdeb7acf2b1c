"""Gemini generateContent and streamGenerateContent over raw HTTP, SSE parsed strictly."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from lmtest import GEMINI_TOOLS, post
from localmodel import LocalModel, Script, Step, Turn

KEY = "AIza-test-key-0123456789"


def url(model: LocalModel, method: str, name: str = "gemini-2.5-pro") -> str:
    """The endpoint of a model's method."""
    return f"{model.url}/v1beta/models/{name}:{method}"


def body(*contents: dict[str, Any], tools: bool = True) -> dict[str, Any]:
    """A request as Gemini CLI sends it."""
    request: dict[str, Any] = {
        "contents": list(contents),
        "systemInstruction": {"role": "user", "parts": [{"text": "You are an agent."}]},
    }
    return request | ({"tools": GEMINI_TOOLS} if tools else {})


def user(text: str) -> dict[str, Any]:
    """A user turn."""
    return {"role": "user", "parts": [{"text": text}]}


async def test_text_answer(model: LocalModel, session: aiohttp.ClientSession) -> None:
    model.script = Script((Turn("hello", (Step(text="hi from gemini"),)),))
    headers = {"x-goog-api-key": KEY}
    reply = await post(session, url(model, "generateContent"), body(user("hello")), headers)
    (candidate,) = reply.json["candidates"]
    assert candidate["content"] == {"role": "model", "parts": [{"text": "hi from gemini"}]}
    assert candidate["finishReason"] == "STOP"
    usage = reply.json["usageMetadata"]
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]
    assert reply.json["modelVersion"] == "gemini-2.5-pro"
    record = model.requests[0]
    assert record.headers["X-Goog-Api-Key"] == "[redacted]"
    assert record.sent_secret("x-goog-api-key", KEY) and KEY not in str(record.to_json())


async def test_a_streamed_shell_call_then_the_next_step(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    steps = (Step(text="Checking.", shell="npm test", chunk_chars=3), Step(text="Green."))
    model.script = Script((Turn("check", steps),))
    stream_url = url(model, "streamGenerateContent") + "?alt=sse&key=" + KEY
    reply = await post(session, stream_url, body(user("check the build")))
    events = reply.events
    assert all(e.name is None for e in events)
    parts = [p for e in events for p in e.data["candidates"][0]["content"]["parts"]]
    text = "".join(p.get("text", "") for p in parts)
    calls = [p["functionCall"] for p in parts if "functionCall" in p]
    assert text == "Checking." and len(events) == 4
    assert calls == [{"name": "run_shell_command", "args": {"command": "npm test"}}]
    finishes = [e.data["candidates"][0].get("finishReason") for e in events]
    assert finishes == [None, None, None, "STOP"]
    assert model.requests[0].query["key"] == "[redacted]"
    assert model.requests[0].sent_secret("?key", KEY)

    history = [
        user("check the build"),
        {"role": "model", "parts": [{"text": text}, {"functionCall": calls[0]}]},
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "run_shell_command", "response": {"output": "ok"}}}
            ],
        },
    ]
    second = await post(session, stream_url, body(*history))
    assert second.events[-1].data["candidates"][0]["content"]["parts"] == [{"text": "Green."}]


async def test_a_daily_quota_and_a_per_minute_limit(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    model.queue(Step.rate_limit(quota="day"), Step.rate_limit(retry_after=30))
    daily = await post(session, url(model, "generateContent"), body(user("x")))
    minute = await post(session, url(model, "streamGenerateContent") + "?alt=sse", body(user("x")))
    for reply in (daily, minute):
        error = reply.json["error"]
        assert reply.status == 429 and (error["code"], error["status"]) == (
            429,
            "RESOURCE_EXHAUSTED",
        )
        assert "exceeded your current quota" in error["message"]
    quota_ids = [r.json["error"]["details"][0]["violations"][0]["quotaId"] for r in (daily, minute)]
    assert "PerDay" in quota_ids[0] and "PerMinute" in quota_ids[1]
    retry = minute.json["error"]["details"][1]
    assert retry == {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "30s"}
    assert minute.headers["retry-after"] == "30" and "retry-after" not in daily.headers


async def test_server_errors_and_count_tokens(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    model.queue(Step.fail(500), Step.fail(503))
    internal = await post(session, url(model, "generateContent"), body(user("x")))
    unavailable = await post(session, url(model, "generateContent"), body(user("x")))
    assert internal.json["error"]["status"] == "INTERNAL" and internal.status == 500
    assert unavailable.json["error"]["status"] == "UNAVAILABLE"
    counted = await post(session, url(model, "countTokens"), body(user("y" * 80)))
    assert counted.json["totalTokens"] >= 20
    async with session.get(model.url + "/v1beta/models") as response:
        names = [m["name"] for m in (await response.json())["models"]]
    assert names == ["models/local", "models/other"]


async def test_no_contents_is_an_invalid_argument(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    reply = await post(session, url(model, "generateContent"), {"contents": "x"})
    assert reply.status == 400 and reply.json["error"]["status"] == "INVALID_ARGUMENT"


async def test_a_request_for_json_gets_a_value_of_its_schema(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    """Gemini CLI 0.61's model router asks, before each prompt, for a complexity score as JSON
    of a schema (no tools); plain text there made it retry for ever, "Thinking..."."""
    model.script = Script((Turn("say hello", (Step(text="hello"),)),))
    schema = {
        "type": "OBJECT",
        "properties": {
            "complexity_reasoning": {"type": "STRING", "description": "Brief explanation."},
            "complexity_score": {"type": "INTEGER", "description": "1-100."},
            "model": {"type": "STRING", "enum": ["flash", "pro"]},
        },
        "required": ["complexity_reasoning", "complexity_score"],
    }
    config = {"responseMimeType": "application/json", "responseJsonSchema": schema}
    request = body(user("say hello"), tools=False) | {"generationConfig": config}
    reply = await post(session, url(model, "generateContent", "gemini-3.5-flash-lite"), request)
    (part,) = reply.json["candidates"][0]["content"]["parts"]
    assert json.loads(part["text"]) == {
        "complexity_reasoning": "hello",
        "complexity_score": 1,
        "model": "flash",
    }
    assert model.requests[0].outcome == "turn step 1 (JSON asked: its schema's value): text 'hello'"
    plain = await post(session, url(model, "generateContent"), body(user("say hello")))
    assert plain.json["candidates"][0]["content"]["parts"] == [{"text": "hello"}]


async def test_the_prompt_is_without_gemini_clis_session_context(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    """Gemini CLI 0.61 sends its session context (date, folders) as a text part before the
    prompt, in the same user content."""
    context = "<session_context>\nThis is the Gemini CLI.\n- /work\n</session_context>"
    content = {"role": "user", "parts": [{"text": context}, {"text": "say hello"}]}
    await post(session, url(model, "streamGenerateContent") + "?alt=sse", body(content))
    assert model.requests[0].prompt == "say hello"
