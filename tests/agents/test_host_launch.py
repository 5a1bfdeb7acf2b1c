"""Which process is an agent's protocol host (issue 50; hardening: an agent is the process it
runs as): its pid file names it only while that process runs the host of that agent. A pid
file left behind (a reboot) whose pid another process has now names no host: that process
is not stopped as one, nor taken for the agent's. A host that runs but does not answer is
not joined by a second one on the same session."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from automation.protocol import launch
from core.agents._identity import host_roots
from core.hosts import client, running, wire
from core.models import Agent
from core.processes import command_line, started

AGENT = "Agent-1"


def _own_session(argv: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, start_new_session=True, **kwargs)  # type: ignore[call-overload]


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture
def other() -> Iterator[subprocess.Popen[bytes]]:
    """A process that is no host, in a session of its own."""
    process = _own_session(["sleep", "60"])
    yield process
    _end(process)


def test_a_pid_file_naming_another_process_names_no_host_and_nothing_of_it_is_stopped(
    tmp_path: Path, other: subprocess.Popen[bytes]
) -> None:
    wire.folder(tmp_path).mkdir(parents=True)
    running.pid_path(tmp_path, AGENT).write_text(str(other.pid), encoding="utf-8")
    assert running.host_pid(tmp_path, AGENT) is None
    agents = {AGENT: Agent(AGENT, role="w", delivery="protocol")}
    assert host_roots(agents, tmp_path) == []  # its processes are not the agent's
    assert asyncio.run(launch.stop(tmp_path, AGENT)) is False
    assert other.poll() is None  # still running


def _hosts_of(home: Path, agent: str) -> list[int]:
    """The processes running ``agent``'s host of ``home``, by their command lines: never
    another swarm's on the machine (its hosts may be named ``Agent-1`` too)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            args = command_line(int(entry.name))
            at = args.index("--home") + 1 if "--home" in args else 0
            here = 0 < at < len(args) and Path(args[at]) == home
            if here and running.hosted_agent(int(entry.name)) == agent:
                found.append(int(entry.name))
    return found


@pytest.fixture
def host(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real host of ``AGENT`` whose agent never opens a session (its command no CLI): it
    answers its hello meanwhile, as a host does while its CLI starts."""
    wire.folder(tmp_path).mkdir(parents=True)
    argv = [sys.executable, "-m", running.HOST_MODULE, "--home", str(tmp_path), "--agent", AGENT,
            "--cwd", str(tmp_path), "--", "sleep", "600"]  # fmt: skip
    with running.log_path(tmp_path, AGENT).open("ab") as log:
        process = _own_session(argv, cwd=tmp_path, stdout=log, stderr=log)
    running.pid_path(tmp_path, AGENT).write_text(str(process.pid), encoding="utf-8")
    yield process
    _end(process)


async def _answers(home: Path) -> client.HostHello:
    for _ in range(300):
        try:
            return await client.hello(home, AGENT)
        except client.HostUnreachable:
            await asyncio.sleep(0.1)
    raise AssertionError("the host never answered")


async def test_a_host_that_runs_but_does_not_answer_is_not_joined_by_a_second(
    tmp_path: Path, host: subprocess.Popen[bytes]
) -> None:
    first = await _answers(tmp_path)
    assert first.pid == host.pid and running.host_pid(tmp_path, AGENT) == host.pid
    os.kill(host.pid, signal.SIGSTOP)  # hung
    try:
        with pytest.raises(launch.HostStartError, match="runs but does not answer"):
            await launch.start(
                tmp_path, AGENT, ["sleep", "600"], tmp_path, {}, wait_s=5, answer_s=1
            )
        assert running.pid_path(tmp_path, AGENT).read_text(encoding="utf-8") == str(host.pid)
        assert _hosts_of(tmp_path, AGENT) == [host.pid]
    finally:
        os.kill(host.pid, signal.SIGCONT)
    kept = await launch.start(tmp_path, AGENT, ["sleep", "600"], tmp_path, {}, wait_s=5)
    assert kept.pid == host.pid  # answering again: kept, as it is


async def test_a_stop_ends_the_agents_input_first_so_one_deaf_to_sigterm_ends_itself(
    tmp_path: Path,
) -> None:
    """Gemini CLI over ACP ignores SIGTERM and ends when its input does: the host's stop
    closes the agent's input first, so it ends on its own, not by SIGKILL after a wait."""
    home, ended = tmp_path / "home", tmp_path / "ended"
    home.mkdir()
    env = {**os.environ, "HOSTILE_IGNORE_TERM": "1", "HOSTILE_ENDED": str(ended)}
    agent = [sys.executable, str(Path(__file__).with_name("hostile_acp.py"))]
    with warnings.catch_warnings():  # the host outlives its Popen, as after desktop up
        warnings.simplefilter("ignore", ResourceWarning)
        await launch.start(home, AGENT, agent, tmp_path, env, wait_s=30)
        gc.collect()
    assert await launch.stop(home, AGENT)
    assert ended.read_text(encoding="utf-8") == "input ended"
    assert running.host_pid(home, AGENT) is None


async def test_a_pid_file_names_its_host_by_its_start_time_too(
    tmp_path: Path, host: subprocess.Popen[bytes]
) -> None:
    """Hardening 5 (smaller): a stale pid file whose pid a process of the same command line
    has now (a host of that agent started after a reboot by another home's swarm, or a
    process named like one) was taken for the host: the file names the host's start time
    (``launch`` writes it), and a process started at another time is not it."""
    await _answers(tmp_path)
    path = running.pid_path(tmp_path, AGENT)
    path.write_text(f"{host.pid} {started(host.pid)}", encoding="utf-8")
    assert running.host_pid(tmp_path, AGENT) == host.pid
    path.write_text(f"{host.pid} 1", encoding="utf-8")  # another start: another process
    assert running.host_pid(tmp_path, AGENT) is None
    path.write_text(str(host.pid), encoding="utf-8")  # a file from before: its command line
    assert running.host_pid(tmp_path, AGENT) == host.pid
