"""A task's done, one named operation on both databases (``core.tasks.queries.mark_done``:
one statement on PostgreSQL, three on SQLite): what it writes is the same on each."""

from __future__ import annotations

from typing import Any

import pytest

from core.agent_state import AgentState, Signal
from core.agents import signals as agent_signals
from core.coordinator.scheduler import Scheduler
from core.errors import InvalidInput
from core.models import TaskSpec, TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.store.conn import Conn, values
from tests.helpers import RecordingDeliverer

pytestmark = pytest.mark.both_databases


def _agent_row(conn: Conn, agent: str) -> tuple[Any, ...]:
    row = conn.execute(
        "SELECT score, done_count, fail_count, last_report_at, idle_since FROM agent_state "
        "WHERE id = $1",
        (agent,),
    ).fetchone()
    return tuple(values(row))


async def test_a_done_credits_its_holder_and_stores_its_report_signal(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    task = await service.tasks.create(TaskSpec("credited"), "cli")
    await Scheduler(service, deliverer).run_burst()
    (held,) = await service.tasks.newest(status="assigned")
    agent = str(held.agent)
    score, done, failed, _, _ = before = await service.store.read(_agent_row, agent)
    signals_before = await service.store.read(agent_signals.observations, [agent])
    clock.advance(7.0)
    with pytest.raises(InvalidInput):  # refused after the update: nothing is credited
        await service.tasks.complete(task.id, agent, "bell \x07 in the note")
    assert await service.store.read(_agent_row, agent) == before
    assert await service.store.read(agent_signals.observations, [agent]) == signals_before

    await service.tasks.complete(task.id, agent, "fine")
    now, window = clock.now(), service.settings.success_window
    assert (await service.tasks.get(task.ref)).status is TaskStatus.done
    credited = await service.store.read(_agent_row, agent)
    assert credited[1:] == (done + 1, failed, now, now)
    assert credited[0] == pytest.approx(score * (1 - window) + window)
    report = (await service.store.read(agent_signals.observations, [agent]))[agent][Signal.REPORT]
    assert (report.state, report.at, report.evidence) == (
        AgentState.IDLE,
        now,
        f"report: {task.ref} done by {agent}",
    )
    assert (report.until, report.detail) == (None, {})
