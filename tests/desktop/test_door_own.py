"""Issue 77, item 6: a door speaks for its agent only. Through Agent-1's door, ``task list``
shows Agent-1's tasks, ``task show`` refuses another agent's task (not one its own waits
for), ``inbox`` shows Agent-1's items and refuses another's, an ``--agent`` naming another
agent is refused, and its messages are bounded by a rate said when reached. The door is
served in this process, made Agent-1's root as in ``test_door_limits``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from automation.launch.sandbox._door import SEND_MAX, SEND_WINDOW_S, SendRate
from tests.desktop.door_rig import ask, served_door
from tests.desktop.sandbox_rig import SandboxRig, burst

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def door(tmp_path: Path) -> AsyncIterator[tuple[SandboxRig, Path]]:
    rig = SandboxRig(tmp_path, sandbox=True)
    for title, agent in (("mine", "Agent-1"), ("theirs", "Agent-2")):
        assert rig.swarm("task", "add", title, "--agent", agent).returncode == 0
    assert rig.swarm("task", "add", "after theirs", "--agent", "Agent-1",
                     "--after", "T-2").returncode == 0  # fmt: skip
    async with served_door(rig, "door-own-test") as (_, path):
        yield rig, path


async def test_the_door_shows_its_agent_its_own_tasks_only(
    door: tuple[SandboxRig, Path],
) -> None:
    rig, path = door
    listed = await asyncio.to_thread(ask, path, ["task", "list", "--json"])
    assert listed["rc"] == 0, listed
    assert sorted(t["id"] for t in json.loads(listed["stdout"])) == ["T-1", "T-3"]
    theirs = await asyncio.to_thread(ask, path, ["task", "list", "--agent", "Agent-2"])
    assert theirs["rc"] == 2 and "speaks for Agent-1 only" in theirs["stderr"], theirs
    refused = await asyncio.to_thread(ask, path, ["task", "show", "T-2"])
    # T-2 is what its own T-3 waits for: shown; another agent's task it waits for not: refused
    assert refused["rc"] == 0 and "theirs" in refused["stdout"], refused
    assert rig.swarm("task", "add", "other", "--agent", "Agent-2").returncode == 0
    other = await asyncio.to_thread(ask, path, ["task", "show", "T-4"])
    assert other["rc"] == 2 and "is not Agent-1's" in other["stderr"], other
    # outside the door, the person sees everything
    assert "T-4" in rig.swarm("task", "list").stdout


async def test_the_door_takes_no_force_to_report_on_another_agents_task(
    door: tuple[SandboxRig, Path],
) -> None:
    """``--force`` (a report on a task another agent holds, recorded as forced) let an agent
    finish or fail another's task through its door, though it may not even show it (found
    by an attack audit): refused, in any of the commands that take it."""
    rig, path = door
    await burst(rig)  # T-2 held by Agent-2
    for command in ("done", "fail", "note", "start"):
        words = ["task", command, "T-2", *(["x"] if command in ("fail", "note") else [])]
        done = await asyncio.to_thread(ask, path, [*words, "--force"])
        assert done["rc"] == 2 and "--force is not taken" in done["stderr"], done
    shown = rig.swarm("task", "show", "T-2").stdout
    assert "status:      assigned" in shown and "forced" not in shown, shown


async def test_the_door_shows_its_agent_its_own_items_only(door: tuple[SandboxRig, Path]) -> None:
    rig, path = door
    await burst(rig)  # T-1 and T-2 assigned to their agents
    rig.env["SWARM_AGENT"] = "Agent-2"
    asked = rig.swarm("ask", "T-2", "which colour?")
    assert asked.returncode == 0, asked.stderr
    del rig.env["SWARM_AGENT"]
    assert "Q-1" in rig.swarm("inbox").stdout  # the person's inbox holds it
    listed = await asyncio.to_thread(ask, path, ["inbox", "--json"])
    assert listed["rc"] == 0 and json.loads(listed["stdout"]) == [], listed
    shown = await asyncio.to_thread(ask, path, ["inbox", "show", "Q-1"])
    assert shown["rc"] == 2 and "is not Agent-1's" in shown["stderr"], shown


def test_an_agents_messages_are_bounded_and_said_when_over() -> None:
    now = [1000.0]
    rate = SendRate(lambda: now[0])
    assert all(rate.refused(["send", "Agent-2", f"m{i}"]) is None for i in range(SEND_MAX))
    assert rate.refused(["task", "list"]) is None  # only messages and questions count
    over = rate.refused(["ask", "T-1", "again?"])
    assert over is not None and "was not sent" in over and "try again in 60 s" in over
    now[0] += SEND_WINDOW_S
    assert rate.refused(["send", "Agent-2", "later"]) is None
