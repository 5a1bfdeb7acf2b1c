"""Discord's /github against the local Discord and a local GitHub: status, import now (the
loop polls at its next tick, woken by the recorded request)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from localdiscord import LocalDiscordServer, running_client

from core.github import webhook
from core.github.sync import GitHubSync
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.discord.conftest import builder_for
from tests.discord.conftest import server as server  # the local Discord fixture
from tests.github.conftest import REPO, World


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
            assert await service.read(webhook.latest) > 0
            assert await loop.fire() == 1  # woken by the request: #2 imported now
        finally:
            await loop.stop()
        handle = await server.invoke_slash(users["dev"], "github status", {})
        (reply,) = await handle.wait_followups(1)
        assert reply.content.startswith(f"GitHub: ok: {REPO} as swarm-bot: write access")
        assert "#1 → T-1" in reply.content and world.token not in reply.content
