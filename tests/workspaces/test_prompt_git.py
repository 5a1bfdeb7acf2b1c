"""What a task's prompt costs in git (each call a process on the delivery's path): for an
agent working in a folder of its own (``workspace =``), its branch and the head, nothing
else; the head recorded is the branch's."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import write_agents
from tests.workspaces.conftest import sh


async def test_a_prompt_in_an_agents_own_folder_runs_git_twice(
    tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent: dict[str, object] = {
        "id": "A-1",
        "role": "w",
        "delivery": "inbox",
        "workspace": str(repo),
    }
    config = write_agents(tmp_path / "agents.toml", [agent])
    settings = Settings.from_env({"SWARM_HOME": str(tmp_path / "home"),
                                  "SWARM_CONFIG": str(config)})  # fmt: skip
    service = await SwarmService.open(settings)
    try:
        task = await service.tasks.create(TaskSpec("a change", agent="A-1"), "cli")
        calls: list[list[str]] = []
        run = subprocess.run

        def counted(argv: list[str], *args: Any, **kwargs: Any) -> Any:
            if argv[0] == "git" and Path(kwargs.get("cwd") or ".") == repo:
                calls.append(argv[1:])
            return run(argv, *args, **kwargs)

        monkeypatch.setattr(subprocess, "run", counted)  # what core.workspaces.git calls
        place = await service.workspaces.before_prompt(task.id, "A-1")
        monkeypatch.undo()
        assert place is not None and place.path == repo and place.branch == "main"
        assert [c[0] for c in calls] == ["symbolic-ref", "rev-parse"], calls
        (turn,) = await service.workspaces.turns(task.id)
        assert turn.start_sha == sh(repo, "rev-parse", "main").strip()
    finally:
        await service.close()
