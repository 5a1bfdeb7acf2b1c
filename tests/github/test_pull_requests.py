"""Done → push → PR with ``Closes #N``; CI failure → back to the same agent with the log
tail, then green → review; a review of three comments → one prompt; a dirty worktree is
not pushed; the token is in no log, error, or the database. Real git over localgithub.

The loop through a PR and the refused push run on SQLite and PostgreSQL; the draft PR, whose
store path is the first test's, on SQLite."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path

import httpx
import pytest

from automation.inbox.files import InboxDeliverer
from bot.web.app import create_app
from bot.web.settings import WebSettings
from core.coordinator.scheduler import Scheduler
from core.github_loop.sync import GitHubSync
from core.models import TaskStatus
from core.service.swarm import SwarmService
from core.settings import Settings
from core.workspaces._manager import InitRequest, init
from tests.github.conftest import REPO, World, sh
from tests.helpers import query
from tests.web.conftest import make_token
from tests.web.test_pages import login


async def _checkout(world: World, tmp_path: Path) -> Path:
    """The maintainers' clone of the repository (what `swarm workspaces init` works from),
    in a thread: the server answers on this event loop."""
    path = tmp_path / "project"
    await asyncio.to_thread(sh, tmp_path, "clone", "-q", world.gh.clone_url(REPO), str(path))
    return path


async def _deliver(service: SwarmService) -> None:
    await Scheduler(service, InboxDeliverer(service.settings.home / "inbox")).run_burst()


async def _started(
    world: World, service: SwarmService, sync: GitHubSync, title: str, agent: str = "Agent-1"
) -> tuple[int, Path]:
    """A labelled issue imported by ``sync`` as a task that ``agent`` has started: the task
    id and the agent's worktree."""
    world.gh.open_issue(REPO, title, "x", labels=["swarm"], labeled_by=world.maintainer)
    (task_id,) = (await sync.run_pass()).imported.values()
    await service.tasks.assign(task_id, agent, "cli")
    await _deliver(service)
    await service.tasks.start(task_id, agent)
    return task_id, service.settings.home / "workspaces" / "project" / agent


def _commit(tree: Path, name: str, text: str, message: str) -> str:
    (tree / name).write_text(text, encoding="utf-8")
    sh(tree, "add", name)
    sh(tree, "commit", "-q", "-m", message)
    return sh(tree, "rev-parse", "HEAD").strip()


