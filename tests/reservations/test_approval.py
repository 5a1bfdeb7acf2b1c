"""Reservations need a reason (issue 54, item 5): an exclusive reservation of the whole tree,
of more than ``SWARM_RESERVE_SHARE`` of the agent's repository, or with no task and no TTL
waits for a person as one held item and blocks no one until it is approved; on the real
store, both databases."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from core.errors import PersonOnly, ReservationHeld
from core.reservations import _approval as approval
from core.service.swarm import SwarmService
from tests.reservations.test_service import held_task

pytestmark = pytest.mark.both_databases


async def _task_of(service: SwarmService, agent: str) -> None:
    await held_task(service, agent, f"Work of {agent}")


async def test_the_whole_tree_without_a_task_waits_for_a_person_and_blocks_no_one(
    service: SwarmService,
) -> None:
    """Before: ``**`` exclusive with no task was made, and every other agent was refused
    every path until it was released."""
    with pytest.raises(ReservationHeld, match=r"\*\* covers the whole tree.*held as H-1"):
        await service.reservations.reserve("Agent-1", ["**"])
    assert await service.reservations.held("Agent-1") == []
    with pytest.raises(ReservationHeld, match="already asked"):  # asking again: one item
        await service.reservations.reserve("Agent-1", ["**"])
    needs = [n for n in await service.inbox.needs() if n.kind == "held"]
    assert len(needs) == 1 and "Agent-1 asks to reserve ** exclusive" in needs[0].text
    await _task_of(service, "Agent-2")
    made = await service.reservations.reserve("Agent-2", ["src/api/**"])  # not blocked
    assert [r.pattern for r in made] == ["src/api/**"]


async def test_an_approved_request_is_made_unless_someone_took_the_paths_since(
    service: SwarmService,
) -> None:
    with pytest.raises(ReservationHeld):
        await service.reservations.reserve("Agent-1", ["docs/**"])  # no task, no TTL
    with pytest.raises(PersonOnly, match="Agent-1"):  # never an agent's decision
        await service.inbox.approve("H-1", "Agent-1")
    answered = await service.inbox.approve("H-1", "person")
    assert "reserved docs/** for Agent-1" in answered.text
    [mine] = await service.reservations.held("Agent-1")
    assert (mine.pattern, mine.exclusive, mine.task_id) == ("docs/**", True, None)
    await service.reservations.release("Agent-1")

    with pytest.raises(ReservationHeld):
        await service.reservations.reserve("Agent-2", ["**"], ttl_s=600)
    await _task_of(service, "Agent-3")
    await service.reservations.reserve("Agent-3", ["src/x.py"])  # taken meanwhile
    answered = await service.inbox.approve("H-2", "person")
    assert "not reserved" in answered.text and "Agent-3" in answered.text
    assert await service.reservations.held("Agent-2") == []


async def test_a_rejected_request_makes_nothing(service: SwarmService) -> None:
    with pytest.raises(ReservationHeld):
        await service.reservations.reserve("Agent-1", ["**"], ttl_s=60)
    await service.inbox.reject("H-1", "person")
    assert await service.reservations.held("Agent-1") == []


async def test_narrow_reservations_for_a_task_and_shared_ones_need_no_one(
    service: SwarmService,
) -> None:
    await _task_of(service, "Agent-1")
    await service.reservations.reserve("Agent-1", ["src/api/**"])
    await service.reservations.reserve("Agent-1", ["**"], exclusive=False)
    await service.reservations.release("Agent-1")
    await service.reservations.reserve("Agent-2", ["notes.md"], ttl_s=60)  # no task, a TTL
    assert [n for n in await service.inbox.needs() if n.kind == "held"] == []


async def test_a_share_of_the_agents_repository(service: SwarmService, tmp_path: Path) -> None:
    """``src/**`` of a small repository covers most of its files: held (SWARM_RESERVE_SHARE,
    0.5); ``src/api/**`` of it is not."""
    repo = tmp_path / "repo"
    for name in ("src/a.py", "src/b.py", "src/api/c.py", "README.md"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("x\n")
    await asyncio.to_thread(_git, repo, "init", "-q")
    await asyncio.to_thread(_git, repo, "add", ".")

    async def tree(agent: str) -> list[str]:
        return (await asyncio.to_thread(_git, repo, "ls-files")).split()

    service.reservations.tree = tree
    await _task_of(service, "Agent-1")
    with pytest.raises(ReservationHeld, match=r"covers 75% of the repository's files"):
        await service.reservations.reserve("Agent-1", ["src/**"])
    await service.reservations.reserve("Agent-1", ["src/api/**"])
    assert approval.share(["src/**"], await tree("Agent-1")) == 0.75


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout
