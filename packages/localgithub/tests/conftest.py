"""Fixtures: a started LocalGitHub with one repository and three users, and JSON clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from ghtest import REPO, Api, Scene
from localgithub import LocalGitHub


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    """acme/app (main: README.md, app.py), alice (write), bob (read), carol (admin)."""
    async with LocalGitHub(tmp_path / "server") as gh, aiohttp.ClientSession() as session:
        gh.create_repo(REPO, files={"README.md": "# app\n", "app.py": "print('hi')\n"})
        tokens = {
            "alice": gh.add_user("alice", "write"),
            "bob": gh.add_user("bob", "read"),
            "carol": gh.add_user("carol", "admin", classic=True),
        }
        yield Scene(
            gh,
            tokens,
            Api(session, gh.api_url, tokens["alice"]),
            Api(session, gh.api_url, tokens["bob"]),
            Api(session, gh.api_url, None),
            session,
        )
