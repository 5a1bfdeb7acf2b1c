"""The strict check of a model's plan answer: any JSON in, a plan or a list of errors out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from localmodel import LocalModel, RecordedRequest, Step

from core.agents_file import load_agents
from core.context import Ctx
from core.planning._prompt import PlanLimits, check_answer, parse_answer
from core.settings import Settings, bundled_agents_file
from tests.ai.conftest import task

pytestmark = pytest.mark.timeout(60)
CTX = Ctx(
    {a.id: a for a in load_agents(bundled_agents_file())},
    Settings(home=Path("/nonexistent"), config_path=bundled_agents_file()),
    0.0,
    "test",
)
LIMITS = PlanLimits(max_tasks=5, max_title=200, max_text=8000, max_context=1000)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["summary", "tasks", "ref", "title", "details", "role", "priority", "after", "x"]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_gives_a_plan_or_errors_never_a_crash(value: Any) -> None:
    document, errors = check_answer(json.dumps(value), CTX, LIMITS)
    assert all(isinstance(e, str) and e for e in errors)
    if not errors:
        assert 1 <= len(document["tasks"]) <= LIMITS.max_tasks
        refs = {t["ref"] for t in document["tasks"]}
        assert all(set(t["after"]) <= refs for t in document["tasks"])


def test_a_valid_answer_is_normalized() -> None:
    answer = {
        "summary": "  Two\n steps ",
        "tasks": [task("a", priority="HIGH"), task("b", role=None, after=("a", "a"), details=None)],
    }
    fenced = f"```json\n{json.dumps(answer)}\n```"
    document, errors = check_answer(fenced, CTX, LIMITS)
    assert errors == []
    assert document["summary"] == "Two steps"
    a, b = document["tasks"]
    assert (a["priority"], b["role"], b["after"], b["details"]) == ("high", None, ["a"], "")


@pytest.mark.parametrize(
    "content, error",
    [
        ("", "the answer is empty"),
        ("[1, 2]", "must be a JSON object"),
        ('{"summary": "s", "tasks": [3]}', "task 1 must be an object"),
        ('{"tasks": [{"ref": "a", "title": "t"}]}', '"summary" must be a non-empty string'),
        ('{"summary": "s", "tasks": [{"ref": "a b", "title": "t"}]}', '"ref" must be at most'),
        ('{"summary": "s", "tasks": [{"ref": "a", "title": ""}]}', "title must not be empty"),
        (
            '{"summary": "s", "tasks": [{"ref": "a", "title": "t", "after": "b"}]}',
            '"after" must be a list',
        ),
        (
            '{"summary": "s", "tasks": [{"ref": "a", "title": "t", "after": ["a"]}]}',
            "cannot come after itself",
        ),
        (
            '{"summary": "s", "tasks": [{"ref": "a", "title": "t", "priority": 3}]}',
            '"priority" must be one of low, normal, high, urgent',
        ),
    ],
)
def test_errors_say_what_is_wrong(content: str, error: str) -> None:
    _, errors = check_answer(content, CTX, LIMITS)
    assert any(error in e for e in errors), errors


def test_parse_answer_reports_where_json_breaks() -> None:
    assert parse_answer('{"a": }')[1] == [
        "the answer is not valid JSON (Expecting value at line 1 column 7)"
    ]


@pytest.mark.timeout(15)
async def test_local_server_uses_its_responder_when_the_script_is_empty() -> None:
    import openai

    def echo(request: RecordedRequest) -> Step:
        return Step(text=request.messages[-1]["content"].upper())

    async with LocalModel(responder=echo) as server:
        client = openai.AsyncOpenAI(api_key="k", base_url=server.openai_url, max_retries=0)
        try:
            answer = await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "ping"}]
            )
            models = await client.models.list()
        finally:
            await client.close()
    assert answer.choices[0].message.content == "PING"
    assert answer.usage is not None and answer.usage.total_tokens >= 2
    assert [m.id for m in models.data] == ["local"]
