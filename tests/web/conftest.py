"""Fixtures of the web tests: the real app over the real service, tokens, httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.web.app import create_app
from bot.web.settings import WebSettings
from core.access import _tokens as tokens
from core.history.audit_queries import AuditRow
from core.service.swarm import SwarmService


async def make_token(
    service: SwarmService, role: str, name: str, expires_at: float | None = None
) -> str:
    """Store a new token of ``role`` and return it."""
    token = tokens.new_token()
    await service.store.update(
        tokens.create, token, name, tokens.Role(role), service.clock.now(), expires_at
    )
    return token


async def acting_rows(service: SwarmService, limit: int = 100) -> list[AuditRow]:
    """The audit rows of requests made with a web token, newest first (the creation of each
    token is audited too: a person's row, left out here)."""
    rows = await service.history.audit_rows(limit)
    return [r for r in rows if str(r.user_id).startswith("web-token:")]


@pytest.fixture
async def admin_token(service: SwarmService) -> str:
    """An admin token named ``laptop``."""
    return await make_token(service, "admin", "laptop")


@pytest.fixture
async def viewer_token(service: SwarmService) -> str:
    """A viewer token named ``wall``."""
    return await make_token(service, "viewer", "wall")


@pytest.fixture
async def client(service: SwarmService) -> AsyncIterator[httpx.AsyncClient]:
    """httpx against the real application (in-process ASGI), bound to localhost."""
    app = create_app(service, WebSettings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of ``token``."""
    return {"Authorization": f"Bearer {token}"}
