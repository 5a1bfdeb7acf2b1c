"""A door runs at most ``RUNNING_MAX`` of its agent's commands at once: each is a process
outside the sandbox, and hooks and MCP sessions come as the agent's CLI pleases. The door is
served in this process; this process is made Agent-1's root (``register_roots``), so the
door takes its connections as Agent-1's terminal's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from automation.launch.sandbox._door import RUNNING_MAX, Door
from tests.desktop.door_rig import ask, served_door
from tests.desktop.sandbox_rig import SandboxRig


@pytest.fixture
async def door(tmp_path: Path) -> AsyncIterator[tuple[Door, Path]]:
    rig = SandboxRig(tmp_path, sandbox=True)
    assert rig.swarm("task", "add", "probe", "--agent", "Agent-1").returncode == 0
    async with served_door(rig, "door-test") as served:
        yield served


@pytest.mark.timeout(60)
async def test_a_command_beyond_the_doors_cap_is_refused(door: tuple[Door, Path]) -> None:
    served, path = door
    shown = await asyncio.to_thread(ask, path, ["task", "list"])
    assert shown["rc"] == 0 and "T-1" in shown["stdout"], shown  # below the cap: it runs
    served.running = RUNNING_MAX  # as many of its commands as it may run are running
    refused = await asyncio.to_thread(ask, path, ["task", "list"])
    assert refused["rc"] == 2 and "commands run: try again" in refused["stderr"], refused
    assert served.running == RUNNING_MAX  # a refusal starts nothing
