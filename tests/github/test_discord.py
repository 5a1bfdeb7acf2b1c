"""Discord's /github against the local Discord and a local GitHub: status, import now (the
loop polls at its next tick, woken by the recorded request)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from localdiscord import LocalDiscordServer, running_client

from core.github import webhook
from core.github_loop.sync import GitHubSync
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.discord.conftest import builder_for
from tests.discord.conftest import server as server  # the local Discord fixture
from tests.github.conftest import REPO, World
from tests.github.test_merge import _pull_request


@pytest.fixture
async def service(home: Path) -> AsyncIterator[SwarmService]:
    """The service on the real clock (the bot's world)."""
    svc = await SwarmService.open(Settings.from_env({"SWARM_HOME": str(home)}))
    yield svc
    await svc.close()


async def test_github_status_and_import_now(
    server: LocalDiscordServer, service: SwarmService, world: World
) -> None:
    builder = builder_for(server, service, github=world.settings)
    users = {u.name: u for u in server.guild.users}
    async with builder.ai(service) as ai, running_client(server, builder.bot(service, ai)):
        await server.wait_for_commands("github")
        world.gh.open_issue(REPO, "Via Discord", "x", labels=["swarm"], labeled_by="maria")
        loop = GitHubSync(service, world.settings)
        try:
            assert await loop.fire() == 1  # the first pass imports; the next poll is 60 s off
            world.gh.open_issue(REPO, "Second", "x", labels=["swarm"], labeled_by="maria")
            assert await loop.fire() == 0  # not due
            refused = await (
                await server.invoke_slash(users["dev"], "github import")
            ).wait_callback()
            assert "admin" in refused.data["content"].lower()
            asked = await (
                await server.invoke_slash(users["boss"], "github import")
            ).wait_callback()
            assert f"looks at {REPO} now" in asked.data["content"]
            assert await service.store.read(webhook.latest) > 0
            assert await loop.fire() == 1  # woken by the request: #2 imported now
        finally:
            await loop.stop()
        handle = await server.invoke_slash(users["dev"], "github status", {})
        (reply,) = await handle.wait_followups(1)
        assert reply.content.startswith(f"GitHub: ok: {REPO} as swarm-bot: write access")
        assert "#1 → T-1" in reply.content and world.token not in reply.content


async def test_the_merge_button_of_a_task_with_a_pr_merges_on_github_gated_by_ci(
    server: LocalDiscordServer, service: SwarmService, world: World, tmp_path: Path
) -> None:
    """Issue 41, item 5: Discord's Merge of a task with a PR goes through GitHub as `swarm
    task merge` does (before: merged locally, whatever its CI), so a head CI never ran on is
    refused with the reason."""
    task_id = await _pull_request(world, service, tmp_path, "NEW.md", ci=False)
    (pr,) = [i.number for i in world.gh.repo(REPO).issues.values() if i.pull is not None]
    world.gh.submit_review(REPO, pr, user=world.maintainer, event="APPROVE")
    builder = builder_for(server, service, github=world.settings)
    users = {u.name: u for u in server.guild.users}
    async with builder.ai(service) as ai, running_client(server, builder.bot(service, ai)):
        await server.wait_for_commands("task")
        handle = await server.invoke_slash(users["boss"], "task merge", {"id": f"T-{task_id}"})
        await handle.wait_callback()
        ask = await handle.wait_original()
        refused = await (
            await server.click_button(users["boss"], ask, f"swarm:merge:{task_id}")
        ).wait_callback()
        assert refused.data["content"].startswith(f"⚠️ PR #{pr} of T-{task_id}: no green CI")
        pull = world.gh.issue(REPO, pr).pull
        assert pull is not None and not pull.merged
