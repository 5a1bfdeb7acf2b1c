"""Agent-1's door of a :class:`~tests.desktop.sandbox_rig.SandboxRig` served in this
process, this process made Agent-1's root (``register_roots``) so that the door takes its
connections as Agent-1's terminal's; and one request to it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from automation.launch.sandbox._door import Door
from core.agents._identity import register_roots, unregister_roots
from core.sandbox import DOOR_SOCKET, door_folder
from tests.desktop.sandbox_rig import SandboxRig


def ask(path: Path, argv: list[str]) -> dict[str, Any]:
    """``argv`` through the door's socket ``path``; its reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(60)
        sock.connect(str(path))
        sock.sendall(json.dumps({"argv": argv, "cwd": "/"}).encode() + b"\n")
        with sock.makefile("rb") as replies:
            return dict(json.loads(replies.readline()))


@contextlib.asynccontextmanager
async def served_door(rig: SandboxRig, label: str) -> AsyncIterator[tuple[Door, Path]]:
    """Agent-1's door, served until the block ends; the door and its socket's path."""
    register_roots(label, lambda agents: {"Agent-1": [os.getpid()]})
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
        unregister_roots(label)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
