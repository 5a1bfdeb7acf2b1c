"""Summaries: the period's numbers, a model's narrative, and the plain fallback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from localmodel import LocalModel, Step

from core.agents import _alerts as alerts
from core.ai._settings import AISettings
from core.errors import InvalidInput
from core.models import TaskSpec
from core.protocols import ManualClock
from core.reports.summary import parse_period
from core.service.ai import AIBook
from core.service.swarm import SwarmService
from tests.ai.conftest import RecordingSleep, ai_settings
from tests.inbox.test_inbox import fail_delivery

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(30)]


async def busy_day(service: SwarmService, clock: ManualClock) -> None:
    """Agent-4 finishes one task and fails one, Agent-1 stalls on one, one task is blocked."""
    done = await service.tasks.create(TaskSpec("Write tests", role="qa"), "alice")
    await service.queue.assign_next()
    clock.advance(600)
    await service.tasks.complete(done.id, "Agent-4")
    failing = await service.tasks.create(TaskSpec("Fix flaky CI", role="qa"), "alice")
    await service.tasks.create(TaskSpec("Release", role="qa", after=(failing.id,)), "alice")
    await service.queue.assign_next()
    await service.tasks.fail(failing.id, "Agent-4", "runner is down")
    stalled = await service.tasks.create(TaskSpec("Build API", role="integration"), "alice")
    await service.queue.assign_next()
    await service.tasks.start(stalled.id, "Agent-1")
    clock.advance(7200)


async def test_without_a_model_the_plain_numbers_are_posted_and_said(
    service: SwarmService, clock: ManualClock
) -> None:
    await busy_day(service, clock)
    async with AIBook(service, AISettings()) as ai:
        summary = await ai.summaries.summarize("1d")
    assert not summary.narrative and summary.note == "no model configured"
    first, *rest = summary.text.splitlines()
    assert first.startswith("No AI model is configured, so here are the plain numbers")
    text = "\n".join(rest)
    assert "tasks: 4 created, 1 done, 1 failed, 0 cancelled, 0 reopened" in text
    assert "0 retried; 10 min from creation to done" in text
    assert "per agent: Agent-4 1 done, 1 failed" in text
    assert "stalled: T-4 Build API (Agent-1, 2.0 h without a report)" in text
    assert "blocked (1): T-3 Release: dependency T-2 failed" in text
    assert "needs attention: nothing (swarm inbox is empty)" in text
    stats = summary.stats
    assert stats["per_agent"] == {"Agent-4": {"done": 1, "failed": 1}}
    assert stats["avg_minutes_to_done"] == {"from_creation": 10.0, "from_start": 10.0}


async def test_with_a_model_the_narrative_is_written_from_the_facts(
    service: SwarmService, clock: ManualClock, server: LocalModel, sleep: RecordingSleep
) -> None:
    await busy_day(service, clock)
    server.queue(Step(text="  T-1 done. T-2 failed: runner is down. @everyone look  "))
    async with AIBook(service, ai_settings(server), sleep) as ai:
        summary = await ai.summaries.summarize("12h", actor="daily")
        usage = await ai.usage()
    assert summary.narrative and summary.note is None
    assert summary.text == "T-1 done. T-2 failed: runner is down. @\u200beveryone look"
    (request,) = server.requests
    assert request.messages[0]["role"] == "system" and "which agent needs" in request.text
    facts = request.messages[1]["content"]
    assert "Period: the last 12h" in facts
    assert "task.failed: T-2 failed: runner is down" in facts
    payload = json.loads(facts.split("Facts (JSON):\n")[1].split("\nNotable events")[0])
    assert payload["attention"] == {"count": 0, "kinds": {}, "oldest": []}
    assert usage["by_purpose"][0]["purpose"] == "summary"


async def test_a_failing_model_falls_back_to_the_numbers(
    service: SwarmService, clock: ManualClock, server: LocalModel, sleep: RecordingSleep
) -> None:
    await busy_day(service, clock)
    server.queue(*(Step.fail(503) for _ in range(3)))
    async with AIBook(service, ai_settings(server), sleep) as ai:
        summary = await ai.summaries.summarize()
    assert not summary.narrative
    assert summary.text.startswith(
        "No written summary: the model server failed (HTTP 503, 3 tries): try again later.\n"
    )
    assert "per agent: Agent-4 1 done, 1 failed" in summary.text


async def test_past_the_budget_the_numbers_are_posted(
    service: SwarmService, server: LocalModel, sleep: RecordingSleep
) -> None:
    async with AIBook(service, ai_settings(server, budget_usd=0.0), sleep) as ai:
        summary = await ai.summaries.summarize("1w")
    assert "budget of $0.00 is used up" in summary.text and server.requests == []
    assert "tasks: 0 created, 0 done, 0 failed, 0 cancelled" in summary.text


@pytest.mark.parametrize(
    "text, seconds", [("30m", 1800), ("12h", 43_200), ("1d", 86_400), ("2W", 1_209_600)]
)
def test_periods(text: str, seconds: float) -> None:
    assert parse_period(text) == seconds


@pytest.mark.parametrize("text", ["", "1y", "0d", "32d", "soon"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="period"):
        parse_period(text)


async def test_needs_attention_is_the_needs_you_queue(
    service: SwarmService, clock: ManualClock
) -> None:
    """Issue 41, item 1: the summary's "needs attention" is what ``swarm inbox`` lists: how
    many, per kind, and the oldest items (a stalled agent, a delivery failed for good)."""
    await service.store.write(
        "watch", alerts.open_alert, "Agent-1", alerts.STALLED, "Agent-1 stalled"
    )
    clock.advance(600)
    failed = await fail_delivery(service, "Agent-3", "please rebase")
    clock.advance(60)
    async with AIBook(service, AISettings()) as ai:
        summary = await ai.summaries.summarize("1d")
    refs = [n.ref for n in await service.inbox.needs()]
    assert refs == ["A-1", f"D-{failed}"]
    assert summary.stats["attention"]["count"] == len(refs)
    assert summary.stats["attention"]["kinds"] == {"alert": 1, "undelivered": 1}
    line = next(x for x in summary.text.splitlines() if x.startswith("needs attention"))
    assert line == (
        "needs attention: 2 (1 alert, 1 undelivered); oldest: A-1 alert (Agent-1, 11 min): "
        f"Agent-1 stalled; D-{failed} undelivered (Agent-3, 1 min): message to Agent-3 failed "
        "after 1 attempt(s): window gone: 'please rebase'"
    )


async def test_the_summary_says_what_each_campaign_cost_unknown_never_as_zero(
    service: SwarmService, tmp_path: Path
) -> None:
    """Issue 51: the summary names the campaigns whose tasks had turns in the period, the
    most spent first, a campaign whose turns have no cost as unknown (not $0); the turns on
    no campaign's task are in the total only."""
    from core.workflows import WorkflowBook
    from tests.costs.test_ledger import ACP, CLAUDE, Journal, assigned, with_agents

    await with_agents(service, tmp_path)
    first, second = await assigned(service, "a", "P1"), await assigned(service, "b", "P2")
    flows = WorkflowBook(service.store)
    await flows.create_campaign("one", [f"T-{first}"], "test")
    await flows.create_campaign("two", [f"T-{second}"], "test")
    p1 = Journal(service, "P1")
    await p1.turn(usage=CLAUDE, cost_usd=0.5)
    await Journal(service, "P2").turn(usage=ACP)  # no model, no cost: unknown
    await service.tasks.complete(first, "P1")
    await p1.turn(delivered=False, usage=CLAUDE, cost_usd=0.25)  # on no task
    async with AIBook(service, AISettings()) as ai:
        plain = await ai.summaries.summarize("1d")
    line = next(x for x in plain.text.splitlines() if x.startswith("turn cost: "))
    assert line.endswith("; campaigns: C-1 $0.5000, C-2 unknown"), line
    assert [c["key"] for c in plain.stats["turn_cost"]["top_campaigns"]] == ["C-1", "C-2"]


