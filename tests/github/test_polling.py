"""What polling open PRs costs: a PR whose CI is green and which did not change costs nothing
beyond one conditional list of the open PRs; a review (it changes the PR) is read at the next
poll; with a webhook configured the loop polls only on a delivery (and every 15 minutes)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from core.github import webhook
from core.github_loop.sync import GitHubSync
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.workspaces._manager import InitRequest, init
from tests.github.conftest import REPO, World
from tests.github.test_pull_requests import _checkout, _commit, _started


async def test_an_unchanged_green_pr_costs_no_request_of_its_own(
    world: World, service: SwarmService, tmp_path: Path
) -> None:
    gh, sync = world.gh, world.sync
    repo = await _checkout(world, tmp_path)
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    task_id, tree = await _started(world, service, sync, "Feature")
    sha = _commit(tree, "f.py", "F = 1\n", "f")
    await service.tasks.complete(task_id, "Agent-1", "done")
    (number,) = (await sync.run_pass(poll=False)).pushed
    gh.set_check(REPO, sha, "tests", "success")
    await sync.run_pass()  # green: review
    await sync.run_pass()

    before = len(gh.requests)
    await sync.run_pass()
    idle = [(r.method, r.path, r.status) for r in gh.requests[before:]]
    assert idle == [("GET", f"/repos/{REPO}/issues", 304), ("GET", f"/repos/{REPO}/pulls", 304)]

    gh.submit_review(REPO, number, user=world.maintainer, event="COMMENT", body="rename f")
    before = len(gh.requests)
    assert len((await sync.run_pass()).followups) == 1
    paths = [r.path for r in gh.requests[before:]]
    assert f"/repos/{REPO}/pulls/{number}/reviews" in paths
    assert not [p for p in paths if "/check-runs" in p]  # CI of that head is settled


async def test_with_a_webhook_the_loop_polls_on_deliveries(
    world: World, service: SwarmService, clock: ManualClock
) -> None:
    settings = dataclasses.replace(world.settings, webhook_secret="s3cret", poll_s=60)
    sync = GitHubSync(service, settings)
    try:
        world.gh.open_issue(REPO, "One", "x", labels=["swarm"], labeled_by=world.maintainer)
        assert await sync.fire() == 1
        world.gh.open_issue(REPO, "Two", "x", labels=["swarm"], labeled_by=world.maintainer)
        clock.advance(120)
        assert await sync.fire() == 0  # no delivery: no poll a minute on
        await service.store.write("github", webhook.record, "issues", "d-1")
        clock.advance(2)
        assert await sync.fire() == 1  # the delivery: polled now
        world.gh.open_issue(REPO, "Three", "x", labels=["swarm"], labeled_by=world.maintainer)
        clock.advance(900)
        assert await sync.fire() == 1  # the safety poll
    finally:
        await sync.stop()
