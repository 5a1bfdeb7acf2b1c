"""``swarm events --since/--kind/--grep``: filtered in SQL, combined with ``--task``."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from core.event_kinds import EventKind
from core.history.events import EventFilter
from core.models import TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.helpers import run_cli


async def _history(service: SwarmService, clock: ManualClock) -> None:
    await service.tasks.create(TaskSpec("Old work"), "cli")
    clock.advance(7200)
    await service.tasks.create(TaskSpec("New_work 100%"), "cli")
    await service.messages.broadcast("stand-up", "cli")


@pytest.mark.both_databases
async def test_since_kind_and_grep_combine(service: SwarmService, clock: ManualClock) -> None:
    await _history(service, clock)

    async def texts(**given: object) -> list[str]:
        found = await service.history.find(EventFilter(**given), limit=100)  # type: ignore[arg-type]
        return [e.text for e in found]

    recent = await texts(since=clock.now() - 3600)
    assert recent[0] == "T-2 created by cli: New_work 100% (normal)" and len(recent) == 3
    assert await texts(kinds=("task.created",), grep="OLD") == [
        "T-1 created by cli: Old work (normal)"
    ]
    assert len(await texts(kinds=("task",))) == 4  # created and ready, twice
    assert await texts(kinds=("task_",)) == []  # LIKE wildcards are escaped
    assert len(await texts(kinds=("Task",))) == 4  # case ignored on both databases
    assert len(await texts(kinds=("TASK.CREATED",))) == 2
    assert await texts(grep="100%") == ["T-2 created by cli: New_work 100% (normal)"]
    assert await texts(kinds=("message",)) == [
        "message from cli to Agent-1, Agent-2, Agent-3, "
        "Agent-4, Agent-5, Agent-6, Agent-7, Agent-8: "
        "stand-up"
    ]
    newest = await service.history.find(EventFilter(kinds=("task",)), limit=1, newest=True)
    assert [e.text for e in newest] == ["T-2 is ready"]
    assert await texts(kinds=("task.%", "task.", "t", ".created")) == []  # no wildcard, no part
    assert await texts(kinds=("message", "task.ready")) == [
        "T-1 is ready",
        "T-2 is ready",
        "message from cli to Agent-1, Agent-2, Agent-3, "
        "Agent-4, Agent-5, Agent-6, Agent-7, Agent-8: stand-up",
    ]
    both = EventFilter(kinds=("task",), grep="work", task_id=2)
    assert [e.text for e in await service.history.find(both)] == [
        "T-2 created by cli: New_work 100% (normal)"
    ]
    assert await service.history.count(both) == 1
    ids = [e.id for e in await service.history.find(EventFilter(), limit=100)]
    upto = await service.history.find(EventFilter(until_id=ids[1]), after_id=ids[0])
    assert [e.id for e in upto] == [ids[1]]
    assert await service.history.count(EventFilter(kinds=("task",), until_id=ids[1])) == 2


def test_every_kind_is_a_family_and_a_name() -> None:
    """The filter matches a family by the part of a kind before its dot: a kind of two dots
    would not be found by its first two parts."""
    for kind in EventKind:
        family, _, name = kind.value.partition(".")
        assert family and "." not in name, kind


async def test_the_cli_filters_and_refuses_a_bad_age(
    home: Path, service: SwarmService, clock: ManualClock
) -> None:
    await _history(service, clock)
    result = run_cli(
        home, "events", "--kind", "task.created", "--grep", "work", "--task", "T-2", "--json"
    )
    assert [event["text"] for event in json.loads(result.out)] == [
        "T-2 created by cli: New_work 100% (normal)"
    ]
    both = run_cli(home, "events", "--kind", "task.ready", "--kind", "message.queued")
    assert len(both.out.splitlines()) == 3
    several = run_cli(home, "events", "--kind", "task.ready", "message.queued")  # as the dashboard
    assert (several.code, several.out) == (0, both.out)
    commas = run_cli(home, "events", "--kind", "task.ready,message.queued", "--limit", "50")
    assert (commas.code, commas.out) == (0, both.out)
    bad = run_cli(home, "events", "--since", "soon")
    assert (bad.code, bad.out) == (2, "")
    assert bad.err == (
        "swarm: error: invalid period 'soon': use seconds (90 or 20s) or a number and m, h, d "
        "or w (e.g. 30m, 1d)\n"
    )


async def test_since_takes_seconds_with_a_unit(
    home: Path, service: SwarmService, clock: ManualClock
) -> None:
    """``--since 20s`` is accepted like ``--since 20`` (issue 28, item 13)."""
    clock.advance(time.time() - 3600 - clock.now())  # an hour ago
    await service.tasks.create(TaskSpec("an hour ago"), "cli")
    await asyncio.to_thread(run_cli, home, "task", "add", "just now")
    for age in ("20s", "20 S", "20"):
        result = run_cli(home, "events", "--since", age, "--kind", "task.created")
        assert result.code == 0, result.err
        assert [line.split("task.created")[1].strip() for line in result.out.splitlines()] == [
            "T-2 created by cli: just now (normal)"
        ]
