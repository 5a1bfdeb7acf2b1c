"""A local Discord-API-compatible server (REST v10 + gateway) for tests and the demo.

Typical use::

    async with LocalDiscordServer(heartbeat_interval_s=1.0) as server:
        channel = server.add_text_channel("tasks")   # configure before the bot connects
        alice = server.add_user("alice")
        async with running_client(server, MyClient(**local_client_options())):
            handle = await server.invoke_slash(alice, "task create", {"title": "x"})
            callback = await handle.wait_callback()

Only :mod:`localdiscord.client` imports discord.py; the server itself needs only aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localdiscord.interactions import InteractionCallback, InteractionHandle, MessageEdit
from localdiscord.messages import RecordedAttachment, RecordedMessage, UploadedFile
from localdiscord.ratelimits import DISCORD_BUCKETS, DISCORD_RATE_LIMITS, Limit, RateLimits
from localdiscord.server import LocalDiscordServer, RecordedRequest
from localdiscord.snowflake import SnowflakeGenerator, snowflake_time
from localdiscord.webclient import WebClient
from localdiscord.world import ChannelSpec, GuildSpec, Overwrite, RoleSpec, UserSpec

if TYPE_CHECKING:  # the real names, for type checkers; loaded lazily below
    from localdiscord.client import local_client_options, pointed_at, running_client

__all__ = [
    "DISCORD_BUCKETS",
    "DISCORD_RATE_LIMITS",
    "ChannelSpec",
    "GuildSpec",
    "InteractionCallback",
    "InteractionHandle",
    "Limit",
    "LocalDiscordServer",
    "MessageEdit",
    "Overwrite",
    "RateLimits",
    "RecordedAttachment",
    "RecordedMessage",
    "RecordedRequest",
    "RoleSpec",
    "SnowflakeGenerator",
    "UploadedFile",
    "UserSpec",
    "WebClient",
    "local_client_options",
    "pointed_at",
    "running_client",
    "snowflake_time",
]


def __getattr__(name: str) -> object:
    """Lazy access to the discord.py-dependent helpers, so the server imports without it."""
    if name in ("pointed_at", "running_client", "local_client_options"):
        from localdiscord import client

        return getattr(client, name)
    raise AttributeError(name)
