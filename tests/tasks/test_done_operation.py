"""A task's done, one named operation on both databases (``core.assignment._queries.mark_done``:
one statement on PostgreSQL, three on SQLite): what it writes is the same on each."""

from __future__ import annotations

from typing import Any

import pytest

from core.agent_state import AgentState, Signal
from core.agents import _signals as agent_signals
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


async def test_a_persons_done_is_the_persons_not_the_agents_report(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    """Issue 53, item 8: a person pressing Done in Discord (actor ``discord:eve``) finishes
    the task and is named; the agent did not report: its report signal and its last report
    stay as they were (before, the person's Done was stored as the agent's report, idle);
    the task still counts to the agent. Likewise a person's fail."""
    done, failed = [await service.tasks.create(TaskSpec(t), "cli") for t in ("one", "two")]
    await Scheduler(service, deliverer).run_burst()
    agent = str((await service.tasks.get(done.ref)).agent)
    await service.tasks.start(done.ref, agent)
    started = clock.now()
    signals_before = await service.store.read(agent_signals.observations, [agent])
    assert signals_before[agent][Signal.REPORT].state is AgentState.WORKING
    clock.advance(30.0)
    await service.tasks.complete(done.ref, "discord:eve", "marked done from Discord")
    row = await service.store.read(_agent_row, agent)
    assert (row[1], row[3]) == (1, started)  # counted to the agent; its report not stamped
    assert await service.store.read(agent_signals.observations, [agent]) == signals_before
    (event,) = [e for e in await service.history.last(50) if e.kind == "task.done"]
    assert event.text == (
        f"{done.ref} done by {agent} (reported by discord:eve): marked done from Discord"
    )
    assert event.actor == "discord:eve"
    holder = str((await service.tasks.get(failed.ref)).agent)
    before = await service.store.read(agent_signals.observations, [holder])
    await service.tasks.fail(failed.ref, "cli", "not wanted")
    assert await service.store.read(agent_signals.observations, [holder]) == before
