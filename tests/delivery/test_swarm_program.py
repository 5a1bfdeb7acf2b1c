"""Prompts name swarm by an absolute path that an agent's shell runs without the virtualenv
on its PATH (issue 53, item 1: Codex's shell said ``swarm: command not found``)."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from bot.config import Config, swarm_program
from core.delivery._envelope import render


def test_the_program_is_absolute_and_runs_in_a_login_shell_without_the_venv(
    tmp_path: Path,
) -> None:
    program = swarm_program()
    first = shlex.split(program)[0]
    assert Path(first).is_absolute() and Path(first).is_file()
    # a login shell whose PATH lacks the virtualenv, as Codex's shell has it
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "SWARM_HOME": str(tmp_path / "h")}
    done = subprocess.run(
        ["/bin/bash", "-lc", f"{program} --version"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("swarm ")


def test_task_prompts_name_it_with_the_home(tmp_path: Path) -> None:
    config = Config({"SWARM_HOME": str(tmp_path / "home")}, agents_file=None)
    settings = config.core
    assert settings.swarm_program == swarm_program()
    swarm = settings.agent_swarm
    assert swarm == f"SWARM_HOME={shlex.quote(str(tmp_path / 'home'))} {swarm_program()}"
    text = render(
        "do it",
        sender="cli",
        agent="Agent-1",
        task_id=4,
        home=settings.custom_home,
        program=settings.swarm_program,
    )
    assert f"Report back from your terminal: {swarm} task start|note|done|fail T-4" in text
    mcp = render("do it", sender="cli", agent="A", task_id=4, mcp=True, program="/x/swarm")
    assert "If the tools are unavailable: /x/swarm task start|note|done|fail T-4" in mcp
