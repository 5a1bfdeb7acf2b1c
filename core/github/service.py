"""GitHub's rows as the front ends ask for them: the issues followed, a CI choice, the
webhook's deliveries (``service.github``)."""

from __future__ import annotations

from typing import Any

from core.github import links, webhook
from core.github.links import CiDecision, Link
from core.store.access import StoreAccess


class GitHubBook:
    """The GitHub integration's named operations for the CLI, Discord and the dashboard."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    async def links(self, repo: str, limit: int = 200) -> list[Link]:
        """The issues of ``repo`` followed, newest first."""
        return await self.access.read(links.all_links, repo, limit)

    async def link_of_task(self, task_id: int) -> Link | None:
        """The issue (and its PR) a task came from, if any."""
        return await self.access.read(links.link_of_task, task_id)

    async def ci_decision(self, task_id: int) -> CiDecision | None:
        """The choice made for the task's CI that failed past its retries, if one was."""
        return await self.access.read(links.ci_decision, task_id)

    async def ci_exhausted(self, task_id: int) -> dict[str, Any]:
        """What the task's ``github.ci_exhausted`` said (check, log tail, PR), or ``{}``."""
        return await self.access.read(links.exhausted_data, task_id) or {}

    async def decide_ci(self, task_id: int, action: str, actor: str) -> CiDecision:
        """Retry, take over or close, once (InvalidState names who chose before)."""
        return await self.access.write(actor, links.decide_ci, task_id, action)

    async def receive(self, event: str, delivery_id: str, body_digest: str) -> bool:
        """Record a webhook delivery for the GitHub loop; False for a replay."""
        return await self.access.write("github", webhook.receive, event, delivery_id, body_digest)

    async def look_now(self, actor: str, source: str, request_id: str) -> None:
        """Ask the GitHub loop to look at GitHub at its next tick (``swarm github import``,
        ``/github import``): recorded as a delivery from ``source``."""
        await self.access.write(actor, webhook.record, source, request_id)
