"""A task done in a real git worktree, with a diff to review: for the review tests (REST,
the browser, Discord, the CLI)."""

from __future__ import annotations

from pathlib import Path

from automation.inbox.files import InboxDeliverer
from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.workspaces._manager import InitRequest, init
from tests.workspaces.conftest import GIT_ENV, commit_file, sh

FEATURE = "A = 1\nB = 2\nC = 3\n"
__all__ = ["FEATURE", "GIT_ENV", "inbox_texts", "worked_task"]


def make_repo(root: Path) -> Path:
    """A repository on ``main`` with a README and ``app.py``."""
    repo = root / "project"
    repo.mkdir(parents=True)
    sh(repo, "init", "-q", "-b", "main")
    commit_file(repo, "README.md", "# project\n", "first")
    commit_file(repo, "app.py", "print('hello')\n", "app")
    return repo


async def worked_task(
    service: SwarmService, root: Path, agent: str, more: dict[str, str] | None = None
) -> tuple[str, Path]:
    """A task ``agent`` did in its worktree (two files changed, and ``more``: name → text)
    and reported done: its ref and the worktree."""
    home = service.settings.home
    repo = make_repo(root)
    init(home, service.agents, InitRequest(repo, agents=(agent,)))
    tree = home / "workspaces" / "project" / agent
    task = await service.tasks.create(TaskSpec("add the feature", agent=agent), "cli")
    await Scheduler(service, InboxDeliverer(service.settings.inbox_dir)).run_burst()
    await service.tasks.start(task.id, agent)
    commit_file(tree, "feature.py", FEATURE, "feature")
    commit_file(tree, "app.py", "print('hello')\nprint('bye')\n", "app says bye")
    for name, text in (more or {}).items():
        commit_file(tree, name, text, f"add {name}")
    await service.tasks.complete(task.id, agent, "feature added")
    return task.ref, tree


def inbox_texts(service: SwarmService, agent: str) -> list[str]:
    """The files in ``agent``'s inbox, oldest first."""
    folder = service.settings.inbox_dir / agent
    return [p.read_text() for p in sorted(folder.iterdir()) if not p.name.startswith(".")]


async def deliver(service: SwarmService) -> None:
    """Deliver what is queued (inbox agents: files)."""
    await Scheduler(service, InboxDeliverer(service.settings.inbox_dir)).run_burst()
