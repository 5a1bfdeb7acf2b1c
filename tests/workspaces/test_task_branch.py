"""A task with a branch of its own (a GitHub task's ``swarm/T-12-title``, issue 40 item 12):
its prompt moves the agent's worktree to that branch, made from the base, so its commits are
its own; a task without one moves it back to the agent's branch; uncommitted changes refuse
the move in one line; a handed-over task keeps its branch (taken from the clean worktree of
the agent that held it). Real git, the real scheduler, inbox delivery."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from automation.inbox.files import InboxDeliverer
from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.sandbox import branch_records, own_git
from core.service.swarm import SwarmService
from core.workspaces import _work as work
from core.workspaces._git import git as swarm_git
from core.workspaces._manager import InitRequest, init
from tests.helpers import query
from tests.workspaces.conftest import commit_file, sh, two_worktrees


def _own_branch(conn: Any, ctx: Any, task_id: int, branch: str) -> None:
    work.set_branch(conn, task_id, branch, ctx.now)


async def _prompted(service: SwarmService, agent: str, title: str, branch: str | None) -> int:
    """A task for ``agent`` (with its own ``branch``, if given) whose prompt went out."""
    task = await service.tasks.create(TaskSpec(title, agent=agent), "cli")
    if branch is not None:
        await service.store.write("github", _own_branch, task.id, branch)
    home = service.settings.home
    await Scheduler(service, InboxDeliverer(home / "inbox")).run_burst()
    return task.id


def _on(tree: Path) -> str:
    return sh(tree, "symbolic-ref", "--quiet", "--short", "HEAD").strip()


def _granted(tree: Path) -> str | None:
    """The branch swarm recorded for ``tree``: the one its sandboxed agent may move."""
    own, common = own_git(tree)
    return branch_records.read(common, own.name)


@pytest.mark.both_databases
async def test_each_task_of_its_own_starts_from_the_base_and_keeps_its_commits(
    repo: Path, service: SwarmService
) -> None:
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    tree = home / "workspaces" / "project" / "Agent-1"
    base = sh(repo, "rev-parse", "main").strip()

    assert _granted(tree) == "refs/heads/swarm/Agent-1"  # recorded as init made it
    first = await _prompted(service, "Agent-1", "first", "swarm/T-1-first")
    assert _on(tree) == "swarm/T-1-first" and sh(tree, "rev-parse", "HEAD").strip() == base
    assert _granted(tree) == "refs/heads/swarm/T-1-first"  # swarm moved it: its record too
    prompt = sorted((home / "inbox" / "Agent-1").iterdir())[0].read_text()
    assert f"Work in {tree} on branch swarm/T-1-first" in prompt
    await service.tasks.start(first, "Agent-1")
    one = commit_file(tree, "one.py", "ONE = 1\n", "one")
    await service.tasks.complete(first, "Agent-1", "done")

    plain = await _prompted(service, "Agent-1", "plain", None)  # back on the agent's branch
    assert _on(tree) == "swarm/Agent-1" and not (tree / "one.py").exists()
    assert _granted(tree) == "refs/heads/swarm/Agent-1"
    await service.tasks.start(plain, "Agent-1")
    commit_file(tree, "plain.py", "P = 1\n", "plain")
    await service.tasks.complete(plain, "Agent-1", "done")

    third = await _prompted(service, "Agent-1", "third", "swarm/T-3-third")
    assert _on(tree) == "swarm/T-3-third" and sh(tree, "rev-parse", "HEAD").strip() == base
    await service.tasks.start(third, "Agent-1")
    three = commit_file(tree, "three.py", "THREE = 3\n", "three")
    await service.tasks.complete(third, "Agent-1", "done")

    commits = {
        task: [c["sha"] for c in (e.data or {}).get("commits", [])]
        for task in (first, plain, third)
        for e in await service.history.events(task=task)
        if e.kind == "task.commits"
    }
    assert commits[first] == [one] and commits[third] == [three] and len(commits[plain]) == 1
    assert sh(repo, "log", "--format=%H", "main..swarm/T-3-third").split() == [three]
    assert sh(repo, "rev-parse", "swarm/T-1-first").strip() == one


async def test_uncommitted_changes_refuse_the_move_in_one_line(
    repo: Path, service: SwarmService
) -> None:
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    tree = home / "workspaces" / "project" / "Agent-1"
    first = await _prompted(service, "Agent-1", "first", "swarm/T-1-first")
    await service.tasks.start(first, "Agent-1")
    (tree / "app.py").write_text("print('left behind')\n", encoding="utf-8")
    await service.tasks.complete(first, "Agent-1", "done")
    second = await _prompted(service, "Agent-1", "second", "swarm/T-2-second")
    assert _on(tree) == "swarm/T-1-first"  # nothing switched, nothing lost
    assert (tree / "app.py").read_text() == "print('left behind')\n"
    ((reason,),) = query(
        service.settings,
        "SELECT d.reason FROM deliveries d JOIN messages m ON m.id = d.message_id "
        "WHERE m.task_id = $1",
        (second,),
    )
    assert f"{tree} has uncommitted changes (app.py)" in reason and "\n" not in reason
    assert "then it moves to swarm/T-2-second (nothing switched)" in reason


async def test_a_task_branch_planted_before_its_first_prompt_is_refused(
    repo: Path, service: SwarmService
) -> None:
    tree1, tree2 = two_worktrees(service, repo)
    # Agent-2 makes the branch a future task of Agent-1's will work on, with its commit
    planted = commit_file(tree2, "backdoor.py", "import os\n", "parser: helper")
    sh(tree2, "branch", "swarm/T-1-parser", planted)
    task_id = await _prompted(service, "Agent-1", "parser", "swarm/T-1-parser")
    assert _on(tree1) == "swarm/Agent-1" and not (tree1 / "backdoor.py").exists()
    ((reason,),) = query(
        service.settings,
        "SELECT d.reason FROM deliveries d JOIN messages m ON m.id = d.message_id "
        "WHERE m.task_id = $1",
        (task_id,),
    )
    assert (
        "swarm/T-1-parser exists before any turn on it, with 1 commit(s) not in " in (reason)
        and "(nothing switched)" in reason
        and "\n" not in reason
    )
    assert _granted(tree1) == "refs/heads/swarm/Agent-1"  # nor is it Agent-1's to move


async def test_a_handed_over_task_keeps_its_branch(repo: Path, service: SwarmService) -> None:
    home = service.settings.home
    tree1, tree2 = two_worktrees(service, repo)
    task_id = await _prompted(service, "Agent-1", "parser", "swarm/T-1-parser")
    await service.tasks.start(task_id, "Agent-1")
    sha = commit_file(tree1, "parser.py", "def parse(): ...\n", "parser: first version")
    await service.tasks.assign(task_id, "Agent-2", "cli")
    await Scheduler(service, InboxDeliverer(home / "inbox")).run_burst()
    assert _on(tree2) == "swarm/T-1-parser" and sh(tree2, "rev-parse", "HEAD").strip() == sha
    assert sh(tree1, "rev-parse", "HEAD").strip() == sha  # detached there, nothing changed
    # the branch is Agent-2's to move now: Agent-1's next sandboxed start moves none
    assert _granted(tree2) == "refs/heads/swarm/T-1-parser" and _granted(tree1) == ""
    (prompt,) = [p.read_text() for p in (home / "inbox" / "Agent-2").iterdir()]
    assert "which your workspace has checked out: continue from them" in prompt
    assert "git cherry-pick" not in prompt


def _nested_repo_with_a_filter(tree: Path, marker: Path) -> None:
    """What an agent can make in its worktree: a repository of its own inside it, committed
    as a gitlink, whose own configuration names a clean filter (its program) for every file,
    and a file there newer than that repository's index (git hashes it: the filter runs)."""
    nested = tree / "sm"
    sh(tree, "init", "-q", str(nested))
    (nested / "a.txt").write_text("x\n")
    (nested / ".gitattributes").write_text("* filter=evil\n")
    sh(nested, "add", ".")
    sh(nested, "commit", "-qm", "its own")
    sh(nested, "config", "filter.evil.clean", f"sh -c 'id > {marker}; cat'")
    sh(nested, "config", "filter.evil.smudge", "cat")
    (tree / ".gitmodules").write_text(
        '[submodule "sm"]\n\tpath = sm\n\turl = ./sm\n\tignore = none\n'
    )
    sh(tree, "add", "sm", ".gitmodules")
    sh(tree, "commit", "-qm", "a repository of its own")
    later = (nested / "a.txt").stat().st_mtime + 10
    os.utime(nested / "a.txt", (later, later))


