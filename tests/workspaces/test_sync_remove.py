"""``swarm workspaces sync`` and ``remove`` on real worktrees: rebase, merge, conflicts."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot.cli.workspaces import cmd_sync
from core.errors import InvalidState
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.workspaces._manager import InitRequest, init
from core.workspaces._ops import remove as remove_workspace
from core.workspaces._ops import require, sync
from tests.workspaces.conftest import commit_file, sh
from tests.workspaces.test_init import AGENTS

pytestmark = pytest.mark.both_databases


@pytest.fixture
def made(repo: Path, tmp_path: Path) -> Path:
    """Workspaces of Agent-1 and Agent-2; returns SWARM_HOME."""
    home = tmp_path / "home"
    init(home, AGENTS, InitRequest(repo, agents=("Agent-1", "Agent-2")))
    return home


def _head(path: Path, rev: str = "HEAD") -> str:
    return sh(path, "rev-parse", rev).strip()


@pytest.mark.parametrize("merge", [False, True])
def test_sync_brings_the_base_in(repo: Path, made: Path, merge: bool) -> None:
    place = require(made, AGENTS, "Agent-1")
    commit_file(place.path, "feature.py", "feature\n", "agent work")
    commit_file(repo, "base.txt", "base\n", "base moves")
    said = sync(place, merge=merge)
    assert ("merged" if merge else "rebased (1 commit(s) replayed)") in said
    assert sh(place.path, "merge-base", "--is-ancestor", "main", "HEAD") == ""
    assert (place.path / "base.txt").exists() and (place.path / "feature.py").exists()
    assert "up to date" in sync(place, merge=merge)


@pytest.mark.parametrize("merge", [False, True])
def test_a_conflict_is_reported_and_nothing_changes(repo: Path, made: Path, merge: bool) -> None:
    place = require(made, AGENTS, "Agent-2")
    commit_file(place.path, "README.md", "# agent version\n", "agent edits readme")
    commit_file(repo, "README.md", "# base version\n", "base edits readme")
    before = _head(place.path)
    with pytest.raises(InvalidState, match=r"stopped on conflicts in README.md: nothing changed"):
        sync(place, merge=merge)
    assert _head(place.path) == before
    assert sh(place.path, "status", "--porcelain") == ""
    assert (place.path / "README.md").read_text() == "# agent version\n"


def test_sync_refuses_uncommitted_changes(made: Path) -> None:
    place = require(made, AGENTS, "Agent-1")
    (place.path / "app.py").write_text("wip\n")
    with pytest.raises(InvalidState, match=r"uncommitted changes \(app.py\)"):
        sync(place)


async def test_sync_waits_for_an_idle_agent(repo: Path, service: SwarmService) -> None:
    init(service.settings.home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    await service.tasks.create(TaskSpec("work", agent="Agent-1"), "cli")
    assert await service.queue.assign_next() is not None
    args = argparse.Namespace(agent="Agent-1", repo=None, merge=False)
    with pytest.raises(InvalidState, match="Agent-1 is working on T-1: sync when it is idle"):
        await cmd_sync(service, args)


def test_remove_keeps_the_branch_and_refuses_changes(repo: Path, made: Path) -> None:
    place = require(made, AGENTS, "Agent-1")
    commit_file(place.path, "feature.py", "feature\n", "agent work")
    (place.path / "app.py").write_text("wip\n")
    with pytest.raises(InvalidState, match="not removed"):
        remove_workspace(made, place)
    assert place.path.exists()
    with pytest.raises(InvalidState, match="has commits not in main"):
        remove_workspace(made, place, delete_branch=True)
    records = repo / ".git" / "swarm" / "branches"  # the branch swarm gave each worktree
    assert sorted(p.name for p in records.iterdir()) == ["Agent-1", "Agent-2"]
    (place.path / "app.py").write_text("print('hello')\n")
    said = remove_workspace(made, place)
    assert [p.name for p in records.iterdir()] == ["Agent-2"]  # its record went with it
    assert said.endswith("(branch swarm/Agent-1 kept)") and not place.path.exists()
    assert "swarm/Agent-1" in sh(repo, "branch", "--list")
    assert "Agent-1" not in sh(repo, "worktree", "list")
    other = require(made, AGENTS, "Agent-2")
    assert "and branch swarm/Agent-2" in remove_workspace(made, other, delete_branch=True)
    assert "swarm/Agent-2" not in sh(repo, "branch", "--list")