async def test_the_agents_turn_cost_is_in_the_summary_with_unknown_turns_counted(
    service: SwarmService,
    clock: ManualClock,
    server: LocalModel,
    sleep: RecordingSleep,
    tmp_path: Path,
) -> None:
    """Issue 51, item 4: the summary says what the agents' turns of the period cost (known
    dollars, turns of unknown cost counted, the agents and accounts that spent most), in the
    plain numbers and after a model's narrative; turns before the period are left out."""
    from tests.costs.test_ledger import ACP, CLAUDE, Journal, with_agents

    await with_agents(service, tmp_path)
    p1, p2 = Journal(service, "P1"), Journal(service, "P2")
    await p1.turn(usage=CLAUDE, cost_usd=5.0)  # two days ago: not in the period
    clock.advance(2 * 86_400)
    await p1.turn(usage=CLAUDE, cost_usd=1.0)
    await p1.turn(usage=CLAUDE, cost_usd=0.25)
    await p2.turn(usage=ACP, meta={"model": "local-model"})  # priced: $0.002
    await p2.turn(usage=ACP)  # no model, no cost: unknown
    async with AIBook(service, AISettings()) as ai:
        plain = await ai.summaries.summarize("1d")
    line = (
        "turn cost: $1.25 + 1 turn(s) of unknown cost (4 turn(s)); most: P1 $1.25, "
        "P2 $0.0020 + 1 unknown; accounts: team $1.25, gemini-default $0.0020 + 1 unknown"
    )
    assert line in plain.text.splitlines()
    found = plain.stats["turn_cost"]
    assert (found["turns"], found["unknown_cost_turns"]) == (4, 1)
    assert found["cost_usd"] == pytest.approx(1.252)
    server.queue(Step(text="P1 worked."))
    async with AIBook(service, ai_settings(server), sleep) as ai:
        written = await ai.summaries.summarize("1d")
    assert written.narrative and written.text == f"P1 worked.\n{line}"
