"""A moderator's changes to the guild: deleting a thread or a channel, setting and lifting a
channel's permission overwrites. The server has no user tokens: these routes take the bot's
token and act as someone allowed to manage the channel, whatever the bot itself may see."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from localdiscord.bodies import json_response, no_content, read_body
from localdiscord.errors import UNKNOWN_CHANNEL, ApiError, not_found
from localdiscord.payloads import channel_payload
from localdiscord.world import ChannelSpec, Overwrite, World

if TYPE_CHECKING:
    from localdiscord.server import LocalDiscordServer


def route_channel(world: World, request: web.Request) -> ChannelSpec:
    """The channel or thread of the route; 404 ``Unknown Channel`` (none, or deleted)."""
    try:
        return world.guild.channel(int(request.match_info["channel_id"]))
    except KeyError:
        raise not_found(UNKNOWN_CHANNEL, "Channel") from None


class Moderation:
    """``DELETE /channels/{id}`` and ``PUT`` / ``DELETE /channels/{id}/permissions/{id}``."""

    def __init__(self, server: LocalDiscordServer) -> None:
        self._server = server
        self._world = server.world

    def register(self, router: web.UrlDispatcher, api: str) -> None:
        """Add the routes under ``api``."""
        channel = api + "/channels/{channel_id:\\d+}"
        router.add_delete(channel, self.delete_channel)
        router.add_put(channel + "/permissions/{target:\\d+}", self.put_overwrite)
        router.add_delete(channel + "/permissions/{target:\\d+}", self.drop_overwrite)

    async def delete_channel(self, request: web.Request) -> web.Response:
        """``DELETE /channels/{id}``: a channel (with its threads) or a thread is gone; its
        messages with it (404 ``Unknown Channel`` from then on)."""
        found = route_channel(self._world, request)
        guild = self._world.guild
        payload = channel_payload(guild, found)
        gone = [t for t in guild.threads if found.id in (t.id, t.parent_id)]
        guild.threads[:] = [t for t in guild.threads if t not in gone]
        guild.channels[:] = [c for c in guild.channels if c.id != found.id]
        guild.overwrites.pop(found.id, None)
        self._world.changes.notify()
        for thread in gone:
            await self._server.announce_channel("THREAD_DELETE", channel_payload(guild, thread))
        if found.parent_id is None:
            await self._server.announce_channel("CHANNEL_DELETE", payload)
        return json_response(payload)

    async def put_overwrite(self, request: web.Request) -> web.Response:
        """``PUT /channels/{id}/permissions/{role or member id}`` (``allow``, ``deny``,
        ``type``): what a moderator sets in the channel's permissions."""
        found = route_channel(self._world, request)
        if found.parent_id is not None:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        body, _ = await read_body(request)
        target = int(request.match_info["target"])
        overwrite = Overwrite(
            target, int(body.get("type", 0)), int(body.get("allow", 0)), int(body.get("deny", 0))
        )
        self._world.guild.overwrites.setdefault(found.id, {})[target] = overwrite
        await self._overwrites_changed(found)
        return no_content()

    async def drop_overwrite(self, request: web.Request) -> web.Response:
        """``DELETE /channels/{id}/permissions/{role or member id}``."""
        found = route_channel(self._world, request)
        self._world.guild.overwrites.get(found.id, {}).pop(int(request.match_info["target"]), None)
        await self._overwrites_changed(found)
        return no_content()

    async def _overwrites_changed(self, channel: ChannelSpec) -> None:
        self._world.changes.notify()
        payload = channel_payload(self._world.guild, channel)
        await self._server.announce_channel("CHANNEL_UPDATE", payload)
