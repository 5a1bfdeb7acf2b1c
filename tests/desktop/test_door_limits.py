"""A door runs at most ``RUNNING_MAX`` of its agent's commands at once: each is a process
outside the sandbox, and hooks and MCP sessions come as the agent's CLI pleases. The door is
served in this process; this process is made Agent-1's root (``register_roots``), so the
door takes its connections as Agent-1's terminal's."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.door import RUNNING_MAX, Door
from core.agents.identity import register_roots, unregister_roots
from core.sandbox import DOOR_SOCKET, door_folder
from tests.desktop.sandbox_rig import SandboxRig


def _ask(path: Path, argv: list[str]) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(60)
        sock.connect(str(path))
        sock.sendall(json.dumps({"argv": argv, "cwd": "/"}).encode() + b"\n")
        with sock.makefile("rb") as replies:
            return dict(json.loads(replies.readline()))


@pytest.fixture
async def door(tmp_path: Path) -> AsyncIterator[tuple[Door, Path]]:
    rig = SandboxRig(tmp_path, sandbox=True)
    assert rig.swarm("task", "add", "probe", "--agent", "Agent-1").returncode == 0
    register_roots("door-test", lambda agents: {"Agent-1": [os.getpid()]})
    served = Door(rig.home, "Agent-1", rig.ws["Agent-1"], rig.env)
    task = asyncio.create_task(served.serve())
    path = door_folder(rig.home, "Agent-1") / DOOR_SOCKET
    for _ in range(200):
        if path.exists():
            break
        await asyncio.sleep(0.05)
    assert path.exists(), "the door did not open"
    try:
        yield served, path
    finally:
        unregister_roots("door-test")
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.mark.timeout(60)
async def test_a_command_beyond_the_doors_cap_is_refused(door: tuple[Door, Path]) -> None:
    served, path = door
    shown = await asyncio.to_thread(_ask, path, ["task", "list"])
    assert shown["rc"] == 0 and "T-1" in shown["stdout"], shown  # below the cap: it runs
    served.running = RUNNING_MAX  # as many of its commands as it may run are running
    refused = await asyncio.to_thread(_ask, path, ["task", "list"])
    assert refused["rc"] == 2 and "commands run: try again" in refused["stderr"], refused
    assert served.running == RUNNING_MAX  # a refusal starts nothing
