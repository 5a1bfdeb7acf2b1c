"""``swarm desktop up --headless`` and ``down`` around what an agent holds and runs (issue 53,
items 7 and 9), real tmux and the real command line: a task held by an agent whose session
ends (down, or a crash that up starts afresh) is back in the queue at once, said in one line;
a process an earlier session left in the workspace is ended, another's stops up in one line;
``[desktop.agent.X.env]`` reaches the agent's CLI, its secrets named, never written."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.models import Receipt, TaskSpec, TaskStatus
from core.service.swarm import SwarmService
from core.settings import Settings
from core.workspaces._procs import pid_alive
from tests.conftest import skip_or_fail
from tests.desktop.rig import DesktopRig

SECRET = "s3cr3t-value-7f2a"


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DesktopRig]:
    """Two terminal agents with workspaces, no display, a private tmux server."""
    if shutil.which("tmux") is None:
        skip_or_fail("tmux is not installed (apt-get install tmux)")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "TMUX", "TMUX_PANE"):
        monkeypatch.delenv(name, raising=False)
    made = DesktopRig(None, tmp_path / "rig", agents=2)
    monkeypatch.setenv("TMUX_TMPDIR", made.env["TMUX_TMPDIR"])
    yield made
    made.swarm("desktop", "down", "--headless")
    made.stop()


def up(rig: DesktopRig) -> subprocess.CompletedProcess[str]:
    done = rig.swarm("desktop", "up", "--headless")
    assert done.returncode == 0, done.stdout + done.stderr
    return done


async def _hold(rig: DesktopRig, agent: str) -> int:
    """A task pinned to ``agent``, given to it."""
    service = await SwarmService.open(_settings(rig))
    try:
        task = await service.tasks.create(TaskSpec("work", agent=agent), "test")
        await service.queue.assign_batch()
        assert (await service.tasks.get(task.id)).agent == agent
        return task.id
    finally:
        await service.close()


async def _status(rig: DesktopRig, task_id: int) -> tuple[TaskStatus, str | None]:
    service = await SwarmService.open(_settings(rig))
    try:
        task = await service.tasks.get(task_id)
        return task.status, task.agent
    finally:
        await service.close()


def _settings(rig: DesktopRig) -> Settings:
    return Settings.from_env({"SWARM_HOME": str(rig.home), "SWARM_CONFIG": str(rig.config)})


@pytest.mark.timeout(180)
async def test_a_held_task_is_handed_back_when_its_session_ends_or_starts_afresh(
    rig: DesktopRig,
) -> None:
    up(rig)
    rig.wait_ready()
    task_id = await _hold(rig, "Agent-1")
    down = rig.swarm("desktop", "down", "--headless", "--agent", "Agent-1")
    assert down.returncode == 0, down.stderr
    assert (
        f"Agent-1: held T-{task_id}: back in the queue now (its session was ended by swarm "
        "desktop down; a task pinned to Agent-1 goes to its new session)" in down.stdout
    )
    assert await _status(rig, task_id) == (TaskStatus.ready, None)
    up(rig)
    rig.wait_ready(["Agent-1"], starts=2)
    await _hold_again(rig, task_id, "Agent-1")
    rig.tmux("kill-session", "-t", "=swarm-Agent-1")  # a crash: the session is gone
    again = up(rig)
    assert (
        f"held T-{task_id}: back in the queue now (swarm desktop up started a new "
        "session of its agent" in again.stdout
    )
    assert await _status(rig, task_id) == (TaskStatus.ready, None)
    quiet = up(rig)  # kept sessions: nothing handed back
    assert "back in the queue" not in quiet.stdout


async def _hold_again(rig: DesktopRig, task_id: int, agent: str) -> None:
    """The task given to ``agent`` again, its prompt delivered (its session has it)."""
    service = await SwarmService.open(_settings(rig))
    try:
        await service.queue.assign_batch()
        assert (await service.tasks.get(task_id)).agent == agent
        claimed = await service.queue.claim_prompt()
        assert claimed is not None and claimed[0].task_id == task_id
        await service.queue.record_receipt(claimed[0], Receipt.delivered("tmux"))
    finally:
        await service.close()


def _fake_cli(rig: DesktopRig, workspace: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A process named ``claude`` (the agents' CLI) in ``workspace``, as a crashed session
    leaves it (its own session: no tmux pane holds it)."""
    return subprocess.Popen(
        ["claude", "300"], executable="/bin/sleep", cwd=workspace, env=env,
        start_new_session=True,
    )  # fmt: skip


@pytest.mark.timeout(180)
def test_up_ends_what_an_earlier_session_left_and_refuses_beside_another(
    rig: DesktopRig,
) -> None:
    workspace = rig.workspaces["Agent-1"]
    ours = {"PATH": os.environ["PATH"], "SWARM_AGENT": "Agent-1", "SWARM_HOME": str(rig.home)}
    left = _fake_cli(rig, workspace, ours)
    try:
        done = up(rig)
        assert (
            f"ended 1 claude process(es) an earlier session left running in {workspace} "
            f"(pids {left.pid})" in done.stdout
        )
        assert left.wait(timeout=10) is not None
        rig.wait_ready()
        rig.swarm("desktop", "down", "--headless")
        theirs = _fake_cli(rig, workspace, {"PATH": os.environ["PATH"]})
        try:
            refused = rig.swarm("desktop", "up", "--headless")
            assert refused.returncode == 2
            assert refused.stderr.strip().splitlines() == [
                f"swarm: error: Agent-1: claude (pid {theirs.pid}) already runs in "
                f"{workspace}, not started by swarm for Agent-1: end it first (kill "
                f"{theirs.pid}), else two claude would share the folder"
            ]
            assert pid_alive(theirs.pid)  # a person's own process is never ended
        finally:
            theirs.kill()
            theirs.wait()
    finally:
        if left.poll() is None:
            left.kill()
            left.wait()


@pytest.mark.timeout(180)
def test_desktop_agent_env_reaches_the_cli_and_its_secret_is_written_nowhere(
    rig: DesktopRig,
) -> None:
    text = rig.config.read_text()
    env = '\n[desktop.agent.Agent-1.env]\nTEAM_TOKEN = "$RIG_SECRET"\nBASE = "http://127.0.0.1:9"\n'
    rig.config.write_text(text + env)
    rig.env["RIG_SECRET"] = SECRET
    up(rig)
    rig.wait_ready()
    first = rig.starts("Agent-1")[0]["pid"]
    seen = _environ(first)
    assert (seen.get("TEAM_TOKEN"), seen.get("BASE")) == (SECRET, "http://127.0.0.1:9")
    assert "TEAM_TOKEN" not in _environ(rig.starts("Agent-2")[0]["pid"])
    for path in [rig.config, *rig.home.rglob("*")]:
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().partition("=")[::2] for item in raw if item)


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ('TEAM_TOKEN = "abc123"', "TEAM_TOKEN looks secret: name it, never write it"),
        ('TEAM_TOKEN = "$NOT_SET_HERE"', "NOT_SET_HERE is not set in swarm's environment"),
        ('"bad name" = "x"', "'bad name' is not a variable name"),
    ],
)
def test_a_bad_env_is_one_line_and_nothing_starts(rig: DesktopRig, table: str, said: str) -> None:
    rig.config.write_text(rig.config.read_text() + f"\n[desktop.agent.Agent-1.env]\n{table}\n")
    done = rig.swarm("desktop", "up", "--headless")
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("swarm: error: ") and said in line, line
    assert "abc123" not in line
    assert rig.tmux("has-session", "-t", "=swarm-Agent-1").returncode != 0
