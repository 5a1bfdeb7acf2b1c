"""/task diff (a file), /task merge (admins, confirmation button) and /agent reset, on a
real git repository and the real bot against the local Discord."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.models import TaskSpec
from core.scheduler import Scheduler
from core.workspaces.manager import InitRequest, init
from tests.discord.conftest import World, slash
from tests.helpers import RecordingDeliverer
from tests.workspaces.conftest import GIT_ENV, commit_file, sh


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed git identity, no user or system git config."""
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


def _repo(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    sh(path, "init", "-q", "-b", "main")
    commit_file(path, "README.md", "# project\n", "first")
    return path


async def test_diff_merge_and_reset(world: World, tmp_path: Path) -> None:
    service = world.service
    repo = _repo(tmp_path)
    init(service.settings.home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    tree = service.settings.home / "workspaces" / "project" / "Agent-1"
    task = await service.create_task(TaskSpec("feature", agent="Agent-1"), "cli")
    await Scheduler(service, RecordingDeliverer()).run_burst()
    head = commit_file(tree, "feature.py", "FEATURE = 1\n", "feature")
    await service.complete_task(task.id, "Agent-1")
    handle = await world.server.invoke_slash(world.user, "task diff", {"id": "T-1"})
    await handle.wait_callback()
    message = await handle.wait_original()
    (attachment,) = message.attachments
    assert attachment.filename == "T-1.diff" and b"+FEATURE = 1" in attachment.data
    refused = await slash(world, world.user, "task merge", {"id": "T-1"})
    assert "admins only" in refused.data["content"]
    handle = await world.server.invoke_slash(world.admin, "task merge", {"id": "T-1"})
    await handle.wait_callback()
    ask = await handle.wait_original()
    assert ask.content == "Merge T-1 (swarm/Agent-1) into main?"
    assert sh(repo, "rev-parse", "main").strip() != head
    not_admin = await (await world.server.click_button(
        world.user, ask, "swarm:merge:1")).wait_callback()
    assert "admins" in not_admin.data["content"] or "not allowed" in not_admin.data["content"]
    done = await (await world.server.click_button(world.admin, ask, "swarm:merge:1")
                  ).wait_callback()
    assert done.type == 7 and "merged into main (fast-forward" in done.data["content"]
    assert sh(repo, "rev-parse", "main").strip() == head
    reset = await slash(world, world.admin, "agent reset", {"agent": "agent-3"})
    assert reset.data["content"] == "🧹 reset of Agent-3 queued, then its onboarding"
    queued = await service.deliveries()
    assert [d.agent for d in queued[:2]] == ["Agent-3", "Agent-3"]


async def test_merge_of_a_task_without_a_workspace(world: World) -> None:
    await world.service.create_task(TaskSpec("elsewhere", agent="Agent-4"), "cli")
    reply = await slash(world, world.admin, "task merge", {"id": "T-1"})
    assert "T-1 was not worked on in a workspace: nothing to merge" in reply.data["content"]
