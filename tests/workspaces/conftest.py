"""Real git repositories in tmp_path, with a fixed identity and no user or system config."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from core.service.swarm import SwarmService
from core.workspaces._manager import InitRequest, init

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def sh(cwd: Path, *args: str) -> str:
    """Run git in ``cwd``; its stdout (a failure fails the test)."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def commit_file(cwd: Path, name: str, text: str, message: str) -> str:
    """Write a file, commit it, return the new head."""
    (cwd / name).write_text(text, encoding="utf-8")
    sh(cwd, "add", name)
    sh(cwd, "commit", "-q", "-m", message)
    return sh(cwd, "rev-parse", "HEAD").strip()


def two_worktrees(service: SwarmService, repo: Path) -> tuple[Path, Path]:
    """``workspaces init`` of Agent-1 and Agent-2 in ``repo``: their worktrees."""
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1", "Agent-2")))
    trees = home / "workspaces" / "project"
    return trees / "Agent-1", trees / "Agent-2"


class CountingExecutor(ThreadPoolExecutor):
    """A loop's default executor (``asyncio.to_thread``'s), naming what it is given."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.given: list[str] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.given.append(repr(fn))  # to_thread's partial names the function it runs
        return super().submit(fn, *args, **kwargs)


def counting_threads() -> CountingExecutor:
    """What the running loop runs in a worker thread from now on."""
    executor = CountingExecutor()
    asyncio.get_running_loop().set_default_executor(executor)
    return executor


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every git run by the test or the code under test uses the fixed identity."""
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository on ``main`` with two committed files and an untracked ``.env``."""
    path = tmp_path / "project"
    path.mkdir()
    sh(path, "init", "-q", "-b", "main")
    (path / "app.py").write_text("print('hello')\n", encoding="utf-8")
    commit_file(path, "README.md", "# project\n", "first")
    sh(path, "add", "app.py")
    sh(path, "commit", "-q", "-m", "app")
    (path / ".env").write_text("TOKEN=local\n", encoding="utf-8")
    return path
