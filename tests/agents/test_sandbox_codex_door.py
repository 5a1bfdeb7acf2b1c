"""The door's ``swarm`` run in Codex CLI's own ``workspace-write`` sandbox (the pinned Codex's
``codex sandbox``, what its shell runs in when its sandbox is nested in swarm's): its seccomp
filter refuses the socket, and the one line says so and what works (swarm's MCP tools, or
Codex's own sandbox off), not that the door is closed. Outside it the same door answers."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from automation.launch.sandbox._door import write_client
from tests.agents.live import base_env, require_binary

pytestmark = pytest.mark.xdist_group("codex-live")


@pytest.fixture
def door(tmp_path: Path) -> Iterator[Path]:
    """A door's folder (its real ``swarm``) whose socket answers every request ``ok``."""
    where = write_client(tmp_path / "home", "A")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(where / "door.sock"))
    server.listen()
    server.settimeout(60)

    def answer() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as lines:
                lines.readline()
                conn.sendall(json.dumps({"stdout": "ok\n", "rc": 0}).encode() + b"\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        yield where
    finally:
        server.shutdown(socket.SHUT_RDWR)  # wakes the accept (a close alone would not)
        server.close()
        thread.join(timeout=5)


def _run(argv: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**base_env(tmp_path), "CODEX_HOME": str(tmp_path / "codex")}
    (tmp_path / "codex").mkdir(exist_ok=True)
    return subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip


@pytest.mark.timeout(120)
def test_the_door_refused_by_codexs_own_sandbox_says_so_in_one_line(
    door: Path, tmp_path: Path
) -> None:
    swarm = str(door / "swarm")
    outside = _run([swarm, "task", "show", "T-1"], tmp_path)
    assert (outside.returncode, outside.stdout) == (0, "ok\n"), outside.stderr
    binary = require_binary("codex")
    inside = _run([str(binary), "sandbox", "--", swarm, "task", "show", "T-1"], tmp_path)
    lines = [line for line in inside.stderr.splitlines() if not line.startswith("WARNING")]
    assert inside.returncode == 2 and len(lines) == 1, inside.stderr
    assert lines[0].startswith("swarm: error: this shell may not reach swarm's door"), lines
    assert "MCP tools" in lines[0] and "door is closed" not in lines[0], lines
