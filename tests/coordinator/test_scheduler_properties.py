"""Property tests: any random DAG completes in a topological order, within capacity."""

from __future__ import annotations

import asyncio
import random
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec, TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import RecordingDeliverer, write_agents

pytestmark = pytest.mark.both_databases
ExampleDatabase = Callable[[Path], AbstractContextManager[str | None]]
# the example_database fixture is function-scoped on purpose: it makes a database per example
SLOW_AND_PER_EXAMPLE = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]

ROLES = ["api", "web", "qa"]


@st.composite
def dags(draw: st.DrawFn) -> list[TaskSpec]:
    """Up to 25 tasks; each may depend on up to 3 earlier ones (so no cycles)."""
    count = draw(st.integers(1, 25))
    specs = []
    for i in range(count):
        after = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        specs.append(
            TaskSpec(
                title=f"t{i}",
                ref=f"r{i}",
                priority=draw(st.sampled_from(range(4))),
                role=draw(st.sampled_from([None, *ROLES])),
                after=tuple(f"r{j}" for j in after),
            )
        )
    return specs


async def _run(
    database: ExampleDatabase, specs: list[TaskSpec], capacities: list[int], seed: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp, database(Path(tmp)) as url:
        config = write_agents(
            Path(tmp) / "agents.toml",
            [
                {"id": f"A{i}", "role": ROLES[i % 3], "capacity": cap}
                for i, cap in enumerate(capacities)
            ],
        )
        conf = Settings.from_env(
            {"SWARM_HOME": tmp, "SWARM_CONFIG": str(config), "SWARM_DATABASE_URL": url or ""}
        )
        service = await SwarmService.open(conf, ManualClock())
        try:
            await _drive(service, specs, capacities, random.Random(seed))
        finally:
            await service.close()


async def _drive(
    service: SwarmService, specs: list[TaskSpec], capacities: list[int], rng: random.Random
) -> None:
    await service.tasks.create_many(specs, "prop")
    scheduler = Scheduler(service, RecordingDeliverer())
    done_order: list[int] = []
    while len(done_order) < len(specs):
        await scheduler.run_burst()
        active = await service.tasks.newest(status="assigned")
        load: dict[str, int] = {}
        for task in active:
            load[task.agent or ""] = load.get(task.agent or "", 0) + 1
        for i, cap in enumerate(capacities):
            assert load.get(f"A{i}", 0) <= cap, "an agent holds more than its capacity"
        assert active, "nothing assigned while tasks remain: the scheduler is stuck"
        for task in rng.sample(active, rng.randint(1, len(active))):
            deps = await service.tasks.get(task.id)
            assert all(d in done_order for d in deps.after), "ran before a dependency was done"
            await service.tasks.complete(task.id, task.agent or "")
            done_order.append(task.id)
    assert sorted(done_order) == sorted(t.id for t in await service.tasks.newest())
    assert all(t.status is TaskStatus.done for t in await service.tasks.newest())
    assigned_events = [
        e for e in await service.history.events(limit=100_000) if e.kind == "task.assigned"
    ]
    assert len(assigned_events) == len(specs), "a task was assigned twice"


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_AND_PER_EXAMPLE)
@given(dags(), st.lists(st.integers(1, 3), min_size=3, max_size=6), st.integers(0, 2**16))
def test_random_dags_complete_in_topological_order(
    example_database: ExampleDatabase, specs: list[TaskSpec], capacities: list[int], seed: int
) -> None:
    asyncio.run(_run(example_database, specs, capacities, seed))
