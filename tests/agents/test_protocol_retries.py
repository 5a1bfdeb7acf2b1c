"""An API call a protocol agent retries (Claude Code's stream-json ``system`` ``api_retry``,
journaled as an ``api_retry`` update, issue 50 item 3): a rate limit is ``limited`` until the
retry the agent said, any other error ``errored`` while it retries; the answer that comes
after is work again; the transcript keeps one row per retry. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from core.agent_state import AgentState
from core.agents import _judge as judge
from core.agents import _signals as agent_signals
from core.agents import _transcript as transcript
from core.agents._service import TranscriptBook
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.agents.protocol_journal import AGENT, record, started

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


def retry(at: float, seq: int, status: int | None, wait_ms: float, **more: Any) -> dict[str, Any]:
    """One ``api_retry`` update as the host journals it."""
    return {"seq": seq, "at": at, "type": "update", "kind": "api_retry", "attempt": 1,
            "max_retries": 10, "retry_delay_ms": wait_ms, "error_status": status,
            **more}  # fmt: skip


def answer(at: float, seq: int) -> dict[str, Any]:
    return {"seq": seq, "at": at, "type": "update", "kind": "agent_message_chunk", "text": "ok"}


async def state(service: SwarmService) -> agent_signals.StateRow:
    return await service.store.read(agent_signals.get_state, AGENT)


async def test_a_retried_429_is_limited_until_the_retry_then_the_answer_is_work(
    service: SwarmService, clock: ManualClock
) -> None:
    await started(service)
    now = clock.now()
    await record(service, [retry(now, 1, 429, 40_000, error="rate_limit")])
    row = await state(service)
    assert row.state is AgentState.LIMITED
    assert (await service.store.read(judge.held_limits))[AGENT].until == pytest.approx(now + 40)
    assert row.evidence.startswith("protocol: API error 429 (rate_limit), retry 1 of 10 at ")
    clock.advance(5)
    await record(service, [answer(clock.now(), 2)])
    assert (await state(service)).state is AgentState.WORKING


async def test_a_retried_500_is_errored_and_each_retry_a_transcript_row(
    service: SwarmService, clock: ManualClock
) -> None:
    task, _ = await started(service)
    now = clock.now()
    await record(service, [retry(now, 1, 500, 1500, error="server_error"),
                           retry(now + 2, 2, None, 3000, attempt=2)])  # fmt: skip
    row = await state(service)
    assert row.state is AgentState.ERRORED
    assert row.evidence.startswith("protocol: no answer from the API, retry 2 of 10 at ")
    lines = await TranscriptBook(service.store).of_task(task)
    assert [transcript.status_line(r) for r in lines] == [
        "API error 500, retrying: attempt 1 of 10 in 1.5 s (server_error)",
        "API error (no answer), retrying: attempt 2 of 10 in 3 s",
    ]
    await record(service, [answer(now + 4, 3)])
    assert (await state(service)).state is AgentState.WORKING


async def test_a_loaded_sessions_history_replayed_outside_a_turn_is_no_work(
    service: SwarmService, clock: ManualClock
) -> None:
    """Gemini CLI replays a loaded session's history as updates after ``session/load``: the
    host marks what comes while no turn runs ``outside``; the agent stays idle and its
    transcript gains nothing (before: read ``working``, "answering", for good)."""
    task, _ = await started(service)
    now = clock.now()
    await record(service, [
        {"seq": 1, "at": now, "type": "session", "session": "s-1", "loaded": True},
        {"seq": 2, "at": now, "type": "ready", "session": "s-1"},
        {"seq": 3, "at": now, "type": "update", "kind": "user_message_chunk", "text": "hi",
         "outside": True},
        {"seq": 4, "at": now, "type": "update", "kind": "agent_message_chunk", "text": "old",
         "outside": True},
    ])  # fmt: skip
    assert (await state(service)).state is AgentState.IDLE
    assert await TranscriptBook(service.store).of_task(task) == []
