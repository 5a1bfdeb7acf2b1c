"""The live stream over the real server: a revoked or expired token ends it, and a client
that comes back gets every event it missed, however many.

A revoke made by another process and the catch-up (events read in commit order) run on SQLite
and PostgreSQL; the expiry, which only the clock decides, on SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.web.events import QUEUE_BYTES, EventHub
from bot.web.server import WebServer
from bot.web.settings import WebSettings
from core.access import _tokens as tokens
from core.event_kinds import EventKind
from core.models import TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.store.conn import Conn
from core.store.tables import insert_event
from tests.helpers import run_cli
from tests.web.conftest import bearer, make_token
from tests.web.live import free_port

pytestmark = pytest.mark.timeout(90)
RECHECK_S = 0.2  # an open stream asks again whether its token works this often (2 s in use)


@contextlib.asynccontextmanager
async def streaming(
    service: SwarmService, token: str, path: str = "/api/v1/events/stream"
) -> AsyncIterator[AsyncIterator[str]]:
    """The lines of one real SSE response from a real server."""
    server = WebServer(service, WebSettings(port=free_port()), poll_s=0.05)
    server.app.state.web.hub.recheck_s = RECHECK_S
    await server.start()
    try:
        async with (
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{server.port}", headers=bearer(token), timeout=30
            ) as http,
            http.stream("GET", path) as response,
        ):
            assert response.status_code == 200
            yield response.aiter_lines()
    finally:
        await server.stop()


async def _until_end(lines: AsyncIterator[str]) -> list[str]:
    return [line async for line in lines]


@pytest.mark.both_databases
async def test_revoking_a_token_through_the_cli_ends_its_open_stream(service: SwarmService) -> None:
    token = await make_token(service, "viewer", "wall")
    token_id = (await service.store.read(tokens.rows))[-1]["id"]
    async with streaming(service, token) as lines:
        assert await anext(lines) == "retry: 1000"
        revoked = await asyncio.to_thread(
            run_cli, service.settings.home, "web", "token", "revoke", str(token_id)
        )
        assert revoked.code == 0, revoked.err
        rest = await asyncio.wait_for(_until_end(lines), 30)  # it ends: no hang
    assert rest[-2:] == ['data: {"error": "unknown, revoked or expired token"}', ""]
    assert "event: revoked" in rest


async def test_an_expiring_token_ends_its_open_stream(
    service: SwarmService, clock: ManualClock
) -> None:
    token = await make_token(service, "viewer", "wall", expires_at=clock.now() + 60)
    async with streaming(service, token) as lines:
        assert await anext(lines) == "retry: 1000"
        clock.advance(61)
        rest = await asyncio.wait_for(_until_end(lines), 30)
    assert "event: revoked" in rest


@pytest.mark.both_databases
async def test_a_client_far_behind_gets_every_event_it_missed_then_live_ones(
    service: SwarmService,
) -> None:
    await service.tasks.create_many([TaskSpec(title=f"missed {n}") for n in range(1200)], "cli")
    newest = (await service.history.last(1))[-1].id
    assert newest >= 1200
    token = await make_token(service, "viewer", "wall")
    seen: list[int] = []
    async with streaming(service, token, "/api/v1/events/stream?after=0") as lines:
        async for line in lines:
            if line.startswith("id: "):
                seen.append(int(line[4:]))
                if seen[-1] == newest:
                    break
        await service.tasks.create(TaskSpec(title="live"), "cli")
        async for line in lines:
            if line.startswith("data: ") and json.loads(line[6:])["kind"] == "task.created":
                assert "live" in line
                break
    assert seen == list(range(1, newest + 1))


async def test_a_listener_that_does_not_read_holds_a_bounded_backlog(service: SwarmService) -> None:
    """Events with large texts for a listener that never takes them: its queue is cut by
    size (long before its 100 chunks), emptied and ended, its memory given back."""
    hub = EventHub(service, poll_s=3600)  # polled by hand below
    big = "x" * 200_000  # an event's data as large as what agents and outsiders may write
    async with hub.subscribe() as subscription:
        for number in range(60):
            await service.store.update(_large_event, number, big)
            await hub.poll_once()
            assert subscription.queue.size <= QUEUE_BYTES + len(big) * 2
        drained = []
        while not subscription.queue.empty():
            drained.append(subscription.queue.get_nowait())
    assert drained[-1] is None, "told to go: it reconnects with Last-Event-ID"
    assert len(drained) < 60
    assert subscription.queue.size == 0


def _large_event(conn: Conn, number: int, text: str) -> None:
    insert_event(conn, 0.0, EventKind.TASK_PROGRESS, f"Large {number}", data={"note": text})
