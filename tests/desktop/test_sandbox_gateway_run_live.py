"""Issue 78 under ``swarm run``: a sandboxed agent's model gateway killed while the
coordinator runs is seen and started again (its agent ``errored`` meanwhile, one alert event
each way), the pane reaches its model again; a host its proxy refuses is a
``sandbox.refused`` event and a "Needs you" item, whose ``swarm inbox allow`` writes the
agents file and opens the host to the running sandbox at once. Real bubblewrap, real tmux,
``swarm run --no-discord`` as a person starts it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.coordinator.home_lock import running_coordinator
from tests.agents.live import LocalModel
from tests.desktop.sandbox_rig import SandboxRig, fenced
from tests.desktop.test_sandbox_gateway_life_live import _gateway_pid, _probe, _up
from tests.desktop.test_sandbox_network_live import _listen_tcp

KEY = "anthropic-SECRET-key-78"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[SandboxRig, LocalModel, int]]:
    made = fenced(tmp_path)
    model = LocalModel(tmp_path, 'default = [{ text = "hi" }]\n')
    allowed, allow_port = _listen_tcp()
    claude = made.bin / "claude"  # Claude Code by its name: its pane a shell for the probe
    claude.write_text("#!/bin/sh\nexec bash --norc --noprofile\n")
    claude.chmod(0o755)
    made.use_command(str(claude))
    made.env.update(ANTHROPIC_BASE_URL=model.url, ANTHROPIC_API_KEY=KEY, SWARM_WEB="off")
    try:
        yield made, model, allow_port
    finally:
        made.down()
        model.stop()
        allowed.close()


@pytest.fixture
def coordinator(
    rig: tuple[SandboxRig, LocalModel, int],
) -> Iterator[subprocess.Popen[bytes]]:
    """``swarm run --no-discord`` once ``desktop up`` started Agent-1, stopped with Ctrl+C."""
    box = rig[0]
    assert _up(box)["action"] == "started"
    with (box.root / "run.log").open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--no-discord"], env=box.env,
            cwd=box.root, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _until(lambda: (running_coordinator(box.home) or (None,))[0] == proc.pid, box, 60)
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _until(check: Callable[[], Any], box: SandboxRig, within: float = 60) -> Any:
    deadline = time.monotonic() + within
    while not (found := check()):
        log = (box.root / "run.log").read_text(encoding="utf-8", errors="replace")
        assert time.monotonic() < deadline, log[-3000:]
        time.sleep(0.2)
    return found


def _revived(box: SandboxRig, dead: int) -> bool:
    """Whether another gateway runs now (its pid file is written once it listens)."""
    try:
        pid = _gateway_pid(box)
    except (OSError, ValueError, IndexError):
        return False
    return pid != dead and Path(f"/proc/{pid}").exists()


def _events(box: SandboxRig, kind: str) -> list[dict[str, Any]]:
    done = box.swarm("events", "--json", "--kind", kind, "--limit", "100")
    assert done.returncode == 0, done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


@pytest.mark.timeout(300)
def test_swarm_run_brings_a_gateway_back_and_a_refused_host_in(
    rig: tuple[SandboxRig, LocalModel, int], coordinator: subprocess.Popen[bytes]
) -> None:
    box, _model, port = rig
    dead = _gateway_pid(box)
    os.kill(dead, signal.SIGKILL)
    _until(lambda: _revived(box, dead), box)
    back = _probe(box, port, "back")
    assert back["model"].split()[1:2] == ["200"], back
    assert back["allowed"].split()[1:2] == ["403"], back  # not in its sandbox_allow yet

    def down_alerts() -> list[dict[str, Any]] | None:
        found = [e for e in _events(box, "alert") if e["data"].get("kind") == "gateway-down"]
        return found if len(found) == 2 else None

    opened, cleared = sorted(_until(down_alerts, box), key=lambda e: e["id"])
    assert opened["kind"] == "alert.opened" and cleared["kind"] == "alert.cleared"
    assert "its model gateway is not running" in opened["text"]
    refused = _until(lambda: _events(box, "sandbox.refused"), box)
    assert refused[0]["agent"] == "Agent-1" and f"127.0.0.1:{port}" in refused[0]["text"]
    needs = json.loads(box.swarm("inbox", "--json").stdout)
    (item,) = [n for n in needs if n.get("host") == f"127.0.0.1:{port}"]
    assert item["actions"] == ["allow", "deny"] and item["agent"] == "Agent-1"
    allowed = box.swarm("inbox", "allow", item["ref"], "--as", "pat")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert f'sandbox_allow = ["127.0.0.1:{port}"]' in box.config.read_text(encoding="utf-8")
    opened_now = _probe(box, port, "opened")
    assert opened_now["allowed"].split()[1:2] == ["200"], opened_now
    assert coordinator.poll() is None
