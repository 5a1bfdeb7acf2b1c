"""Webhooks: events POSTed as GitHub sends them, signed with ``X-Hub-Signature-256``."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp

from localgithub.api_pulls import pull_json
from localgithub.model import CheckRun, Comment, Issue, Json, Label, Repo, Review, Status

if TYPE_CHECKING:
    from localgithub.server import LocalGitHub

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hook:
    """One webhook: where to POST, the secret, the events it wants (``*``: all)."""

    url: str
    secret: str
    events: tuple[str, ...]


@dataclass(frozen=True)
class Delivery:
    """One delivery attempt: the event, its action, the receiver's status (0: unreachable)."""

    event: str
    action: str
    status: int
    guid: str


def signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Webhooks:
    """Queues events from the world and delivers them in order, one at a time."""

    def __init__(self, server: LocalGitHub) -> None:
        self._server = server
        self.hooks: list[Hook] = []
        self.deliveries: list[Delivery] = []
        self._queue: asyncio.Queue[tuple[str, str, Json]] | None = None
        self._task: asyncio.Task[None] | None = None
        server.world.listeners.append(self._on_event)

    def add(self, url: str, secret: str, events: tuple[str, ...] = ("*",)) -> None:
        """Deliver ``events`` to ``url`` from now on."""
        self.hooks.append(Hook(url, secret, events))

    def _on_event(self, event: str, action: str, repo: Repo, data: dict[str, object]) -> None:
        if not self.hooks:
            return
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._deliver_all())
        self._queue.put_nowait((event, action, self._snapshot(event, action, repo, data)))

    def _snapshot(self, event: str, action: str, repo: Repo, data: dict[str, object]) -> Json:
        render = self._server.render
        sender = str(data.get("sender") or repo.owner)
        payload: Json = {"action": action} if action else {}
        issue = data.get("issue")
        if isinstance(issue, Issue):
            if event in ("pull_request", "pull_request_review"):
                payload["number"] = issue.number
                payload["_pull"] = issue
            else:
                payload["issue"] = render.issue(repo, issue)
        for key, value in data.items():
            if isinstance(value, Label):
                payload[key] = render.label(repo, value)
            elif isinstance(value, Comment):
                payload[key] = render.comment(repo, value)
                sender = value.user
            elif isinstance(value, Review):
                payload[key] = render.review(repo, value)
                sender = value.user
            elif isinstance(value, CheckRun):
                payload[key] = render.check_run(repo, value)
            elif isinstance(value, str) and key != "sender":
                payload[key] = value
            elif isinstance(value, Status):
                payload.update(render.status(repo, value))
                payload["sha"] = value.sha
        payload["repository"] = render.repo(repo)
        payload["sender"] = render.user(sender)
        payload["_repo"] = repo
        return payload

    async def _deliver_all(self) -> None:
        assert self._queue is not None
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while True:
                event, action, payload = await self._queue.get()
                try:
                    await self._deliver(session, event, action, payload)
                finally:
                    self._queue.task_done()

    async def _deliver(
        self, session: aiohttp.ClientSession, event: str, action: str, payload: Json
    ) -> None:
        repo = payload.pop("_repo")
        pull = payload.pop("_pull", None)
        if pull is not None:
            payload["pull_request"] = await pull_json(self._server.render, repo, pull)
        body = json.dumps(payload).encode()
        for hook in self.hooks:
            if "*" not in hook.events and event not in hook.events:
                continue
            guid = str(uuid.uuid4())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "GitHub-Hookshot/localgithub",
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": guid,
                "X-GitHub-Hook-ID": str(abs(hash(hook.url)) % 10**9),
                "X-Hub-Signature-256": signature(hook.secret, body),
            }
            status = 0
            try:
                async with session.post(hook.url, data=body, headers=headers) as response:
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("webhook %s to %s failed: %s", event, hook.url, exc)
            self.deliveries.append(Delivery(event, action, status, guid))

    async def drain(self) -> None:
        """Wait until every queued event has been delivered."""
        if self._queue is not None:
            await self._queue.join()

    async def close(self) -> None:
        """Stop delivering."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            self._queue = None
