"""A local GitHub (packages/localgithub: the REST API and real bare git repositories over
``git http-backend``) and the GitHub loop over the real service, client and SQLite file."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# a plain import: `make` installs packages/localgithub, so a missing one fails (never skips)
from localgithub.server import LocalGitHub

from core.github.settings import GitHubSettings
from core.github_loop.sync import GitHubSync
from core.service.swarm import SwarmService

REPO = "acme/app"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@dataclass
class World:
    """The server, swarm's token, a maintainer and an outsider, the loop under test."""

    gh: LocalGitHub
    token: str = field(repr=False)  # never in a failing test's output either
    maintainer: str
    outsider: str
    settings: GitHubSettings
    sync: GitHubSync


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every git run uses a fixed identity and no user or system config."""
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


def sh(cwd: Path, *args: str) -> str:
    """git in ``cwd`` (a failure fails the test)."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
async def world(tmp_path: Path, service: SwarmService) -> AsyncIterator[World]:
    """``acme/app`` on a local GitHub; swarm's loop on it with a write token."""
    async with LocalGitHub(tmp_path / "github") as gh:
        gh.add_user("acme", "admin")
        token = gh.add_user("swarm-bot", "write")
        gh.add_user("maria", "write")
        gh.add_user("otto", "read")
        gh.create_repo(REPO, files={"README.md": "# app\n", "app.py": "print('hi')\n"})
        settings = GitHubSettings(
            repo=REPO, token=token, api_url=gh.api_url, git_url=gh.url, poll_s=60, tick_s=1
        )
        sync = GitHubSync(service, settings)
        try:
            yield World(gh, token, "maria", "otto", settings, sync)
        finally:
            await sync.stop()
