"""A review made on the dashboard (its REST API, the real app) of a task with a PR reaches
GitHub as one PR review, once: comments on lines of the PR's diff as review comments, the
others (a line outside the diff, the whole task) in the review's text as file:line; the loop
does not send that review back to the agent a second time."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.web.app import create_app
from bot.web.settings import WebSettings
from core.service.swarm import SwarmService
from core.workspaces._manager import InitRequest, init
from tests.github.conftest import REPO, World
from tests.github.test_pull_requests import _checkout, _commit, _started
from tests.web.conftest import bearer, make_token


# both stores: the reviews' rows (events, comments) are read by name, dicts on PostgreSQL
@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_a_dashboard_review_becomes_one_pr_review(
    world: World, service: SwarmService, tmp_path: Path
) -> None:
    gh, sync = world.gh, world.sync
    repo = await _checkout(world, tmp_path)
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    task_id, tree = await _started(world, service, sync, "Feature")
    _commit(tree, "feature.py", "A = 1\nB = 2\n", "feature")
    await service.tasks.complete(task_id, "Agent-1", "done")
    (number,) = (await sync.run_pass(poll=False)).pushed

    app = create_app(service, WebSettings())
    headers = bearer(await make_token(service, "admin", "test"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", headers=headers
    ) as http:
        url = f"/api/v1/tasks/T-{task_id}/review"
        for comment in (
            {"text": "name B better", "path": "feature.py", "line": 2},
            {"text": "mention it here", "path": "README.md", "line": 1},  # outside the diff
            {"text": "add a test"},  # the whole task
        ):
            assert (await http.post(f"{url}/comments", json=comment)).status_code == 201
        assert (await http.post(f"{url}/send")).status_code == 200

    await sync.run_pass(poll=False)
    state = gh.repo(REPO)
    (review,) = state.reviews.values()
    assert (review.pull, review.user, review.state) == (number, "swarm-bot", "COMMENTED")
    assert "README.md:1: mention it here" in review.body
    assert "(the whole change): add a test" in review.body
    inline = [(c.path, c.line, c.body) for c in state.review_comments.values()]
    assert inline == [("feature.py", 2, "name B better")]

    await sync.run_pass(poll=False)
    assert len(state.reviews) == 1  # once
    assert (await sync.run_pass()).followups == []  # the agent has it already
