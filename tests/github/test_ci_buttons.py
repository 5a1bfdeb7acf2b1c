"""CI failed past SWARM_CI_RETRIES → one Discord post (check and log tail fenced, nobody
pinged) with retry / take over / close for admins (audited); a press acts, a second press is
told who acted. Real discord.py against the local Discord, real git against the local GitHub."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from localdiscord import LocalDiscordServer, RecordedMessage, UserSpec, running_client

from core.github import links
from core.github_loop.sync import GitHubSync
from core.models import TaskStatus
from core.service.swarm import SwarmService
from core.settings import Settings
from core.workspaces._manager import InitRequest, init
from tests.discord.conftest import builder_for
from tests.discord.conftest import server as server  # the local Discord fixture
from tests.discord.test_mentions import NONE
from tests.discord.test_notifier import edited_to, has
from tests.github.conftest import REPO, World
from tests.github.test_pull_requests import _checkout, _commit, _deliver

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def service(home: Path, database_url: str | None) -> AsyncIterator[SwarmService]:
    """The service on the real clock (the bot's world), on SQLite unless a test asks for
    PostgreSQL (``database_url``)."""
    url = {"SWARM_DATABASE_URL": database_url} if database_url else {}
    svc = await SwarmService.open(Settings.from_env({"SWARM_HOME": str(home), **url}))
    yield svc
    await svc.close()


async def _failed_past_retries(
    world: World, service: SwarmService, sync: GitHubSync, agent: str, title: str
) -> tuple[int, int]:
    """An issue → a task done by ``agent`` → its PR → a failing check past the retries (0):
    the task id and the PR number."""
    gh = world.gh
    gh.open_issue(REPO, title, "x", labels=["swarm"], labeled_by=world.maintainer)
    (task_id,) = (await sync.run_pass()).imported.values()
    await service.tasks.assign(task_id, agent, "cli")
    await _deliver(service)
    await service.tasks.start(task_id, agent)
    tree = service.settings.home / "workspaces" / "project" / agent
    sha = await asyncio.to_thread(_commit, tree, f"{agent}.py", "X = 1\n", title)
    await service.tasks.complete(task_id, agent, "done")
    (number,) = (await sync.run_pass(poll=False)).pushed
    log_text = "\n".join(f"line {i}" for i in range(60)) + "\n@everyone FAILED test_x \x1b[31m"
    gh.set_check(REPO, sha, "tests", "failure", log_text)
    assert (await sync.run_pass()).followups == []  # no retry left: a person is asked
    return task_id, number


async def _press(
    server: LocalDiscordServer, user: UserSpec, post: RecordedMessage, custom_id: str
) -> dict[str, object]:
    answer = await (await server.click_button(user, post, custom_id)).wait_callback()
    return {"type": answer.type, **answer.data}


# both stores: the post reads the exhausted event's data by name (a dict row on PostgreSQL)
@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_ci_past_its_retries_asks_a_person_on_discord(
    server: LocalDiscordServer, service: SwarmService, world: World, tmp_path: Path
) -> None:
    repo = await _checkout(world, tmp_path)
    init(service.settings.home, service.agents, InitRequest(repo, agents=("Agent-1", "Agent-2")))
    sync = GitHubSync(service, dataclasses.replace(world.settings, ci_retries=0))
    users = {u.name: u for u in server.guild.users}
    builder = builder_for(server, service, github=world.settings)
    channel = server.guild.channels[0]
    try:
        async with builder.ai(service) as ai, running_client(server, builder.bot(service, ai)):
            first, pr = await _failed_past_retries(world, service, sync, "Agent-1", "One")
            post = await server.wait_for_message(has(f"T-{first} · PR #{pr}"), channel=channel)
            head, fence = post.content.split("\n", 1)
            assert head == (
                f"🛑 T-{first} · PR #{pr} (issue #1): CI failed past 0 retries (check tests); "
                "an admin chooses:"
            )
            assert fence.startswith("```\ncheck: tests\n") and fence.endswith("\n```")
            assert "@everyone FAILED test_x" in fence and "\x1b" not in fence
            assert post.allowed_mentions == NONE and post.pings == set()
            ids = [f"swarm:ghci:{a}:{first}" for a in ("retry", "takeover", "close")]
            assert post.custom_ids() == ids

            refused = await _press(server, users["dev"], post, ids[0])
            assert "admins only" in str(refused["content"])
            answers = await asyncio.gather(  # two presses at once: one acts
                _press(server, users["boss"], post, ids[0]),
                _press(server, users["boss"], post, ids[0]),
            )
            lost = next(a for a in answers if a["type"] != 7)
            assert sum(a["type"] == 7 for a in answers) == 1 and int(str(lost["flags"])) & 64
            assert lost["content"] == f"⚠️ T-{first}: 'retry' was already chosen by discord:boss"
            await edited_to(server, post, "retry chosen by discord:boss")
            link = await service.store.read(links.link_of_task, first)
            assert link is not None and link.task_id != first and link.ci_retries == 0
            fix = await service.tasks.get(link.task_id)
            assert fix.pinned == "Agent-1" and "@\u200beveryone FAILED" in fix.details
            assert post.custom_ids() == []

            second, pr2 = await _failed_past_retries(world, service, sync, "Agent-2", "Two")
            post2 = await server.wait_for_message(has(f"T-{second} · PR #{pr2}"), channel=channel)
            taken = await _press(server, users["boss"], post2, f"swarm:ghci:takeover:{second}")
            assert taken["type"] == 7
            task = await service.tasks.get(second)
            assert (task.status, task.reason) == (TaskStatus.blocked, "taken over by discord:boss")
            await sync.run_pass(poll=False)  # the loop says so on the PR
            said = [c.body for c in world.gh.repo(REPO).comments.values() if c.issue == pr2]
            assert [s.split("\n")[0] for s in said] == [  # and a hidden mark: said once
                "Taken over by discord:boss: swarm's agents no longer work on this PR."
            ]
            assert "swarm:taken-over" in set(world.gh.issue(REPO, 3).labels)
    finally:
        await sync.stop()
    audit = await service.history.audit_rows()
    assert ("dev", f"button github-ci retry T-{first}", False) in [
        (r.user_name, r.command, bool(r.allowed)) for r in audit
    ]


# both stores: the CI decision's rows (its events) are read by name, dicts on PostgreSQL
@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_close_closes_the_pr_and_cancels_the_task(
    service: SwarmService, world: World, tmp_path: Path
) -> None:
    repo = await _checkout(world, tmp_path)
    init(service.settings.home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    sync = GitHubSync(service, dataclasses.replace(world.settings, ci_retries=0))
    try:
        task_id, pr = await _failed_past_retries(world, service, sync, "Agent-1", "One")
        decided = await service.store.write("cli", links.decide_ci, task_id, "close")
        assert decided.text == f"T-{task_id}: PR #{pr} closed and T-{task_id} cancelled by cli"
        assert (await service.tasks.get(task_id)).status == TaskStatus.cancelled
        await sync.run_pass(poll=False)
        assert world.gh.issue(REPO, pr).state == "closed"
        assert await service.store.read(links.open_links, REPO) == []
    finally:
        await sync.stop()
