"""``swarm task merge`` of a task with a PR: through GitHub's API when checks pass and a
review approves; a conflict found first with ``git merge-tree``, named by file."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from automation.inbox.files import InboxDeliverer
from core.coordinator.scheduler import Scheduler
from core.errors import InvalidState
from core.github_loop.merge import merge_if_pull
from core.github_loop.sync import GitHubSync
from core.service.swarm import SwarmService
from core.workspaces._manager import InitRequest, init
from tests.github.conftest import REPO, World, sh
from tests.helpers import query


def _commit(tree: Path, name: str, text: str, message: str) -> str:
    (tree / name).write_text(text, encoding="utf-8")
    sh(tree, "add", name)
    sh(tree, "commit", "-q", "-m", message)
    return sh(tree, "rev-parse", "HEAD").strip()


async def _pull_request(
    world: World, service: SwarmService, tmp_path: Path, name: str, ci: bool = True
) -> int:
    """An issue's task done by Agent-1 (``name`` rewritten) and its PR (``ci``: its head's
    tests passed); the task id."""
    repo = tmp_path / "project"
    await asyncio.to_thread(sh, tmp_path, "clone", "-q", world.gh.clone_url(REPO), str(repo))
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    world.gh.open_issue(REPO, "Change it", "x", labels=["swarm"], labeled_by=world.maintainer)
    (task_id,) = (await world.sync.run_pass()).imported.values()
    await service.tasks.assign(task_id, "Agent-1", "cli")
    await Scheduler(service, InboxDeliverer(home / "inbox")).run_burst()
    await service.tasks.start(task_id, "Agent-1")
    head = _commit(home / "workspaces/project/Agent-1", name, "# by the agent\n", "agent edit")
    await service.tasks.complete(task_id, "Agent-1")
    await world.sync.run_pass(poll=False)
    if ci:
        world.gh.set_check(REPO, head, "tests", "success")
    return task_id


async def test_merge_waits_for_an_approval_then_merges_on_github(
    world: World, service: SwarmService, tmp_path: Path
) -> None:
    task_id = await _pull_request(world, service, tmp_path, "NEW.md")
    with pytest.raises(InvalidState, match=r"needs an approving review.*nothing merged"):
        await merge_if_pull(service, world.settings, task_id, "cli")
    (pr,) = [i.number for i in world.gh.repo(REPO).issues.values() if i.pull is not None]
    world.gh.submit_review(REPO, pr, user=world.maintainer, event="APPROVE")
    said = await merge_if_pull(service, world.settings, task_id, "cli")
    assert said is not None and f"PR #{pr} of T-{task_id} merged into main" in said
    pull = world.gh.issue(REPO, pr).pull
    assert pull is not None and pull.merged


async def test_a_conflict_is_refused_with_the_file_names(
    world: World, service: SwarmService, tmp_path: Path
) -> None:
    task_id = await _pull_request(world, service, tmp_path, "README.md")
    (pr,) = [i.number for i in world.gh.repo(REPO).issues.values() if i.pull is not None]
    world.gh.submit_review(REPO, pr, user=world.maintainer, event="APPROVE")
    other = tmp_path / "maintainer"
    url = world.gh.authed_clone_url(REPO, world.token)
    await asyncio.to_thread(sh, tmp_path, "clone", "-q", url, str(other))
    _commit(other, "README.md", "# by the maintainers\n", "maintainers edit")
    await asyncio.to_thread(sh, other, "push", "-q", "origin", "main")
    with pytest.raises(InvalidState, match=r"conflicts with main in README\.md: nothing merged"):
        await merge_if_pull(service, world.settings, task_id, "cli")
    pull = world.gh.issue(REPO, pr).pull
    assert pull is not None and not pull.merged


async def test_past_the_ci_budget_a_person_is_asked(
    world: World, service: SwarmService, tmp_path: Path
) -> None:
    task_id = await _pull_request(world, service, tmp_path, "NEW.md")
    head = world.gh.branch_sha(REPO, f"swarm/T-{task_id}-change-it") or ""
    world.gh.set_check(REPO, head, "lint", "failure", "E501 line too long")
    strict = GitHubSync(service, dataclasses.replace(world.settings, ci_retries=0))
    try:
        result = await strict.run_pass()
    finally:
        await strict.stop()
    assert result.followups == [] and len(await service.tasks.newest(open_only=True)) == 0
    assert "swarm:ci-failed" in world.gh.issue(REPO, 1).labels
    (said,) = query(service.settings, "SELECT text FROM events WHERE kind = 'github.ci_exhausted'")
    assert said[0] == "CI of PR #2 failed (lint) past 0 retries" and task_id == 1


def _approved(world: World) -> int:
    """The PR, approved by a writer; its number."""
    (pr,) = [i.number for i in world.gh.repo(REPO).issues.values() if i.pull is not None]
    world.gh.submit_review(REPO, pr, user=world.maintainer, event="APPROVE")
    return pr


async def test_a_head_on_which_ci_never_ran_is_not_merged(
    world: World, service: SwarmService, tmp_path: Path
) -> None:
    """Issue 41, item 5: no check at all on the PR's head is no green CI (before: merged,
    approved, with CI never run)."""
    task_id = await _pull_request(world, service, tmp_path, "NEW.md", ci=False)
    pr = _approved(world)
    with pytest.raises(InvalidState, match=r"no green CI on its head \w{12}: CI has not run"):
        await merge_if_pull(service, world.settings, task_id, "cli")
    pull = world.gh.issue(REPO, pr).pull
    assert pull is not None and not pull.merged


async def test_a_check_the_base_has_and_the_head_lacks_is_named(
    world: World, service: SwarmService, tmp_path: Path
) -> None:
    task_id = await _pull_request(world, service, tmp_path, "NEW.md")  # tests: success
    pr = _approved(world)
    base = world.gh.branch_sha(REPO, "main") or ""
    world.gh.set_check(REPO, base, "tests", "success")
    world.gh.set_check(REPO, base, "lint", "success")
    with pytest.raises(InvalidState, match=r"\(missing: lint\).*nothing merged"):
        await merge_if_pull(service, world.settings, task_id, "cli")
    head = world.gh.branch_sha(REPO, f"swarm/T-{task_id}-change-it") or ""
    world.gh.set_check(REPO, head, "lint", "success")
    said = await merge_if_pull(service, world.settings, task_id, "cli")
    assert said is not None and f"PR #{pr} of T-{task_id} merged into main" in said