async def test_a_repository_the_agent_made_in_its_worktree_runs_nothing_of_its(
    repo: Path, service: SwarmService
) -> None:
    """Moving an agent's worktree to a task's branch checks it for uncommitted changes (``git
    status``), and a diff of its work reads it: before, git looked into a repository the
    agent had made and committed there, running ``git status`` in it with that repository's
    own configuration, the agent's: its clean filter ran outside the sandbox, as swarm's
    user (root for a root swarm). Now swarm's git never looks into a nested work tree; a
    ``.gitmodules`` saying ``ignore = none`` does not override that."""
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    tree = home / "workspaces" / "project" / "Agent-1"
    marker = tree.parent / "escaped-filter"
    _nested_repo_with_a_filter(tree, marker)
    sh(tree, "status", "--porcelain")  # the teeth: git as a person runs it, plainly
    assert "uid=" in marker.read_text()
    marker.unlink()
    later = (tree / "sm" / "a.txt").stat().st_mtime + 20  # (that status refreshed its index)
    os.utime(tree / "sm" / "a.txt", (later, later))
    for args in (("status", "--porcelain"), ("diff", "--stat", "HEAD"), ("diff-files",),
                 ("diff-index", "HEAD"), ("diff", "--name-only", "--diff-filter=U")):  # fmt: skip
        swarm_git(tree, *args)
    await _prompted(service, "Agent-1", "first", "swarm/T-1-first")
    assert _on(tree) == "swarm/T-1-first"  # moved: its check ran
    assert not marker.exists()
