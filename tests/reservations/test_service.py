"""File reservations through ``service.reservations`` on both databases: the overlap
rules between agents, all or nothing, TTLs, and the release on every way a task leaves its
agent (done, fail, cancel, reassignment, requeue, lease expiry, giving up)."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput, NotFound, ReservationConflict
from core.models import Task, TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.helpers import query

pytestmark = pytest.mark.both_databases


@pytest.fixture(autouse=True)
def _no_approvals(service: SwarmService) -> None:
    """The overlap rules alone: reservations with no task are made at once here (a wide or
    task-less one waiting for a person is tests/reservations/test_approval.py's)."""
    service.reservations.hold = None


async def held_task(service: SwarmService, agent: str, title: str = "Build the API") -> Task:
    """A task assigned to ``agent`` (pinned, then taken by the assignment)."""
    task = await service.tasks.create(TaskSpec(title, agent=agent), "boss")
    await service.queue.assign_batch()
    task = await service.tasks.get(task.id)
    assert task.agent == agent and task.status.value == "assigned"
    return task


def stored(service: SwarmService) -> list[tuple[str, str]]:
    """Every row of the table, live or not, read over another connection."""
    return [
        (r[0], r[1])
        for r in query(service.settings, "SELECT agent, pattern FROM reservations ORDER BY id")
    ]


async def test_an_overlap_with_another_agent_is_refused_naming_holder_pattern_and_task(
    service: SwarmService,
) -> None:
    task = await held_task(service, "Agent-2")
    made = await service.reservations.reserve("Agent-2", ["src/api/**"])
    assert [(r.agent, r.pattern, r.task_id, r.exclusive) for r in made] == [
        ("Agent-2", "src/api/**", task.id, True)
    ]
    with pytest.raises(ReservationConflict) as err:
        await service.reservations.reserve("Agent-1", ["docs/", "src/api/*.py"])
    said = str(err.value)
    assert "Agent-2" in said and "src/api/**" in said and task.ref in said
    assert "\n" not in said
    assert stored(service) == [("Agent-2", "src/api/**")]  # all or nothing: docs/ not taken
    # the holder's own overlapping globs are fine, and a disjoint one for another agent
    await service.reservations.reserve("Agent-2", ["src/api/users.py"])
    await service.reservations.reserve("Agent-1", ["src/web/**"])


async def test_shared_reservations_coexist_but_not_with_an_exclusive_one(
    service: SwarmService,
) -> None:
    await service.reservations.reserve("Agent-1", ["*.md"], exclusive=False)
    await service.reservations.reserve("Agent-2", ["README.md"], exclusive=False)
    with pytest.raises(ReservationConflict, match="Agent-1's shared reservation"):
        await service.reservations.reserve("Agent-3", ["README.md"])
    await service.reservations.reserve("Agent-3", ["src/**"])
    with pytest.raises(ReservationConflict, match="Agent-3's exclusive reservation src/"):
        await service.reservations.reserve("Agent-1", ["src/x.py"], exclusive=False)
    found = await service.reservations.conflicts(["README.md", "src/a/b.py", "lib/x"])
    assert sorted((c.given, c.reservation.agent) for c in found) == [
        ("README.md", "Agent-1"),
        ("README.md", "Agent-2"),
        ("src/a/b.py", "Agent-3"),
    ]
    mine = await service.reservations.conflicts(["README.md"], agent="agent-1")
    assert [c.reservation.agent for c in mine] == ["Agent-2"]  # not the asker's own


async def test_a_ttl_ends_a_reservation_and_the_row_is_cleaned_up(
    service: SwarmService, clock: ManualClock
) -> None:
    await service.reservations.reserve("Agent-1", ["src/**"], ttl_s=60)
    clock.advance(61)
    assert await service.reservations.held() == []  # expired: ignored by reads and checks
    await service.reservations.reserve("Agent-2", ["src/x.py"])
    assert stored(service) == [("Agent-2", "src/x.py")]  # the expired row is gone


async def test_release_by_pattern_or_all(service: SwarmService) -> None:
    await service.reservations.reserve("Agent-1", ["a/**", "b/**", "c"])
    assert await service.reservations.release("Agent-1", ["./a/"]) == 1
    assert await service.reservations.release("Agent-1", ["zzz"]) == 0
    assert [r.pattern for r in await service.reservations.held("Agent-1")] == ["b/**", "c"]
    assert await service.reservations.release("Agent-1") == 2
    assert stored(service) == []


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ([], "at least one"),
        (["/etc/x"], "absolute"),
        (["../x"], "'..'"),
    ],
)
async def test_bad_input_is_one_line_and_writes_nothing(
    service: SwarmService, given: list[str], said: str
) -> None:
    with pytest.raises(InvalidInput, match=said):
        await service.reservations.reserve("Agent-1", given)
    assert stored(service) == []


