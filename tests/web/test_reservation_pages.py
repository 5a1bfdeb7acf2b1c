"""File reservations on the dashboard: the task page lists the task's, the agents page each
agent's (escaped: a pattern is text from an agent). Real app, real SQLite file."""

from __future__ import annotations

import httpx

from core.models import TaskSpec
from core.service.swarm import SwarmService
from tests.web.test_pages import login


async def test_task_and_agent_pages_show_reservations(
    client: httpx.AsyncClient, service: SwarmService, viewer_token: str
) -> None:
    task = await service.tasks.create(TaskSpec("API", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    await service.reservations.reserve("Agent-2", ["src/api/**"])
    await service.reservations.reserve("Agent-3", ["<b>x</b>.md"], exclusive=False, ttl_s=60)
    await login(client, viewer_token)
    page = (await client.get(f"/tasks/{task.ref}")).text
    assert "File reservations" in page and "<code>src/api/**</code> exclusive by Agent-2" in page
    agents = (await client.get("/agents")).text
    card2 = agents.split('id="agent-Agent-2"')[1].split("</article>")[0]
    assert f"reserved: <code>src/api/**</code> exclusive ({task.ref})" in card2
    card3 = agents.split('id="agent-Agent-3"')[1].split("</article>")[0]
    assert "<code>&lt;b&gt;x&lt;/b&gt;.md</code> shared" in card3
    other = await service.tasks.create(TaskSpec("docs", agent="Agent-4"), "cli")
    assert "File reservations" not in (await client.get(f"/tasks/{other.ref}")).text
