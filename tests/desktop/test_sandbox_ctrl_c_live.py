"""A person's (or swarm's stop's) Ctrl+C in a sandboxed agent's tmux pane is its CLI's to
take, as without the sandbox: the program inside gets SIGINT (Aider stops its turn at one)
and goes on; ``bwrap``, the pane's own process, does not end, nor with it the sandbox and
everything in it (the replayed day: sandboxed Aider died at each stop). The program here is
a script of the person's that counts the Ctrl+C it takes, started by ``swarm desktop up
--headless`` with ``sandbox = true``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.desktop.sandbox_rig import SandboxRig, fenced

PROGRAM = """#!/usr/bin/python3
import pathlib, signal, time
taken = []
def took(signum, frame):
    taken.append(signum)
    pathlib.Path("ctrl-c.out").write_text(f"took {len(taken)}")
signal.signal(signal.SIGINT, took)
pathlib.Path("ctrl-c.out").write_text("ready")
while True:
    time.sleep(0.05)
"""


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[SandboxRig]:
    made = fenced(tmp_path)
    program = made.bin / "takes-ctrl-c"
    program.write_text(PROGRAM)
    program.chmod(0o755)
    made.use_command("takes-ctrl-c")
    yield made
    made.down()


def _said(rig: SandboxRig, out: Path, wanted: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not (out.exists() and out.read_text() == wanted):
        pane = rig.tmux("capture-pane", "-p", "-t", "swarm-Agent-1").stdout
        assert time.monotonic() < deadline, (out.exists() and out.read_text(), pane)
        time.sleep(0.05)


@pytest.mark.timeout(180)
def test_ctrl_c_in_a_sandboxed_pane_reaches_its_program_and_the_sandbox_stays(
    rig: SandboxRig,
) -> None:
    up = rig.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--agents", "1")
    assert up.returncode == 0, up.stdout + up.stderr
    out = rig.ws["Agent-1"] / "ctrl-c.out"
    _said(rig, out, "ready")
    pane = rig.tmux("display-message", "-p", "-t", "swarm-Agent-1", "#{pane_pid}").stdout.strip()
    for count in (1, 2):
        assert rig.tmux("send-keys", "-t", "swarm-Agent-1", "C-c").returncode == 0
        _said(rig, out, f"took {count}")
    time.sleep(0.5)  # a bwrap that took the Ctrl+C would have ended its pane by now
    after = rig.tmux("display-message", "-p", "-t", "swarm-Agent-1", "#{pane_pid} #{pane_dead}")
    assert after.stdout.split() == [pane, "0"], after.stdout + after.stderr
    assert Path(f"/proc/{pane}").exists()
