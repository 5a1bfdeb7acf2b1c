"""Test helpers: a JSON client for the API, the scene the fixture builds, real git."""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from localgithub import LocalGitHub
from multidict import CIMultiDict

REPO = "acme/app"


@dataclass
class Reply:
    """A response: status, decoded JSON body (None if empty) and headers."""

    status: int
    body: Any
    headers: CIMultiDict[str]


class Api:
    """A small JSON client for the server's REST API, authenticated with one token."""

    def __init__(self, session: aiohttp.ClientSession, base: str, token: str | None) -> None:
        self.session = session
        self.base = base
        self.token = token

    async def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Reply:
        """Send one request; ``path`` is relative to the API base unless it is a full URL."""
        sent = {"Accept": "application/vnd.github+json", **(headers or {})}
        if self.token:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        url = path if path.startswith("http") else self.base + path
        data = None if body is None else json.dumps(body)
        async with self.session.request(method, url, data=data, headers=sent) as response:
            raw = await response.read()
            parsed = json.loads(raw) if raw else None
            return Reply(response.status, parsed, CIMultiDict(response.headers))

    async def get(self, path: str, **kw: Any) -> Reply:
        """GET."""
        return await self.call("GET", path, **kw)

    async def post(self, path: str, body: Any = None) -> Reply:
        """POST."""
        return await self.call("POST", path, body)

    async def patch(self, path: str, body: Any) -> Reply:
        """PATCH."""
        return await self.call("PATCH", path, body)

    async def put(self, path: str, body: Any = None) -> Reply:
        """PUT."""
        return await self.call("PUT", path, body)

    async def delete(self, path: str) -> Reply:
        """DELETE."""
        return await self.call("DELETE", path)


@dataclass
class Scene:
    """The server, its tokens and a client per user."""

    gh: LocalGitHub
    tokens: dict[str, str]
    alice: Api
    bob: Api
    anon: Api
    session: aiohttp.ClientSession

    def as_user(self, token: str | None) -> Api:
        """A client with another token."""
        return Api(self.session, self.gh.api_url, token)


async def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real git CLI (in a thread: the server shares the test's event loop) with a
    fixed identity and no user or system configuration."""
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOME": str(cwd.parent),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
    }
    return await asyncio.to_thread(
        subprocess.run,
        ["git", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=30,
    )
