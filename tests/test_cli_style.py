"""Colour only on a terminal (a real pty): never when piped, with NO_COLOR or TERM=dumb."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from core.models import TaskSpec
from core.service import SwarmService
from tests.helpers import ROOT, cli_env, run_cli

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def on_a_terminal(home: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """What ``swarm ARGS`` prints when its stdout is a pseudo-terminal."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", *args], stdout=follower,
                            stderr=subprocess.DEVNULL, env=cli_env(home, env=env), cwd=ROOT)
    os.close(follower)
    chunks = []
    try:
        while chunk := os.read(leader, 65536):
            chunks.append(chunk)
    except OSError:  # EIO: the child closed the terminal
        pass
    finally:
        os.close(leader)
    assert proc.wait(timeout=30) == 0
    return b"".join(chunks).decode().replace("\r\n", "\n")


async def test_colour_on_a_terminal_only(home: Path, service: SwarmService) -> None:
    await service.create_task(TaskSpec("ship it"), "cli")
    await service.create_task(TaskSpec("drop it"), "cli")
    await service.cancel_task("T-2", "cli")
    coloured = on_a_terminal(home, "task", "list", "--all", env={"TERM": "xterm"})
    assert "\x1b[1mID\x1b[0m" in coloured and "\x1b[33mready\x1b[0m" in coloured
    assert "\x1b[2mcancelled\x1b[0m" in coloured
    piped = run_cli(home, "task", "list", "--all", env={"TERM": "xterm"}).out
    assert "\x1b" not in piped
    assert ANSI.sub("", coloured) == piped  # the same table, columns still aligned
    for plain in ({"NO_COLOR": "1", "TERM": "xterm"}, {"TERM": "dumb"}):
        assert on_a_terminal(home, "task", "list", "--all", env=plain) == piped
