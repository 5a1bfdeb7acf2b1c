"""Colour and the spinner only on a terminal (a real pty): never when piped, with NO_COLOR
(colour) or TERM=dumb."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

from core.models import TaskSpec
from core.service.swarm import SwarmService
from tests.helpers import ROOT, cli_env, run_cli

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def on_a_terminal(home: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """What ``swarm ARGS`` prints when its stdout is a pseudo-terminal."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", *args],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=cli_env(home, env=env),
        cwd=ROOT,
    )
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
    await service.tasks.create(TaskSpec("ship it"), "cli")
    await service.tasks.create(TaskSpec("drop it"), "cli")
    await service.tasks.cancel("T-2", "cli")
    coloured = on_a_terminal(home, "task", "list", "--all", env={"TERM": "xterm"})
    assert "\x1b[1mID\x1b[0m" in coloured and "\x1b[33mready\x1b[0m" in coloured
    assert "\x1b[2mcancelled\x1b[0m" in coloured
    piped = run_cli(home, "task", "list", "--all", env={"TERM": "xterm"}).out
    assert "\x1b" not in piped
    assert ANSI.sub("", coloured) == piped  # the same table, columns still aligned
    for plain in ({"NO_COLOR": "1", "TERM": "xterm"}, {"TERM": "dumb"}):
        assert on_a_terminal(home, "task", "list", "--all", env=plain) == piped


def read_until(leader: int, marker: bytes, timeout_s: float = 20) -> bytes:
    """What the terminal shows until ``marker`` appears (or its other end closes)."""
    seen = b""
    while marker not in seen:
        ready, _, _ = select.select([leader], [], [], timeout_s)
        assert ready, f"nothing more within {timeout_s} s: {seen!r}"
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    return seen


async def test_a_spinner_while_ask_waits_on_a_terminal(home: Path, service: SwarmService) -> None:
    await service.tasks.create(TaskSpec("Open a port", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    leader, follower = pty.openpty()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli.main",
        "ask",
        "T-1",
        "Which port?",
        "--wait",
        stdout=follower,
        stderr=follower,
        cwd=ROOT,
        env=cli_env(home, agent="Agent-2", env={"TERM": "xterm", "NO_COLOR": "1"}),
    )
    os.close(follower)
    try:
        shown = read_until(leader, b"waiting for an answer to question 1 (0 s)")
        await service.questions.reply("T-1", "8080", "cli")
        shown += read_until(leader, b"\x00")  # to the end
    finally:
        os.close(leader)
    assert await asyncio.wait_for(proc.wait(), 30) == 0
    text = shown.decode()
    assert "\r\u280b waiting for an answer to question 1 (0 s)" in text
    assert text.endswith("\r\x1b[Kanswer from cli: 8080\r\n")  # erased, then the answer
