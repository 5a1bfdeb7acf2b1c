"""REST routes (API v10) for the bot: gateway info, users, commands, guild, channels, messages."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import TYPE_CHECKING

from aiohttp import web

from localdiscord.bodies import json_response, no_content, read_body, read_json_list
from localdiscord.errors import (
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    UNKNOWN_GUILD,
    UNKNOWN_USER,
    ApiError,
    not_found,
)
from localdiscord.messages import EPHEMERAL, RecordedMessage
from localdiscord.moderation import Moderation, route_channel
from localdiscord.payloads import (
    application_payload,
    channel_payload,
    current_user_payload,
    guild_payload,
    member_payload,
    role_payload,
    user_payload,
)
from localdiscord.ratelimits import Admission
from localdiscord.webclient import PREFIX as WEB_CLIENT
from localdiscord.webhooks import InteractionResponder
from localdiscord.world import PUBLIC_THREAD, SEND_MESSAGES, VIEW_CHANNEL, ChannelSpec

if TYPE_CHECKING:
    from localdiscord.server import LocalDiscordServer

log = logging.getLogger(__name__)
API = "/api/v10"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# the web client's routes check its own key (``localdiscord.webclient``)
_PUBLIC_PREFIXES = (
    f"{API}/interactions/",
    f"{API}/webhooks/",
    "/attachments/",
    "/gateway/",
    WEB_CLIENT,
)


def build_app(server: LocalDiscordServer) -> web.Application:
    """The aiohttp application serving REST, the gateway and attachment downloads."""
    app = web.Application(middlewares=[_middleware(server)], client_max_size=64 * 1024 * 1024)
    rest = RestApi(server)
    responder = InteractionResponder(server)
    app.router.add_get("/gateway/", server.gateway.handle)
    rest.register(app.router)
    responder.register(app.router, API)
    if server.web_client is not None:
        server.web_client.register(app.router)
    app.router.add_route("*", "/{tail:.*}", rest.unknown_route)
    return app


def _middleware(server: LocalDiscordServer) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def discord_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        response: web.StreamResponse
        admission = Admission({})
        try:
            _authorize(server, request)
            if server.outage is not None and request.path.startswith(API + "/"):
                response = _outage(server.outage)
            else:
                admission = _admit(server, request)
                response = (
                    json_response(admission.refused, status=429)
                    if admission.refused is not None
                    else await handler(request)
                )
        except ApiError as error:
            log.info("%s %s -> %s %s", request.method, request.path, error.status, error.message)
            response = json_response(error.payload(), status=error.status)
        except Exception:
            log.exception("localdiscord failed on %s %s", request.method, request.path)
            response = json_response({"code": 0, "message": "500: Internal Server Error"}, 500)
        if request.path.startswith(API) and not response.prepared:
            response.headers.update(admission.headers)
            response.headers["Via"] = "1.1 google"  # as Discord's; discord.py wants it on a 429
        if not request.path.startswith(("/gateway/", WEB_CLIENT)):  # the bot's requests
            server.record_request(request.method, request.path, response.status)
        return response

    return discord_errors


def _outage(status: int) -> web.Response:
    """What Discord answers while it is down (``set_outage``): the status, nothing done."""
    reason = HTTPStatus(status).phrase
    return json_response({"code": 0, "message": f"{status}: {reason}"}, status=status)


def _admit(server: LocalDiscordServer, request: web.Request) -> Admission:
    """Count the request against the server's rate limits (none: always admitted)."""
    limiter = server.rate_limiter
    if limiter is None or not request.path.startswith(API + "/"):
        return Admission({})
    route = request.match_info.route.resource
    template = route.canonical if route is not None else request.path
    admission = limiter.admit(request.method, template.removeprefix(API), request.match_info)
    if admission.refused is not None:
        log.info(
            "%s %s -> 429 (%s)",
            request.method,
            request.path,
            admission.headers.get("X-RateLimit-Scope"),
        )
    return admission


