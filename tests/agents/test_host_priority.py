"""A protocol agent's CLI runs below swarm's CPU priority (issue 50): on a busy machine a
prompt's delivery does not wait for the agents' own work. The host lowers its agent's
priority as it starts it (``[desktop] nice``); what the agent starts after inherits it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from core.hosts.turns import lower_priority


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    """A process of this one's priority that starts one more after a moment."""
    code = "import subprocess, sys, time; time.sleep(0.3); subprocess.run(['sleep', '30'])"
    process = subprocess.Popen([sys.executable, "-c", code])
    try:
        yield process
    finally:
        for pid in _children(process.pid):
            os.kill(pid, 9)
        process.kill()
        process.wait()


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as listed:
            return [int(p) for p in listed.read().split()]
    except OSError:
        return []


def _wait_for_child(pid: int) -> int:
    for _ in range(200):
        found = _children(pid)
        if found:
            return found[0]
        subprocess.run(["sleep", "0.02"], check=True)
    raise AssertionError("no child started")


def test_the_agent_and_what_it_starts_run_lower_by_the_setting(
    child: subprocess.Popen[bytes],
) -> None:
    own = os.getpriority(os.PRIO_PROCESS, 0)
    lower_priority(child.pid, 10)
    assert os.getpriority(os.PRIO_PROCESS, child.pid) == min(19, own + 10)
    grandchild = _wait_for_child(child.pid)
    assert os.getpriority(os.PRIO_PROCESS, grandchild) == min(19, own + 10)
    assert os.getpriority(os.PRIO_PROCESS, 0) == own  # the host's own is as it was


def test_nice_0_leaves_it_and_more_than_19_stops_at_the_lowest(
    child: subprocess.Popen[bytes],
) -> None:
    own = os.getpriority(os.PRIO_PROCESS, 0)
    lower_priority(child.pid, 0)
    assert os.getpriority(os.PRIO_PROCESS, child.pid) == own
    lower_priority(child.pid, 40)
    assert os.getpriority(os.PRIO_PROCESS, child.pid) == 19


def test_a_refusal_is_logged_and_the_agent_runs_as_it_is(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    lower_priority(gone.pid, 10)  # reaped: no such process
    assert "the agent's CPU priority was not lowered" in caplog.text
