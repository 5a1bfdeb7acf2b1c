"""What swarm writes on GitHub is written once (issue 40, item 15): a progress comment, a
dashboard review, a close or take-over comment whose POST took effect but whose answer was
lost (localgithub's injected failure at that request), cut by a rate limit before swarm
recorded it, or whose process was killed (SIGKILL) between GitHub's answer and the record,
is found again by its hidden mark instead of being posted a second time."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest

from bot.web.app import create_app
from bot.web.settings import WebSettings
from core.github import links
from core.github.client import GitHubError, RateLimited
from core.github_loop.sync import GitHubSync
from core.service.swarm import SwarmService
from core.workspaces._manager import InitRequest, init
from tests.github.conftest import REPO, World
from tests.github.test_ci_buttons import _failed_past_retries
from tests.github.test_cli import _env
from tests.github.test_pull_requests import _checkout, _commit, _started
from tests.helpers import ROOT, cli_env
from tests.web.conftest import bearer, make_token


def _ours(world: World, number: int) -> list[str]:
    """swarm's comments on issue or PR ``number``."""
    found = world.gh.repo(REPO).comments.values()
    return [c.body for c in found if c.issue == number and c.user == "swarm-bot"]


@pytest.mark.both_databases
async def test_a_lost_answer_or_a_rate_limit_never_posts_a_comment_twice(
    world: World, service: SwarmService
) -> None:
    gh, sync = world.gh, world.sync
    gh.open_issue(REPO, "Lost answer", "x", labels=["swarm"], labeled_by=world.maintainer)
    gh.fail("POST", f"/repos/{REPO}/issues/1/comments")  # made on GitHub, answered 502
    with pytest.raises(GitHubError, match="502"):
        await sync.run_pass()
    await sync.run_pass()
    (comment,) = _ours(world, 1)
    assert comment.startswith("<!-- swarm:T-1 -->") and "T-1 queued" in comment
    assert "swarm:queued" in gh.issue(REPO, 1).labels

    gh.open_issue(REPO, "Rate limit", "x", labels=["swarm"], labeled_by=world.maintainer)
    gh.fail("POST", f"/repos/{REPO}/issues/2/labels", status=429, after=False)
    with pytest.raises(RateLimited):  # the comment is on GitHub, its id not recorded
        await sync.run_pass()
    await sync.run_pass()
    assert len(_ours(world, 2)) == 1 and "swarm:queued" in gh.issue(REPO, 2).labels


async def test_a_lost_answer_never_posts_a_dashboard_review_twice(
    world: World, service: SwarmService, tmp_path: Path
) -> None:
    gh, sync = world.gh, world.sync
    repo = await _checkout(world, tmp_path)
    init(service.settings.home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    task_id, tree = await _started(world, service, sync, "Feature")
    _commit(tree, "feature.py", "A = 1\n", "feature")
    await service.tasks.complete(task_id, "Agent-1", "done")
    (number,) = (await sync.run_pass(poll=False)).pushed
    app = create_app(service, WebSettings())
    headers = bearer(await make_token(service, "admin", "test"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", headers=headers
    ) as http:
        url = f"/api/v1/tasks/T-{task_id}/review"
        comment = {"text": "name A better", "path": "feature.py", "line": 1}
        assert (await http.post(f"{url}/comments", json=comment)).status_code == 201
        assert (await http.post(f"{url}/send")).status_code == 200

    gh.fail("POST", f"/repos/{REPO}/pulls/{number}/reviews")
    with pytest.raises(GitHubError, match="502"):
        await sync.run_pass(poll=False)
    await sync.run_pass(poll=False)
    (review,) = gh.repo(REPO).reviews.values()
    assert review.user == "swarm-bot" and "Review from swarm's dashboard" in review.body
    await sync.run_pass(poll=False)
    assert len(gh.repo(REPO).reviews) == 1
    assert (await sync.run_pass()).followups == []  # swarm's own review: not sent back


async def test_a_close_is_said_once_after_a_lost_answer(
    world: World, service: SwarmService, tmp_path: Path
) -> None:
    repo = await _checkout(world, tmp_path)
    init(service.settings.home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    sync = GitHubSync(service, dataclasses.replace(world.settings, ci_retries=0))
    try:
        task_id, pr = await _failed_past_retries(world, service, sync, "Agent-1", "One")
        await service.store.write("cli", links.decide_ci, task_id, "close")
        world.gh.fail("POST", f"/repos/{REPO}/issues/{pr}/comments")
        with pytest.raises(GitHubError, match="502"):
            await sync.run_pass(poll=False)
        await sync.run_pass(poll=False)
    finally:
        await sync.stop()
    (said,) = _ours(world, pr)
    assert said.startswith("Closed by cli through swarm") and world.gh.issue(REPO, pr).state == (
        "closed"
    )


async def test_a_kill_between_the_comment_and_its_record_posts_it_once(
    world: World, service: SwarmService
) -> None:
    gh = world.gh
    gh.open_issue(REPO, "Killed", "x", labels=["swarm"], labeled_by=world.maintainer)
    held = gh.fail("POST", f"/repos/{REPO}/issues/1/comments", hang=True)
    env = cli_env(service.settings.home, env=_env(world, world.token))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli.main",
        "github",
        "import",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await asyncio.wait_for(held.reached.wait(), 60)  # the comment is made, unanswered
        os.kill(proc.pid, signal.SIGKILL)
        assert await asyncio.wait_for(proc.wait(), 10) == -signal.SIGKILL
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        held.release()
    assert len(_ours(world, 1)) == 1
    (link,) = await service.store.read(links.open_links, REPO)
    assert link.comment_id is None  # imported, the comment never recorded
    await world.sync.run_pass()
    (comment,) = _ours(world, 1)
    assert "T-1 queued" in comment and "swarm:queued" in gh.issue(REPO, 1).labels
    (link,) = await service.store.read(links.open_links, REPO)
    assert link.comment_id is not None
