"""Tasks done in workspaces: the prompt names the workspace, the commits join the history,
``task diff`` and ``task merge`` (fast-forward, merge commit, conflict) on real git."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from automation.inbox.files import InboxDeliverer
from core.coordinator.scheduler import Scheduler
from core.errors import InvalidState, NotFound
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.workspaces._manager import InitRequest, init
from tests.workspaces.conftest import commit_file, sh

pytestmark = pytest.mark.both_databases


def _inbox(home: Path, agent: str) -> list[str]:
    folder = home / "inbox" / agent
    return [p.read_text() for p in sorted(folder.iterdir()) if not p.name.startswith(".")]


async def _run_task(service: SwarmService, inbox: Path, agent: str, title: str) -> int:
    task = await service.tasks.create(TaskSpec(title, agent=agent), "cli")
    await Scheduler(service, InboxDeliverer(inbox)).run_burst()
    await service.tasks.start(task.id, agent)
    return task.id


async def test_task_in_a_workspace_from_prompt_to_merge(repo: Path, service: SwarmService) -> None:
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1", "Agent-2")))
    tree = home / "workspaces" / "project" / "Agent-1"
    task_id = await _run_task(service, home / "inbox", "Agent-1", "add the feature")
    (prompt,) = _inbox(home, "Agent-1")
    assert f"Work in {tree} on branch swarm/Agent-1: commit your changes there." in prompt
    first = commit_file(tree, "feature.py", "FEATURE = 1\n", "feature: first part")
    second = commit_file(tree, "feature_test.py", "assert True\n", "feature: tests")
    await service.tasks.complete(task_id, "Agent-1", "feature added")
    (commits,) = [e for e in await service.history.events(task=task_id) if e.kind == "task.commits"]
    assert commits.data is not None
    assert [c["sha"] for c in commits.data["commits"]] == [first, second]
    assert [c["subject"] for c in commits.data["commits"]] == [
        "feature: first part",
        "feature: tests",
    ]
    assert "feature.py" in commits.data["stat"] and "2 files changed" in commits.data["stat"]
    assert "2 commit(s) on swarm/Agent-1 by Agent-1" in commits.text
    diff = await service.workspaces.diff(task_id)
    assert "+FEATURE = 1" in diff and "+assert True" in diff and "README" not in diff
    said = await service.workspaces.merge(task_id, "cli")
    assert "merged into main (fast-forward" in said
    assert sh(repo, "rev-parse", "main").strip() == second
    assert (repo / "feature.py").exists()
    merged = [e for e in await service.history.events(task=task_id) if e.kind == "task.merged"]
    assert merged and merged[0].data is not None and merged[0].data["how"] == "fast-forward"
    assert "already in main" in await service.workspaces.merge(task_id, "cli")


async def test_merge_commit_and_conflict(repo: Path, service: SwarmService) -> None:
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1", "Agent-2")))
    tree1 = home / "workspaces" / "project" / "Agent-1"
    tree2 = home / "workspaces" / "project" / "Agent-2"
    one = await _run_task(service, home / "inbox", "Agent-1", "docs")
    two = await _run_task(service, home / "inbox", "Agent-2", "readme")
    commit_file(tree1, "docs.md", "docs\n", "docs")
    commit_file(tree2, "README.md", "# agent two\n", "agent two rewrites the readme")
    await service.tasks.complete(one, "Agent-1")
    await service.tasks.complete(two, "Agent-2")
    base = commit_file(repo, "README.md", "# maintainers\n", "maintainers edit the readme")
    said = await service.workspaces.merge(one, "cli")
    assert "(merge commit" in said
    merged_head = sh(repo, "rev-parse", "main").strip()
    assert sh(repo, "rev-parse", "main^1").strip() == base
    with pytest.raises(InvalidState, match=r"conflicts in README.md: nothing changed"):
        await service.workspaces.merge(two, "cli")
    assert sh(repo, "rev-parse", "main").strip() == merged_head
    assert sh(repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert (repo / "README.md").read_text() == "# maintainers\n"


async def test_merge_refuses_without_a_workspace_or_with_a_dirty_target(
    repo: Path, service: SwarmService
) -> None:
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    task_id = await _run_task(service, home / "inbox", "Agent-3", "elsewhere")
    with pytest.raises(
        NotFound,
        match=r"T-1 was not worked on in a workspace \(Agent-3 has "
        r"none\): nothing to merge",
    ):
        await service.workspaces.merge(task_id, "cli")
    other = await _run_task(service, home / "inbox", "Agent-1", "work")
    commit_file(home / "workspaces" / "project" / "Agent-1", "a.txt", "a\n", "a")
    (repo / "app.py").write_text("local edit\n")
    before = sh(repo, "rev-parse", "main")
    with pytest.raises(InvalidState, match=r"uncommitted changes \(app.py\): nothing merged"):
        await service.workspaces.merge(other, "cli")
    with pytest.raises(InvalidState, match="branch nowhere is not checked out"):
        await service.workspaces.merge(other, "cli", into="nowhere")
    assert sh(repo, "rev-parse", "main") == before


def test_cli_merge_without_a_workspace_is_one_line(tmp_path: Path) -> None:
    from tests.helpers import run_cli

    home = tmp_path / "home"
    assert run_cli(home, "task", "add", "no workspace", "--agent", "Agent-4").code == 0
    for action in ("merge", "diff"):
        result = run_cli(home, "task", action, "T-1")
        assert (result.code, result.out) == (2, "")
        assert result.err == (
            f"swarm: error: T-1 was not worked on in a workspace: nothing to {action}\n"
        )


async def test_a_workspace_with_no_commit_yet_is_no_warning(
    service: SwarmService, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # a new project: `git init` and no commit; the prompt goes and the log stays quiet
    new = tmp_path / "new-project"
    new.mkdir()
    sh(new, "init", "-q")
    agents = [dataclasses.replace(a, workspace=str(new)) if a.id == "Agent-1" else a
              for a in service.agents.values()]  # fmt: skip
    await service.replace_agents(agents, tmp_path / "agents.toml")
    home = service.settings.home
    first = await _run_task(service, home / "inbox", "Agent-1", "start the project")
    (prompt,) = _inbox(home, "Agent-1")
    assert f"Work in {new}" in prompt
    assert "not read" not in caplog.text
    await service.tasks.complete(first, "Agent-1")
    commit_file(new, "a.py", "A = 1\n", "first")
    branch = sh(new, "symbolic-ref", "--short", "HEAD").strip()
    (new / ".git" / "refs" / "heads" / branch).write_text("not a hash\n")
    await _run_task(service, home / "inbox", "Agent-1", "go on")  # commits, a head unread
    assert "head of Agent-1's workspace not read" in caplog.text
