"""Planning against the real openai client and a local OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest
from localmodel import LocalModel, Step

from core.ai._errors import AINotConfigured, PlanRejected
from core.ai._settings import AISettings
from core.errors import InvalidState, NotFound
from core.formats.text import split_text
from core.models import TaskStatus
from core.planning import render_preview, render_progress
from core.service.ai import AIBook
from core.service.swarm import SwarmService
from tests.ai.conftest import VALID, ai_settings, count_rows, plan_reply, task

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(30)]


async def test_valid_plan_is_previewed_then_approved_in_one_batch(
    ai: AIBook, server: LocalModel, service: SwarmService
) -> None:
    server.queue(plan_reply(*VALID))
    plan = await ai.plans.draft("Make login robust", "", "alice")
    assert (plan.ref, plan.status, len(plan.items)) == ("P-1", "draft", 4)
    assert await count_rows(service, "tasks") == 0
    request = server.requests[0]
    assert request.body["response_format"] == {"type": "json_object"}
    assert request.body["model"] == "test-model"
    assert "Make login robust" in request.text and "integration" in request.text

    preview = render_preview(plan)
    assert preview.splitlines()[0] == "P-1 (draft, 4 tasks): Harden the login flow"
    assert "- a  [qa, high] Task a" in preview
    assert "  - b  [integration, normal] Task b" in preview
    assert "    - c  [web, low] Task c  (also after a)" in preview
    assert "\n- d  [data, normal] Task d" in preview

    ids = await ai.plans.approve("P-1", "alice")
    created = {t.id: t for t in await service.tasks.newest()}
    assert sorted(created) == sorted(ids)
    a, b, c, d = (created[i] for i in ids)
    assert (a.title, a.role, a.priority.name, a.status) == (
        "Task a",
        "qa",
        "high",
        TaskStatus.ready,
    )
    assert b.after == [a.id] and sorted(c.after) == [a.id, b.id] and d.after == []
    assert {t.plan_id for t in created.values()} == {"P-1"}
    assert b.status is TaskStatus.blocked and b.reason == f"waiting for {a.ref}"
    kinds = [e.kind for e in await service.history.last(50)]
    assert kinds.count("plan.created") == 1 and kinds.count("plan.approved") == 1
    assert (await ai.plans.get(1)).status == "approved"


async def test_progress_says_done_total_and_why_tasks_are_blocked(
    ai: AIBook, server: LocalModel, service: SwarmService
) -> None:
    server.queue(plan_reply(task("a", "qa"), task("b", "qa", ("a",))))
    plan = await ai.plans.draft("Tests", "", "alice")
    draft_view = render_progress(await ai.plans.progress(plan.id))
    assert draft_view.endswith("waiting for approval")
    a_id, b_id = await ai.plans.approve(plan.ref, "alice")
    await service.queue.assign_next()
    await service.tasks.complete(a_id, "Agent-4")
    progress = await ai.plans.progress("p-1")
    assert (progress.done, progress.total) == (1, 2)
    assert progress.blocked == []
    await service.queue.assign_next()
    await service.tasks.fail(b_id, "Agent-4", "flaky fixture")
    progress = await ai.plans.progress(1)
    assert [t.id for t in progress.blocked] == [b_id]
    text = render_progress(progress)
    assert text.startswith("P-1 approved: 1/2 done (50%)")
    assert f"T-{b_id} [failed] b: Task b (Agent-4): flaky fixture" in text
    assert progress.to_json()["blocked"][0]["reason"] == "flaky fixture"


async def test_invalid_answer_is_corrected_on_the_second_try(
    ai: AIBook, server: LocalModel, service: SwarmService
) -> None:
    bad = plan_reply(task("a", "wizard"), task("b", "qa", ("zz",), priority="asap"))
    server.queue(bad, plan_reply(task("a", "qa"), task("b", "qa", ("a",))))
    plan = await ai.plans.draft("Tests", "", "alice")
    assert [i.ref for i in plan.items] == ["a", "b"]
    assert len(server.requests) == 2
    retry = server.requests[1].messages
    assert retry[-2]["role"] == "assistant" and "wizard" in retry[-2]["content"]
    correction = retry[-1]["content"]
    assert "unknown role 'wizard'" in correction
    assert "invalid priority 'asap'" in correction
    assert "zz, which is not a ref of this plan" in correction
    assert await count_rows(service, "usage") == 2


async def test_two_invalid_answers_create_nothing(
    ai: AIBook, server: LocalModel, service: SwarmService
) -> None:
    server.queue(Step(text="not json at all"), plan_reply(task("a", "wizard")))
    with pytest.raises(PlanRejected, match=r"invalid twice, nothing was created: .*wizard"):
        await ai.plans.draft("Tests", "", "alice")
    assert "not valid JSON" in server.requests[1].messages[-1]["content"]
    for table in ("tasks", "plans", "task_deps", "events"):
        assert await count_rows(service, table) == 0, table


@pytest.mark.parametrize(
    "answer, reason",
    [
        (plan_reply(task("a", "qa", ("b",)), task("b", "qa", ("a",))), "dependency cycle: a -> b"),
        (plan_reply(task("a", "dev")), "unknown role 'dev'"),
        (plan_reply(*(task(str(i)) for i in range(30))), "30 tasks is too many: at most 20"),
        (plan_reply(task("a"), task("a")), "refs must be unique: a"),
        (plan_reply(task("a", title="two\nlines")), "title must be one line"),
        (Step.json({"tasks": []}), '"tasks" must be a non-empty list'),
    ],
)
async def test_invalid_plans_are_refused_and_nothing_is_created(
    ai: AIBook, server: LocalModel, service: SwarmService, answer: Step, reason: str
) -> None:
    server.queue(answer, answer)
    with pytest.raises(PlanRejected, match=reason):
        await ai.plans.draft("Tests", "", "alice")
    assert await count_rows(service, "tasks") == 0
    assert await count_rows(service, "plans") == 0
    assert reason.split(":")[0] in server.requests[1].messages[-1]["content"]


async def test_a_draft_is_approved_once_and_a_discarded_one_never(
    ai: AIBook, server: LocalModel, service: SwarmService
) -> None:
    server.queue(plan_reply(task("a")), plan_reply(task("a")))
    first = await ai.plans.draft("One", "", "alice")
    second = await ai.plans.draft("Two", "", "bob")
    await ai.plans.approve(first.ref, "alice")
    with pytest.raises(InvalidState, match="P-1 is already approved"):
        await ai.plans.approve(first.ref, "bob")
    await ai.plans.discard(second.ref, "bob")
    with pytest.raises(InvalidState, match="P-2 is already discarded"):
        await ai.plans.approve(second.ref, "bob")
    assert await count_rows(service, "tasks") == 1
    assert [p.ref for p in await ai.plans.list_plans()] == ["P-2", "P-1"]
    with pytest.raises(NotFound, match="unknown plan P-9"):
        await ai.plans.progress("P-9")
    with pytest.raises(NotFound, match="plan ids look like P-3"):
        await ai.plans.get("T-1")


async def test_long_context_is_bounded_and_said(service: SwarmService, server: LocalModel) -> None:
    settings = ai_settings(server, plan_max_context=1000)
    server.queue(plan_reply(task("a")))
    context = "finding: the cache is never invalidated\n" + "x" * 5000 + "TAIL-MARKER"
    async with AIBook(service, settings) as ai:
        plan = await ai.plans.draft("Fix the review findings", context, "alice")
    text = server.requests[0].text
    assert "the cache is never invalidated" in text and "TAIL-MARKER" not in text
    assert plan.notes == ("the context was cut from 5,051 to 1,000 characters",)
    assert "note: the context was cut" in render_preview(plan)


async def test_secrets_are_never_sent_in_prompts(ai: AIBook, server: LocalModel) -> None:
    server.queue(plan_reply(task("a")))
    leaked = "use key sk-test-0123456789abcdefghijklmnop and sk-otherKEY1234567890abcdef"
    await ai.plans.draft("Rotate keys", leaked, "alice")
    body = json.dumps(server.requests[0].body)
    assert "0123456789abcdefghijklmnop" not in body and "otherKEY" not in body
    assert "[redacted]" in body


async def test_planning_without_a_model_says_how_to_enable_it(service: SwarmService) -> None:
    async with AIBook(service, AISettings()) as ai:
        with pytest.raises(AINotConfigured, match=r"set OPENAI_API_KEY .* or OPENAI_BASE_URL"):
            await ai.plans.draft("Anything", "", "alice")
    assert await count_rows(service, "usage") == 0


def test_split_text_keeps_pieces_under_the_limit() -> None:
    text = "\n".join(f"line {i} " + "y" * 50 for i in range(100)) + "\n" + "z" * 4500
    pieces = split_text(text)
    assert all(len(p) <= 2000 for p in pieces)
    assert "".join(p.replace("\n", "") for p in pieces) == text.replace("\n", "")
    assert split_text("") == [""] and split_text("short") == ["short"]