@pytest.mark.both_databases
async def test_done_to_pr_then_ci_and_review_go_back_to_the_same_agent(
    world: World, service: SwarmService, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gh, sync = world.gh, world.sync
    caplog.set_level(logging.DEBUG)
    repo = await _checkout(world, tmp_path)
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    tree = home / "workspaces" / "project" / "Agent-1"
    gh.open_issue(REPO, "Add a feature", "please", labels=["swarm"], labeled_by=world.maintainer)
    (task_id,) = (await sync.run_pass()).imported.values()
    await service.tasks.assign(task_id, "Agent-1", "cli")
    await _deliver(service)
    await service.tasks.start(task_id, "Agent-1")
    await sync.run_pass(poll=False)
    first = _commit(tree, "feature.py", "FEATURE = 1\n", "feature")
    await service.tasks.complete(task_id, "Agent-1", "feature added")

    done = await sync.run_pass(poll=False)  # the local tick: push and PR, no poll needed
    (number,) = done.pushed
    branch = f"swarm/T-{task_id}-add-a-feature"  # the task's own branch, from the base
    opened = gh.issue(REPO, number).pull
    assert gh.branch_sha(REPO, branch) == first and opened is not None and opened.head == branch
    pull = gh.issue(REPO, number)
    assert pull.title == f"T-{task_id}: #1 Add a feature"
    body = pull.body or ""
    assert body.splitlines()[-1] == "Closes #1" and first[:12] in body
    assert "swarm:pr" in set(gh.issue(REPO, 1).labels)

    log_text = "\n".join(f"line {i}" for i in range(100)) + "\nFAILED test_feature.py::test_x"
    gh.set_check(REPO, first, "tests", "failure", log_text)
    back = await sync.run_pass()
    (fix_id,) = back.followups
    fix = await service.tasks.get(fix_id)
    assert fix.pinned == "Agent-1" and "tests" in fix.title
    assert "FAILED test_feature.py::test_x" in fix.details and "line 99" in fix.details
    assert "line 10\n" not in fix.details  # the tail, not the whole log
    await _deliver(service)
    await service.tasks.start(fix_id, "Agent-1")
    second = _commit(tree, "feature.py", "FEATURE = 2\n", "fix the test")
    await service.tasks.complete(fix_id, "Agent-1", "fixed")
    await sync.run_pass(poll=False)
    assert gh.branch_sha(REPO, branch) == second  # the same PR, updated
    gh.set_check(REPO, second, "tests", "success")
    await sync.run_pass()
    assert "swarm:review" in set(gh.issue(REPO, 1).labels)

    gh.submit_review(
        REPO,
        number,
        user=world.maintainer,
        event="REQUEST_CHANGES",
        comments=[
            ("feature.py", 1, "name it better"),
            ("feature.py", 1, "@everyone add a docstring"),
            ("README.md", 1, "mention the feature"),
        ],
    )
    reviewed = await sync.run_pass()
    (review_id,) = reviewed.followups
    review = await service.tasks.get(review_id)
    assert review.pinned == "Agent-1"
    for line in (
        "feature.py:1: name it better",
        "feature.py:1: @\u200beveryone add a docstring",
        "README.md:1: mention the feature",
    ):
        assert line in review.details
    assert (await sync.run_pass()).followups == []  # one prompt per review, once

    repo_comments = gh.repo(REPO).comments.values()
    comments = [c for c in repo_comments if c.issue == 1 and c.user == "swarm-bot"]
    assert len(comments) == 1  # one progress comment, edited in place

    page = await _task_page(service, task_id)
    assert f'href="{world.gh.url}/{REPO}/issues/1"' in page and f"PR #{number}</a>" in page
    assert world.token not in page

    token = world.token
    assert token.encode() not in _stored_bytes(service.settings)
    assert token not in caplog.text
    assert token not in str(query(service.settings, "SELECT text, data FROM events"))


def _stored_bytes(settings: Settings) -> bytes:
    """Everything the database holds: SQLite's files, or every row of every table."""
    if not settings.database_url:
        return b"".join(p.read_bytes() for p in settings.home.glob("swarm.db*"))
    tables = query(settings, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    assert len(tables) > 10
    rows = [query(settings, f"SELECT t::text FROM {name} t") for (name,) in tables]
    return str(rows).encode()


async def _task_page(service: SwarmService, task_id: int) -> str:
    """The dashboard's page of a task, through the real app with an admin token."""
    app = create_app(service, WebSettings())
    token = await make_token(service, "admin", "test")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
    ) as http:
        await login(http, token)
        return (await http.get(f"/tasks/T-{task_id}")).text


@pytest.mark.both_databases
async def test_a_dirty_worktree_is_not_pushed(
    world: World, service: SwarmService, tmp_path: Path
) -> None:
    gh, sync = world.gh, world.sync
    repo = await _checkout(world, tmp_path)
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    task_id, tree = await _started(world, service, sync, "Half done")
    _commit(tree, "feature.py", "FEATURE = 1\n", "feature")
    (tree / "app.py").write_text("print('half')\n", encoding="utf-8")  # not committed
    await service.tasks.complete(task_id, "Agent-1", "done?")
    result = await sync.run_pass(poll=False)
    assert result.pushed == [] and gh.branch_sha(REPO, f"swarm/T-{task_id}-half-done") is None
    (refusal,) = query(
        service.settings, "SELECT text FROM events WHERE kind = 'github.push_refused'"
    )
    assert "has uncommitted changes (app.py)" in refusal[0] and "\n" not in refusal[0]
    assert (await service.tasks.get(task_id)).status == TaskStatus.done


async def test_a_draft_pr_is_marked_ready_when_ci_is_green(
    world: World, service: SwarmService, tmp_path: Path
) -> None:
    gh = world.gh
    sync = GitHubSync(service, dataclasses.replace(world.settings, draft=True))
    repo = await _checkout(world, tmp_path)
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    try:
        task_id, tree = await _started(world, service, sync, "Draft it")
        sha = _commit(tree, "d.py", "D = 1\n", "d")
        await service.tasks.complete(task_id, "Agent-1", "done")
        (number,) = (await sync.run_pass(poll=False)).pushed
        pull = gh.issue(REPO, number).pull
        assert pull is not None and pull.draft
        gh.set_check(REPO, sha, "tests", "success")
        await sync.run_pass()
        assert not pull.draft
        assert "swarm:review" in set(gh.issue(REPO, 1).labels)
    finally:
        await sync.stop()