def _authorize(server: LocalDiscordServer, request: web.Request) -> None:
    if request.path.startswith(_PUBLIC_PREFIXES):
        return
    if request.headers.get("Authorization") != f"Bot {server.token}":
        raise ApiError(401, 0, "401: Unauthorized")


class RestApi:
    """Handlers for the bot-token REST routes."""

    def __init__(self, server: LocalDiscordServer) -> None:
        self._server = server
        self._world = server.world

    def register(self, router: web.UrlDispatcher) -> None:
        """Add the routes under ``/api/v10``."""
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/gateway", self.gateway),
            ("GET", "/gateway/bot", self.gateway_bot),
            ("GET", "/users/@me", self.current_user),
            ("GET", "/users/{user_id:\\d+}", self.user),
            ("GET", "/oauth2/applications/@me", self.application),
            ("GET", "/applications/@me", self.application),
            ("GET", "/guilds/{guild_id:\\d+}", self.guild),
            ("GET", "/guilds/{guild_id:\\d+}/channels", self.guild_channels),
            ("GET", "/guilds/{guild_id:\\d+}/roles", self.guild_roles),
            ("GET", "/guilds/{guild_id:\\d+}/members", self.guild_members),
            ("GET", "/guilds/{guild_id:\\d+}/members/{user_id:\\d+}", self.guild_member),
            ("GET", "/channels/{channel_id:\\d+}", self.channel),
            ("POST", "/channels/{channel_id:\\d+}/typing", self.typing),
        ]
        for method, path, handler in routes:
            router.add_route(method, API + path, handler)
        Moderation(self._server).register(router, API)
        self._register_commands(router)
        self._register_messages(router)
        router.add_get("/attachments/{channel_id}/{attachment_id:\\d+}/{filename}", self.attachment)

    def _register_commands(self, router: web.UrlDispatcher) -> None:
        app = "/applications/{app_id:\\d+}"
        for base in (app, app + "/guilds/{guild_id:\\d+}"):
            router.add_get(API + base + "/commands", self.list_commands)
            router.add_put(API + base + "/commands", self.overwrite_commands)
            router.add_post(API + base + "/commands", self.upsert_command)
            one = API + base + "/commands/{command_id:\\d+}"
            router.add_get(one, self.get_command)
            router.add_patch(one, self.edit_command)
            router.add_delete(one, self.delete_command)

    def _register_messages(self, router: web.UrlDispatcher) -> None:
        many = API + "/channels/{channel_id:\\d+}/messages"
        one = many + "/{message_id:\\d+}"
        router.add_get(many, self.list_messages)
        router.add_post(many, self.create_message)
        router.add_get(one, self.get_message)
        router.add_patch(one, self.edit_message)
        router.add_delete(one, self.delete_message)
        router.add_post(one + "/threads", self.start_thread)

    async def unknown_route(self, request: web.Request) -> web.Response:
        """Anything not implemented: logged loudly, answered with Discord's 404 shape."""
        log.warning("localdiscord has no route for %s %s", request.method, request.path)
        return json_response({"code": 0, "message": "404: Not Found"}, status=404)

    # -- session -------------------------------------------------------------------------

    async def gateway(self, request: web.Request) -> web.Response:
        """``GET /gateway``."""
        return json_response({"url": self._world.gateway_url})

    async def gateway_bot(self, request: web.Request) -> web.Response:
        """``GET /gateway/bot``."""
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return json_response(
            {"url": self._world.gateway_url, "shards": 1, "session_start_limit": limit}
        )

    async def current_user(self, request: web.Request) -> web.Response:
        """``GET /users/@me``."""
        return json_response(current_user_payload(self._world.bot))

    async def user(self, request: web.Request) -> web.Response:
        """``GET /users/{id}``."""
        try:
            found = self._world.guild.user(int(request.match_info["user_id"]))
        except KeyError:
            raise not_found(UNKNOWN_USER, "User") from None
        return json_response(user_payload(found))

    async def application(self, request: web.Request) -> web.Response:
        """``GET /oauth2/applications/@me``."""
        return json_response(application_payload(self._world))

    # -- guild ---------------------------------------------------------------------------

    def _check_guild(self, request: web.Request) -> None:
        if int(request.match_info["guild_id"]) != self._world.guild.id:
            raise not_found(UNKNOWN_GUILD, "Guild")

    async def guild(self, request: web.Request) -> web.Response:
        """``GET /guilds/{id}``."""
        self._check_guild(request)
        return json_response(guild_payload(self._world.guild))

    async def guild_channels(self, request: web.Request) -> web.Response:
        """``GET /guilds/{id}/channels``."""
        self._check_guild(request)
        guild = self._world.guild
        return json_response([channel_payload(guild, c) for c in guild.channels])

    async def guild_roles(self, request: web.Request) -> web.Response:
        """``GET /guilds/{id}/roles``."""
        self._check_guild(request)
        return json_response([role_payload(role) for role in self._world.guild.roles])

    async def guild_members(self, request: web.Request) -> web.Response:
        """``GET /guilds/{id}/members``."""
        self._check_guild(request)
        guild = self._world.guild
        return json_response([member_payload(guild, user) for user in guild.users])

    async def guild_member(self, request: web.Request) -> web.Response:
        """``GET /guilds/{id}/members/{user}``."""
        self._check_guild(request)
        try:
            found = self._world.guild.user(int(request.match_info["user_id"]))
        except KeyError:
            raise ApiError(404, 10007, "Unknown Member") from None
        return json_response(member_payload(self._world.guild, found))

    def _channel(self, request: web.Request) -> ChannelSpec:
        """The channel or thread of the route, one the bot can see: 403 ``Missing Access``
        when an overwrite denies it View Channel."""
        found = route_channel(self._world, request)
        if not self._bot_may(found, VIEW_CHANNEL):
            raise ApiError(403, MISSING_ACCESS, "Missing Access")
        return found

    def _bot_may(self, channel: ChannelSpec, permission: int) -> bool:
        guild = self._world.guild
        return bool(guild.channel_permissions(self._world.bot, channel) & permission)

    async def channel(self, request: web.Request) -> web.Response:
        """``GET /channels/{id}``."""
        return json_response(channel_payload(self._world.guild, self._channel(request)))

    async def typing(self, request: web.Request) -> web.Response:
        """``POST /channels/{id}/typing``."""
        self._channel(request)
        return no_content()

    # -- commands ------------------------------------------------------------------------

    def _scope(self, request: web.Request) -> int | None:
        if int(request.match_info["app_id"]) != self._world.application_id:
            raise ApiError(403, 50001, "Missing Access")
        if "guild_id" not in request.match_info:
            return None
        self._check_guild(request)
        return int(request.match_info["guild_id"])

    async def list_commands(self, request: web.Request) -> web.Response:
        """``GET .../commands``."""
        return json_response(self._server.commands.in_scope(self._scope(request)))

    async def overwrite_commands(self, request: web.Request) -> web.Response:
        """``PUT .../commands`` (what ``CommandTree.sync`` calls)."""
        scope = self._scope(request)
        stored = self._server.commands.overwrite(scope, await read_json_list(request))
        log.info("synced %d commands (scope %s)", len(stored), scope or "global")
        return json_response(stored)

    async def upsert_command(self, request: web.Request) -> web.Response:
        """``POST .../commands``."""
        body, _ = await read_body(request)
        return json_response(self._server.commands.upsert(self._scope(request), body), 201)

    async def get_command(self, request: web.Request) -> web.Response:
        """``GET .../commands/{id}``."""
        command_id = int(request.match_info["command_id"])
        return json_response(self._server.commands.get(self._scope(request), command_id))

    async def edit_command(self, request: web.Request) -> web.Response:
        """``PATCH .../commands/{id}``."""
        scope = self._scope(request)
        current = self._server.commands.get(scope, int(request.match_info["command_id"]))
        body, _ = await read_body(request)
        return json_response(self._server.commands.upsert(scope, {**current, **body}))

    async def delete_command(self, request: web.Request) -> web.Response:
        """``DELETE .../commands/{id}``."""
        command_id = int(request.match_info["command_id"])
        self._server.commands.delete(self._scope(request), command_id)
        return no_content()

    # -- messages ------------------------------------------------------------------------

    async def list_messages(self, request: web.Request) -> web.Response:
        """``GET /channels/{id}/messages`` (newest first; ``limit``, ``before``, ``after``)."""
        channel = self._channel(request)
        found = self._server.messages(channel)
        if "before" in request.query:
            found = [m for m in found if m.id < int(request.query["before"])]
        if "after" in request.query:
            found = [m for m in found if m.id > int(request.query["after"])]
        limit = min(int(request.query.get("limit", 50)), 100)
        newest = list(reversed(found))[:limit]
        return json_response([m.to_payload(self._world) for m in newest])

    async def create_message(self, request: web.Request) -> web.Response:
        """``POST /channels/{id}/messages`` (JSON or multipart with files)."""
        channel = self._channel(request)
        if channel.parent_id is None and not self._bot_may(channel, SEND_MESSAGES):
            raise ApiError(403, MISSING_PERMISSIONS, "Missing Permissions")
        body, files = await read_body(request)
        if "flags" in body:  # channel messages cannot be ephemeral
            body["flags"] = int(body["flags"] or 0) & ~EPHEMERAL
        message = self._server.store.create(channel.id, self._world.bot, body, files)
        await self._server.announce("MESSAGE_CREATE", message)
        return json_response(message.to_payload(self._world))

    def _message(self, request: web.Request) -> RecordedMessage:
        channel_id = self._channel(request).id
        return self._server.store.get(int(request.match_info["message_id"]), channel_id)

    async def get_message(self, request: web.Request) -> web.Response:
        """``GET /channels/{id}/messages/{id}``."""
        message = self._message(request)
        return json_response(message.to_payload(self._world))

    async def edit_message(self, request: web.Request) -> web.Response:
        """``PATCH /channels/{id}/messages/{id}``."""
        message = self._message(request)
        if message.author.id != self._world.bot.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        body, files = await read_body(request)
        self._server.store.edit(message, body, files)
        await self._server.announce("MESSAGE_UPDATE", message)
        return json_response(message.to_payload(self._world))

    async def delete_message(self, request: web.Request) -> web.Response:
        """``DELETE /channels/{id}/messages/{id}``."""
        message = self._message(request)
        self._server.store.delete(message)
        await self._server.announce("MESSAGE_DELETE", message)
        return no_content()

    async def start_thread(self, request: web.Request) -> web.Response:
        """``POST /channels/{id}/messages/{id}/threads``: a public thread on a message (the
        thread's id is the message's, as on Discord; one thread per message)."""
        parent = self._channel(request)
        message = self._message(request)
        if parent.parent_id is not None:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        if any(thread.id == message.id for thread in self._world.guild.threads):
            raise ApiError(400, 160004, "A thread has already been created for this message")
        body, _ = await read_body(request)
        name = str(body.get("name") or "").strip()
        if not 1 <= len(name) <= 100:
            raise ApiError(400, 50035, "Invalid Form Body: name must be 1-100 characters")
        thread = ChannelSpec(
            message.id, name, type=PUBLIC_THREAD, parent_id=parent.id, owner_id=self._world.bot.id
        )
        self._world.guild.threads.append(thread)
        self._world.changes.notify()
        payload = channel_payload(self._world.guild, thread)
        await self._server.gateway.dispatch("THREAD_CREATE", {**payload, "newly_created": True})
        return json_response(payload, 201)

    async def attachment(self, request: web.Request) -> web.Response:
        """Download a stored attachment (what ``Attachment.read()`` fetches)."""
        found = self._server.store.attachment(int(request.match_info["attachment_id"]))
        if found is None:
            return json_response({"code": 0, "message": "404: Not Found"}, status=404)
        content_type = found.content_type or "application/octet-stream"
        return web.Response(body=found.data, headers={"Content-Type": content_type})
