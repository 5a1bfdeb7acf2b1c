"""A usage limit that names no reset (Gemini CLI's spent quota, as its ACP prompt's error) is
probed: the agent is held 30 s, then its next task is the probe; each probe that hits the
limit again doubles the wait, up to 5 min; the first turn that goes through starts it over.
Through the real scheduler and store (both databases), time on a manual clock."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest

from core.agents import _judge as judge
from core.agents._limit_probes import PROBE_CAP_S, PROBE_FIRST_S
from core.coordinator.scheduler import Scheduler
from core.event_kinds import EventKind
from core.models import TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.agents.protocol_journal import AGENT, record
from tests.helpers import RecordingDeliverer
from tests.watch.conftest import kinds

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]
QUOTA = "You have exhausted your daily quota on this model."


class Journal:
    """The agent's host journal, numbered as its host numbers it, at the clock's time."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock, self.seq = clock, count(1)

    def entries(self, *said: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"seq": next(self.seq), "at": self.clock.now(), **e} for e in said]

    def limited(self) -> list[dict[str, Any]]:
        """A turn the agent's quota ends (no reset named)."""
        return self.entries({"type": "turn", "text": "work"},
                            {"type": "turn_error", "code": -32603, "message": QUOTA})  # fmt: skip

    def through(self) -> list[dict[str, Any]]:
        """A turn that goes through."""
        return self.entries(
            {"type": "turn", "text": "work"},
            {"type": "update", "kind": "agent_message_chunk", "text": "done"},
            {"type": "turn_end", "stop_reason": "end_turn"},
        )


async def held_for(service: SwarmService, clock: ManualClock) -> float | None:
    """How long the agent's limit holds it from now (None: it is free)."""
    ends = await service.store.read(judge.limited_agents, clock.now(), 1800.0)
    return ends[AGENT] - clock.now() if AGENT in ends else None


async def probe(service: SwarmService, clock: ManualClock, wait: float) -> None:
    """A task for the agent waits out ``wait`` and goes to it then, as the probe."""
    scheduler = Scheduler(service, RecordingDeliverer())
    task = await service.tasks.create(TaskSpec("probe", agent=AGENT), "test")
    clock.advance(wait - 1)
    assert (await scheduler.run_burst()).assigned == 0
    clock.advance(1)
    assert (await scheduler.run_burst()).assigned == 1
    await service.tasks.requeue(task.id, "test")  # (its turn's end: the agent free again)
    await service.tasks.cancel(task.id, "test")


async def test_a_limit_without_a_reset_is_probed_with_a_doubling_wait(
    service: SwarmService, clock: ManualClock
) -> None:
    journal = Journal(clock)
    await record(service, journal.limited())
    waits = []
    for _ in range(6):
        wait = await held_for(service, clock)
        assert wait is not None
        waits.append(wait)
        await probe(service, clock, wait)
        await record(service, journal.limited())  # the probe hits the limit again
    assert waits == [PROBE_FIRST_S, 60.0, 120.0, 240.0, PROBE_CAP_S, PROBE_CAP_S]
    # one post for the whole run of probes: the others are flaps
    assert len(await kinds(service, EventKind.AGENT_LIMITED)) == 1
    await probe(service, clock, PROBE_CAP_S)
    await record(service, journal.through())  # a turn goes through: the count starts over
    assert await held_for(service, clock) is None
    clock.advance(600)
    await record(service, journal.limited())
    assert await held_for(service, clock) == PROBE_FIRST_S
