"""swarm's CLI in Codex CLI's ``workspace-write`` sandbox, the pinned Codex's own (its
``codex sandbox``: the sandbox its shell tool runs in), issue 53, item 1. Before, ``swarm task
start`` and ``swarm ask`` hung there for minutes: the sandbox refuses socket writes, asyncio's
wake-up among them. Now they end as outside: with swarm's home a writable root (``swarm agents
mcp install`` writes it into the project's .codex/config.toml) the report is recorded; without
it, one line says why."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.config import swarm_program
from core.clis import mcp_files
from core.clis.codex import mcp as codex_mcp
from core.models import TaskSpec, TaskStatus
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.agents.live import base_env, require_binary
from tests.helpers import write_agents

# /tmp is writable in that sandbox by default: left out, swarm's home (under the test's
# temporary folder) is writable only as a writable root
NO_TMP = (
    "-c", 'sandbox_mode="workspace-write"',
    "-c", "sandbox_workspace_write.exclude_slash_tmp=true",
    "-c", "sandbox_workspace_write.exclude_tmpdir_env_var=true",
)  # fmt: skip


async def _desk(tmp_path: Path) -> tuple[Settings, Path]:
    """A home with T-1 given to agent A, A's workspace trusted by Codex."""
    work = tmp_path / "work"
    work.mkdir()
    config = write_agents(
        tmp_path / "agents.toml",
        [{"id": "A", "role": "dev", "delivery": "inbox", "workspace": str(work), "cli": "codex"}],
    )
    settings = Settings.from_env(
        {"SWARM_HOME": str(tmp_path / "home"), "SWARM_CONFIG": str(config)}
    )
    service = await SwarmService.open(settings)
    try:
        await service.tasks.create(TaskSpec("work", agent="A"), "test")
        await service.queue.assign_batch()
    finally:
        await service.close()
    codex_home = tmp_path / "codex"
    codex_home.mkdir()
    trusted = f'[projects."{work}"]\ntrust_level = "trusted"\n'
    (codex_home / "config.toml").write_text(trusted, encoding="utf-8")
    return settings, work


def _in_sandbox(
    tmp_path: Path, settings: Settings, work: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """``swarm ARGS`` as agent A's shell tool runs it: in Codex's sandbox, in A's workspace."""
    binary = require_binary("codex")
    env = {
        **base_env(tmp_path),
        "CODEX_HOME": str(tmp_path / "codex"),
        "SWARM_HOME": str(settings.home),
        "SWARM_CONFIG": str(settings.config_path),
        "SWARM_AGENT": "A",
    }
    argv = [str(binary), "sandbox", *NO_TMP, "--", swarm_program(), *args]
    return subprocess.run(
        argv, cwd=work, env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def _status(settings: Settings) -> TaskStatus:
    service = await SwarmService.open(settings)
    try:
        return (await service.tasks.get(1)).status
    finally:
        await service.close()


@pytest.mark.timeout(150)
async def test_with_swarms_home_a_writable_root_the_reports_are_recorded(tmp_path: Path) -> None:
    settings, work = await _desk(tmp_path)
    server = mcp_files.Server("swarm", ("mcp",))
    codex_mcp.install(settings.home, work, server)  # what desktop up writes for Codex
    started = _in_sandbox(tmp_path, settings, work, "task", "start", "T-1", "--note", "on it")
    assert started.returncode == 0, started.stderr
    asked = _in_sandbox(tmp_path, settings, work, "ask", "T-1", "SQLite or PostgreSQL?")
    assert asked.returncode == 0, asked.stderr
    assert await _status(settings) is TaskStatus.in_progress


@pytest.mark.timeout(150)
async def test_without_it_the_report_fails_in_one_line_saying_why(tmp_path: Path) -> None:
    settings, work = await _desk(tmp_path)
    done = _in_sandbox(tmp_path, settings, work, "task", "start", "T-1")
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if not line.startswith("WARNING")]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("swarm: error: cannot open the database: SWARM_HOME is read-only")
    assert "sandbox" in lines[0] and "writable roots" in lines[0]
    assert await _status(settings) is TaskStatus.assigned
