"""The sandbox on the desktop route: ``swarm desktop up`` (no ``--headless``) on the shared
Xvfb opens a real xterm for a sandboxed terminal agent, showing its tmux session, whose
command is ``bwrap``. A probe typed into that window with the real desktop driver (xdotool
keys into the focused xterm) is as fenced as on the tmux route: swarm's database, the user's
SSH key and the other agent's worktree hidden, nothing written outside, swarm's door process
unseen; it commits in its worktree and reports through its door."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from automation.desktop.virtual_desktop import XServer
from automation.sandboxing import door_pid
from tests.conftest import skip_or_fail
from tests.desktop.sandbox_rig import SandboxRig, assign
from tests.desktop.test_sandbox_live import _assert_fenced


@pytest.fixture
def windowed(shared_xvfb: XServer, tmp_path: Path) -> Iterator[SandboxRig]:
    for tool in ("tmux", "bwrap", "git", "xterm", "xdotool"):
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} is not installed")
    rig = SandboxRig(tmp_path, sandbox=True)
    rig.env.update(shared_xvfb.env)
    text = rig.config.read_text().replace("[desktop]\n", '[desktop]\nterminal = "xterm"\n', 1)
    rig.config.write_text(text)
    yield rig
    rig.swarm("desktop", "down")
    rig.tmux("kill-server")


def _pane_command(rig: SandboxRig) -> str:
    shown = rig.tmux("list-panes", "-t", "swarm-Agent-1", "-F", "#{pane_pid}")
    pid = shown.stdout.split()[0]
    return Path(f"/proc/{pid}/comm").read_text().strip()


def _type_into_window(server: XServer, window: int, line: str) -> None:
    """What a person does: focus the window (no window manager: X focus) and type."""
    server.xdotool("windowfocus", "--sync", str(window))
    server.xdotool("type", "--window", str(window), "--delay", "5", line)
    server.xdotool("key", "--window", str(window), "Return")


@pytest.mark.timeout(240)
async def test_a_sandboxed_agents_window_is_fenced_and_reports_through_its_door(
    windowed: SandboxRig, shared_xvfb: XServer
) -> None:
    rig = windowed
    done = rig.swarm("desktop", "up", "--json", "--no-hooks", "--agents", "1", timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {row["agent"]: row for row in json.loads(done.stdout)}
    window = int(rows["Agent-1"]["window"])  # a real xterm on the display
    assert _pane_command(rig) == "bwrap"  # the window's session runs in the sandbox
    await assign(rig)
    door = door_pid(rig.home, "Agent-1")
    assert door is not None
    script, out = rig.write_probe(), rig.ws["Agent-1"] / "probe.out"
    _type_into_window(shared_xvfb, window, f"sh {script} {out} {door}")
    got = rig.read(out, timeout=90)
    _assert_fenced(rig, got, door)
    assert "made" in rig.commits()
