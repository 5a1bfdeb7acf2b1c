"""Scripts: their file forms, their one-line errors, matching, and control over HTTP."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from lmtest import post
from localmodel import (
    LocalModel,
    Script,
    ScriptError,
    Step,
    Turn,
    load_script,
    parse_script,
    parse_script_text,
)

TOML = """
default = [{ fail = 529, message = "busy" }]

[[turns]]
match = "say hi"
text = "hi"

[[turns]]
regex = "^run (tests|lint)$"
steps = [
    { shell = "make test", chunk_delay = 0.05 },
    { rate_limit = true, retry_after = 30, times = 1 },
    { text = "done" },
]

[[turns]]
match = "freeze"
steps = [{ text = "thinking hard", stall_after = 1 }]
"""


def test_a_toml_file_and_its_json_form_are_the_same_script(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(TOML)
    script = load_script(path)
    assert [t.match for t in script.turns] == ["say hi", "^run (tests|lint)$", "freeze"]
    shell, limit, _done = script.turns[1].steps
    assert (shell.shell, shell.chunk_delay) == ("make test", 0.05)
    assert (limit.status, limit.retry_after, limit.times) == (429, 30, 1)
    assert script.default == (Step.fail(529, "busy"),)
    (tmp_path / "agent.json").write_text(__import__("json").dumps(script.to_json()))
    assert load_script(tmp_path / "agent.json") == script


def test_turns_match_in_order_by_substring_or_regex_with_a_default() -> None:
    script = parse_script_text(TOML, toml=True)
    assert script.steps_for("please say hi now")[0].text == "hi"
    assert script.steps_for("run tests")[0].shell == "make test"
    assert script.steps_for("run tests now") == script.default
    assert Script().steps_for("anything")[0].text.startswith("localmodel: the script has no step")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"turns": [{"match": "x", "txt": "y"}]}, "turn 'x': unknown key 'txt' (known: "),
        ({"turns": [{"text": "y"}]}, "turn 1: give exactly one of 'match' (substring) or 'regex'"),
        ({"turns": [{"regex": "(", "text": "y"}]}, "turn '(': bad regular expression: "),
        ({"turns": [{"match": "x", "steps": []}]}, "turn 'x': steps must be a non-empty list"),
        ({"turns": [{"match": "x", "steps": [{"fail": 500, "text": "y"}]}]},
         "turn 'x', step 1: a failure (status 500) has no text or tool call"),
        ({"turns": [{"match": "x", "chunk_delay": "slow"}]},
         "turn 'x': chunk_delay must be a number of seconds, got str"),
        ({"turns": [{"match": "x", "times": 0, "fail": 500}]},
         "turn 'x': times must be at least 1"),
        ({"turns": [{"match": "x", "rate_limit": "yes"}]}, "turn 'x': rate_limit must be true"),
        ({"default": [{"quota": "week", "fail": 429}]},
         "default, step 1: quota must be 'minute' or 'day'"),
        ({"default": [{"model": "pro", "text": "y"}]},
         "default, step 1: model names whose requests a failure or a stall is for: add fail "
         "or stall_after"),
        ({"steps": []}, "unknown script keys: steps (turns, default)"),
        ([], "a script is a table/object, got list"),
    ],
)  # fmt: skip
def test_a_bad_script_is_refused_in_one_line_naming_the_place(data: object, message: str) -> None:
    with pytest.raises(ScriptError) as caught:
        parse_script(data)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_a_bad_file_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{nope")
    with pytest.raises(ScriptError, match=r"^.*s\.json: not valid JSON: "):
        load_script(path)
    with pytest.raises(ScriptError, match=r"missing\.toml: No such file"):
        load_script(tmp_path / "missing.toml")


async def test_the_script_is_set_and_read_over_http(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    admin = model.url + "/_localmodel"
    async with session.put(
        admin + "/script", data=TOML, headers={"Content-Type": "application/toml"}
    ) as r:
        assert (r.status, await r.json()) == (200, {"turns": 3})
    async with session.get(admin + "/script") as r:
        assert parse_script(await r.json()) == parse_script_text(TOML, toml=True)
    async with session.put(admin + "/script", json={"turns": [{"match": "x"}]}) as r:
        assert r.status == 400
        assert (await r.json())["error"] == (
            "script: turn 'x': the step says nothing: give text, shell, tool, fail or rate_limit"
        )
    assert len(model.script.turns) == 3  # a refused script leaves the old one
    message = {"model": "m", "messages": [{"role": "user", "content": "say hi"}]}
    reply = await post(session, model.url + "/v1/chat/completions", message)
    assert reply.json["choices"][0]["message"]["content"] == "hi"


async def test_requests_are_listed_with_secrets_withheld_and_steps_queued_over_http(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    admin = model.url + "/_localmodel"
    async with session.post(admin + "/queue", json={"steps": [{"text": "one"}, "two"]}) as r:
        assert await r.json() == {"pending": 2}
    async with session.post(admin + "/queue", json={"steps": [{"bogus": 1}]}) as r:
        assert r.status == 400 and "step 1: unknown key 'bogus'" in (await r.json())["error"]
    body = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}
    secret = {"Authorization": "Bearer sk-secret-123", "X-Trace": "t1"}
    answers = [
        await post(session, model.openai_url + "/chat/completions", body, secret) for _ in "ab"
    ]
    assert [a.json["choices"][0]["message"]["content"] for a in answers] == ["one", "two"]
    async with session.get(admin + "/requests?since=1") as r:
        listed = (await r.json())["requests"]
    assert [x["seq"] for x in listed] == [2]
    (second,) = listed
    assert (
        second["headers"]["Authorization"] == "[redacted]" and second["headers"]["X-Trace"] == "t1"
    )
    assert second["body"] == body and second["prompt"] == "hello" and second["api"] == "chat"
    assert second["outcome"] == "queued: text 'two'" and second["status"] == 200
    assert "sk-secret-123" not in str(listed)
    assert model.requests[1].sent_secret("authorization", "Bearer sk-secret-123")
    assert not model.requests[1].sent_secret("authorization", "Bearer other")
    async with session.delete(admin + "/requests") as r:
        assert await r.json() == {"cleared": 2}
    async with session.get(admin + "/requests?since=x") as r:
        assert r.status == 400
    assert model.requests == []


async def test_replacing_the_script_restarts_the_failure_counts(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    limited = Script((Turn("x", (Step.rate_limit(times=1), Step(text="after"))),))
    model.script = limited
    message = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    url = model.openai_url + "/chat/completions"
    first, second = [(await post(session, url, message)).status for _ in "ab"]
    model.script = limited
    third = (await post(session, url, message)).status
    assert (first, second, third) == (429, 200, 429)


async def test_a_failure_for_one_model_lets_the_others_through(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    """A per-model quota (Gemini CLI's router asks gemini-*-flash-lite, then the chosen model
    answers): only the requests to a model whose name contains ``model`` get the failure."""
    model.script = Script((Turn("x", (Step.rate_limit(model="8-flash"), Step(text="ok"))),))
    url = model.url + "/v1beta/models/{}:generateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": "x"}]}]}
    router = await post(session, url.format("gemini-3.5-flash-lite"), body)
    chosen = await post(session, url.format("gemini-3.8-flash"), body)
    assert (router.status, chosen.status) == (200, 429)
    outcomes = [r.outcome for r in model.requests]
    assert outcomes == ["turn step 2: text 'ok'", "turn step 1: fail 429"]


async def test_wait_for_sees_past_and_coming_requests(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    message = {"model": "m", "messages": [{"role": "user", "content": "first"}]}
    await post(session, model.openai_url + "/chat/completions", message)
    assert (await model.wait_for(lambda r: r.prompt == "first")).seq == 1
    with pytest.raises(TimeoutError, match=r"no matching request within 0\.2 s"):
        await model.wait_for(lambda r: r.prompt == "never", within=0.2)


HOSTILE: list[object] = [
    None,
    [],
    "text",
    {"messages": [None, 3, "x", {"role": "user", "content": [None, {"type": "text"}]}]},
    {"messages": [{"role": "user", "content": {"nested": True}}], "tools": "Bash", "system": 5},
    {"messages": [], "tools": [None, {"name": 3}, {"function": "x"}], "functions": 7},
    {"input": [None, {"type": "message", "role": "user", "content": [3, {"text": None}]}]},
    {"input": "x", "tools": [{"type": "namespace", "tools": "no"}, {"name": None}]},
    {"contents": [None, {"role": "user", "parts": "no"}, {"parts": [{"text": 5}]}]},
    {"contents": [], "tools": [{"functionDeclarations": "no"}, 5], "systemInstruction": 3},
]
ENDPOINTS = [
    "/v1/messages",
    "/v1/messages/count_tokens",
    "/v1/responses",
    "/v1/chat/completions",
    "/v1beta/models/g:generateContent",
    "/v1beta/models/g:streamGenerateContent",
    "/v1beta/models/g:countTokens",
]


async def test_hostile_bodies_get_an_answer_or_a_400_never_a_crash(
    model: LocalModel, session: aiohttp.ClientSession
) -> None:
    model.script = Script((Turn("", (Step(shell="ls"),)),))
    statuses = set()
    for path in ENDPOINTS:
        for body in HOSTILE:
            reply = await post(session, model.url + path, body)
            statuses.add(reply.status)
            assert reply.status in (200, 400), (path, body, reply.raw[:200])
    assert statuses == {200, 400} and len(model.requests) == len(ENDPOINTS) * len(HOSTILE)
