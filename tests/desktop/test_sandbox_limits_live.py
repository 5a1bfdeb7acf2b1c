"""Issue 77, item 5: a sandboxed agent's processes, memory and CPU are limited, in a control
group of its own. Agent-1 (``sandbox_limits = {pids = 64, memory = "128M", cpu = 0.5}``),
started by ``swarm desktop up --headless``, tries a fork bomb (bounded: 200 children that
wait for the test) and a 400 MB allocation: at most 64 of its processes run, the allocation is
killed, and meanwhile its door, swarm's CLI and Agent-2's session answer. Where this user
may make no control group, ``doctor`` and ``agents explain`` say the limits are not
enforced."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from automation.launch.sandbox import limits
from core.models import Limits
from tests.conftest import skip_or_fail
from tests.desktop.sandbox_rig import SandboxRig, fenced

_LIMITS = Limits(pids=64, memory=128 << 20, cpu=0.5)
PROBE = """\
import os, subprocess, sys, time
out = sys.argv[1]
kids, refused = [], 0
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        refused += 1
        continue
    if pid == 0:  # each child waits for the test to let it go (60 s at most)
        for _ in range(600):
            if os.path.exists(out + ".release"):
                break
            time.sleep(0.1)
        os._exit(0)
    kids.append(pid)
with open(out + ".bombed.part", "w") as said:  # whole before it is there: renamed
    said.write(f"{len(kids)} {refused}")
os.rename(out + ".bombed.part", out + ".bombed")
for pid in kids:
    os.waitpid(pid, 0)
door = subprocess.run(["/run/swarm/swarm", "task", "list"], capture_output=True)
leak = subprocess.run(["python3", "-c", "x = bytearray(400 << 20)"], capture_output=True)
with open(out + ".part", "w") as said:
    said.write(f"door=rc {door.returncode}\\nmemory={leak.returncode}\\nend=1\\n")
os.rename(out + ".part", out)
"""


def _pids(rig: SandboxRig) -> tuple[int, str]:
    """Agent-1's group's processes now and its ``pids.events`` (how often it was refused)."""
    group = next(p for p in limits.prepare(rig.home, "Agent-1", _LIMITS).procs if "/pids" in p)
    folder = Path(group).parent
    return int((folder / "pids.current").read_text()), (folder / "pids.events").read_text()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[SandboxRig]:
    if shutil.which("python3") is None:  # the system's, inside the sandbox
        skip_or_fail("python3 is not installed")
    made = fenced(tmp_path)
    text = made.config.read_text()
    line = 'sandbox_limits = { pids = 64, memory = "128M", cpu = 0.5 }'
    made.config.write_text(text.replace("sandbox = true\n", f"sandbox = true\n{line}\n", 1))
    yield made
    made.down()


@pytest.mark.timeout(240)
def test_a_fork_bomb_and_a_leak_are_held_and_swarm_answers(rig: SandboxRig) -> None:
    explained = rig.swarm("agents", "explain", "Agent-1").stdout
    if limits.backend() is None:  # an ordinary user without a delegated cgroup: said
        assert "limits not enforced" in explained, explained
        doctor = rig.swarm("doctor").stdout
        assert "Agent-1: limits not enforced" in doctor, doctor
        return
    assert "limits pids 64, memory 128M, cpu 0.5" in explained, explained
    assert rig.swarm("task", "add", "probe", "--agent", "Agent-1").returncode == 0
    up = rig.swarm("desktop", "up", "--headless", "--json", "--no-hooks")
    assert up.returncode == 0, up.stdout + up.stderr
    script, out = rig.ws["Agent-1"] / "limits.py", rig.ws["Agent-1"] / "limits.out"
    script.write_text(PROBE)
    sent = rig.tmux("send-keys", "-t", "swarm-Agent-1", f"python3 {script} {out}", "Enter")
    assert sent.returncode == 0, sent.stderr
    bombed = Path(f"{out}.bombed")
    deadline = time.monotonic() + 60
    while not bombed.exists():
        pane = rig.tmux("capture-pane", "-p", "-t", "swarm-Agent-1").stdout
        assert time.monotonic() < deadline, pane
        time.sleep(0.1)
    running, events = _pids(rig)
    made, refused = map(int, bombed.read_text().split())
    assert made < 64 and refused > 100, (made, refused)  # held at its limit
    assert running <= 64 and "max 0" not in events, (running, events)
    # while it holds every process it may have, swarm and the other agent answer
    assert rig.swarm("task", "list").returncode == 0
    other = rig.tmux("display-message", "-p", "-t", "swarm-Agent-2", "#{pane_pid}")
    assert other.returncode == 0 and other.stdout.strip(), other.stderr
    Path(f"{out}.release").write_text("go")  # the bomb's children end
    got = rig.read(out, 120)
    assert got["door"] == "rc 0", got  # its door, outside its group, answers it too
    assert got["memory"] == "-9", got  # the leak killed (SIGKILL), not the machine's memory