async def test_unknown_agent_and_bad_ttl(service: SwarmService) -> None:
    with pytest.raises(NotFound, match="Agent-99"):
        await service.reservations.reserve("Agent-99", ["a"])
    with pytest.raises(InvalidInput, match="TTL"):
        await service.reservations.reserve("Agent-1", ["a"], ttl_s=0)
    assert stored(service) == []


async def _end_done(service: SwarmService, task: Task, clock: ManualClock) -> None:
    await service.tasks.complete(task.ref, task.agent or "")


async def _end_fail(service: SwarmService, task: Task, clock: ManualClock) -> None:
    await service.tasks.fail(task.ref, task.agent or "", "cannot")


async def _end_cancel(service: SwarmService, task: Task, clock: ManualClock) -> None:
    await service.tasks.cancel(task.ref, "boss")


async def _end_reassign(service: SwarmService, task: Task, clock: ManualClock) -> None:
    await service.tasks.assign(task.ref, "Agent-4", "boss")


async def _end_requeue(service: SwarmService, task: Task, clock: ManualClock) -> None:
    await service.tasks.requeue(task.ref, "boss")


async def _end_lease(service: SwarmService, task: Task, clock: ManualClock) -> None:
    clock.advance(service.settings.lease_s + 1)
    assert await service.queue.expire_leases() == 1
    assert (await service.tasks.get(task.ref)).status.value == "ready"


async def _end_give_up(service: SwarmService, task: Task, clock: ManualClock) -> None:
    for _ in range(task.max_attempts - 1):  # the earlier attempts end by lease expiry too
        clock.advance(service.settings.lease_s + 1)
        await service.queue.expire_leases()
        clock.advance(service.settings.retry_backoff_max_s)
        await service.queue.assign_batch()
        await service.reservations.reserve(task.agent or "", ["src/again/**"])
    clock.advance(service.settings.lease_s + 1)
    await service.queue.expire_leases()
    assert (await service.tasks.get(task.ref)).status.value == "failed"  # attempts used up


@pytest.mark.parametrize(
    ("end", "how"),
    [
        (_end_done, "done"),
        (_end_fail, "failed"),
        (_end_cancel, "cancelled"),
        (_end_reassign, "back in the queue"),
        (_end_requeue, "back in the queue"),
        (_end_lease, "back in the queue"),
        (_end_give_up, "failed"),
    ],
    ids=["done", "fail", "cancel", "reassign", "requeue", "lease-expiry", "give-up"],
)
async def test_each_way_a_task_ends_releases_its_reservations(
    service: SwarmService, clock: ManualClock, end: object, how: str
) -> None:
    task = await held_task(service, "Agent-1")
    await service.reservations.reserve("Agent-1", ["src/api/**"])
    await service.reservations.reserve("Agent-1", ["notes.md"], ttl_s=3600)
    await end(service, task, clock)  # type: ignore[operator]
    assert stored(service) == []  # released (the rows deleted), not only ignored
    found = query(
        service.settings,
        "SELECT text FROM events WHERE kind = 'reservation.released' ORDER BY id DESC LIMIT 1",
    )
    assert found and found[0][0].endswith(f"{task.ref} {how}")
    await service.reservations.reserve("Agent-2", ["src/api/x.py"])  # free for others now


async def test_a_reservation_without_a_task_outlives_tasks(service: SwarmService) -> None:
    await service.reservations.reserve("Agent-1", ["docs/**"])  # holds no task: kept
    task = await held_task(service, "Agent-1")
    await service.tasks.complete(task.ref, "Agent-1")
    assert [r.pattern for r in await service.reservations.held()] == ["docs/**"]


def test_the_merge_setting_is_warn_or_strict() -> None:
    from core.errors import ConfigError
    from core.settings import Settings

    assert Settings.from_env({"SWARM_HOME": "/tmp/x"}).reservations == "warn"
    assert Settings.from_env({"SWARM_RESERVATIONS": " Strict "}).reservations == "strict"
    with pytest.raises(ConfigError, match="SWARM_RESERVATIONS must be warn or strict, got 'loose'"):
        Settings.from_env({"SWARM_RESERVATIONS": "loose"})
