"""Property: any valid workflow yields an acyclic task graph whose tasks all reach a final
state (or wait on a failed or cancelled dependency for a person) when agents finish or fail
them and people approve or reject the gates."""

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
from core.models import FINISHED, Task, TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.conn import Conn
from core.workflows import Workflow, WorkflowBook
from core.workflows.model import find_cycle
from tests.helpers import RecordingDeliverer

pytestmark = pytest.mark.both_databases
ExampleDatabase = Callable[[Path], AbstractContextManager[str | None]]
# the example_database fixture is function-scoped on purpose: it makes a database per example
SLOW_AND_PER_EXAMPLE = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@st.composite
def workflows(draw: st.DrawFn) -> tuple[Workflow, dict[str, str]]:
    """Up to 8 steps; each may need, or branch on the failure of, earlier steps."""
    flow = Workflow("prop").var("items", "list", default=["x"]).var("flag", "bool", default=True)
    count = draw(st.integers(1, 8))
    for i in range(count):
        earlier = [f"s{j}" for j in range(i)]
        needs = draw(st.lists(st.sampled_from(earlier), max_size=3, unique=True)) if i else []
        on_failure = (
            draw(st.lists(st.sampled_from(earlier), max_size=2, unique=True))
            if i and draw(st.booleans())
            else []
        )
        gate = not on_failure and draw(st.integers(0, 4)) == 0
        flow.step(
            f"s{i}",
            f"step {i}" + (" ${item}" if i % 3 == 1 else ""),
            needs=needs,
            on_failure=on_failure,
            gate=gate,
            for_each="items" if i % 3 == 1 else None,
            when=draw(st.sampled_from([None, "${flag}", "not ${flag}"])),
        )
    items = draw(st.lists(st.sampled_from("abcd"), min_size=1, max_size=3, unique=True))
    return flow.check(), {"items": ",".join(items), "flag": str(draw(st.booleans()))}


async def _run(database: ExampleDatabase, flow: Workflow, given: dict[str, str], seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, database(Path(tmp)) as url:
        env = {"SWARM_HOME": tmp, "SWARM_MAX_ATTEMPTS": "1", "SWARM_DATABASE_URL": url or ""}
        conf = Settings.from_env(env)
        service = await SwarmService.open(conf, ManualClock())
        try:
            await _drive(service, flow, given, random.Random(seed))
        finally:
            await service.close()


async def _drive(
    service: SwarmService, flow: Workflow, given: dict[str, str], rng: random.Random
) -> None:
    flows = WorkflowBook(service.store)
    run = await flows.run(await flows.plan(flow, given), "prop")
    edges: dict[str, list[str]] = {str(i): [] for i in run.task_ids}
    for task_id, dep in await service.store.read(_task_deps):
        edges[str(task_id)].append(str(dep))
    assert find_cycle(edges) is None
    scheduler = Scheduler(service, RecordingDeliverer())
    for _ in range(10 * len(run.task_ids) + 10):
        await scheduler.run_burst()
        campaign = await flows.campaign(run.campaign)
        active = [t for t in campaign.tasks if t.status is TaskStatus.assigned]
        gates = campaign.gates_waiting
        if not active and not gates:
            break
        for task in active:
            if rng.random() < 0.7:
                await service.tasks.complete(task.id, task.agent or "")
            else:
                await service.tasks.fail(task.id, task.agent or "", "it broke")
        for gate in gates:
            # a gate rejected just before may have cancelled this one (its dependent): a
            # person's approve of it is refused then ("already cancelled"), rightly
            waiting = {g.id for g in (await flows.campaign(run.campaign)).gates_waiting}
            if gate.id not in waiting:
                continue
            if rng.random() < 0.7:
                await flows.approve(gate.ref, "person")
            else:
                await flows.reject(gate.ref, "person")
    campaign = await flows.campaign(run.campaign)
    stuck = _stuck(campaign.tasks)
    for task in campaign.tasks:
        assert task.status in FINISHED or task.id in stuck, (task.ref, task.status, task.reason)


def _task_deps(conn: Conn) -> list[tuple[int, int]]:
    rows = conn.execute("SELECT task_id, dep_id FROM task_deps").fetchall()
    return [(row["task_id"], row["dep_id"]) for row in rows]


def _stuck(tasks: list[Task]) -> set[int]:
    """Blocked tasks that wait, directly or not, on a failed or cancelled task: they are
    left for a person (retry or cancel), as any task after a failed one is."""
    broken = {t.id for t in tasks if t.status in (TaskStatus.failed, TaskStatus.cancelled)}
    blocked = [t for t in tasks if t.status is TaskStatus.blocked]
    stuck: set[int] = set()
    grew = True
    while grew:
        before = len(stuck)
        stuck |= {t.id for t in blocked if set(t.after) & (broken | stuck)}
        grew = len(stuck) != before
    return stuck


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_AND_PER_EXAMPLE)
@given(workflows(), st.integers(0, 2**16))
def test_any_workflow_runs_to_a_final_state(
    example_database: ExampleDatabase, flow_and_vars: tuple[Workflow, dict[str, str]], seed: int
) -> None:
    asyncio.run(_run(example_database, *flow_and_vars, seed))
