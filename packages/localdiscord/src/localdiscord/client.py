"""Pointing discord.py at a LocalDiscordServer and running a client against it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

if TYPE_CHECKING:
    from localdiscord.server import LocalDiscordServer

log = logging.getLogger(__name__)
ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.contextmanager
def pointed_at(server: LocalDiscordServer) -> Iterator[None]:
    """Point discord.py's REST base and gateway URL at ``server``; restore them afterwards.

    These are class attributes, so only one server can be targeted per process at a time.
    """
    saved_base, saved_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = server.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(server.gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved_base, saved_gateway


def local_client_options() -> dict[str, Any]:
    """Client keyword arguments that suit the local server: no chunking, fast ready."""
    intents = discord.Intents.default()
    intents.members = False
    intents.presences = False
    return {"intents": intents, "chunk_guilds_at_startup": False, "guild_ready_timeout": 0.05}


@contextlib.asynccontextmanager
async def running_client(
    server: LocalDiscordServer, client: ClientT, *, timeout_s: float = 10.0
) -> AsyncIterator[ClientT]:
    """Start ``client`` against ``server``, wait until it is ready, close it cleanly on exit."""
    with pointed_at(server):
        task = asyncio.create_task(client.start(server.token), name="localdiscord-client")
        try:
            await _wait_ready(client, task, timeout_s)
            await server.wait_for_bot_ready(timeout_s)
            yield client
        finally:
            await client.close()
            await _finish(task)


async def _wait_ready(client: discord.Client, task: asyncio.Task[None], timeout_s: float) -> None:
    ready = asyncio.create_task(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait(
            {ready, task}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        ready.cancel()
        await _finish(ready)
    if task in done:
        task.result()  # surfaces the start-up error
        raise RuntimeError("the client stopped before it was ready")
    if not done:
        raise TimeoutError(f"the client was not ready after {timeout_s:.1f}s")


async def _finish(task: asyncio.Task[None]) -> None:
    try:
        async with asyncio.timeout(10):
            await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
    except Exception:
        log.exception("client task ended with an error")
