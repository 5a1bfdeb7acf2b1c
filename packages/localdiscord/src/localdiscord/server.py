"""LocalDiscordServer: a Discord-compatible REST + gateway server for tests and the demo."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from localdiscord.commands import CommandRegistry
from localdiscord.driver import InteractionDriver
from localdiscord.gateway import Gateway, GatewayStats
from localdiscord.interactions import DEFAULT_WAIT, InteractionHandle
from localdiscord.messages import MessageStore, RecordedMessage
from localdiscord.ratelimits import DISCORD_RATE_LIMITS, RateLimiter, RateLimits
from localdiscord.rest import build_app
from localdiscord.snowflake import SnowflakeGenerator
from localdiscord.webclient import WebClient
from localdiscord.world import (
    DEFAULT_EVERYONE_PERMISSIONS,
    ChannelRef,
    ChannelSpec,
    GuildSpec,
    RoleRef,
    RoleSpec,
    UserRef,
    UserSpec,
    World,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
GUILDS = 1 << 0
GUILD_MESSAGES = 1 << 9
MESSAGE_CONTENT = 1 << 15
Json = dict[str, Any]


@dataclass(frozen=True)
class RecordedRequest:
    """One REST request the bot made, with the status it got."""

    method: str
    path: str
    status: int


class LocalDiscordServer(InteractionDriver):
    """A fake Discord (one guild, one bot) on 127.0.0.1 that records what the bot does.

    Configure channels, roles and users, ``await start()`` (or ``async with``), point discord.py
    at it with :func:`localdiscord.pointed_at`, then drive the bot with ``invoke_slash`` &co.
    ``rate_limits``: Discord's limits, enforced with its headers and 429s (default: Discord's
    values; ``RateLimits().scaled(0.1)`` for shorter windows; None: no limits).
    """

    def __init__(
        self,
        *,
        guild_name: str = "localdiscord",
        guild_id: int | None = None,
        bot_name: str = "swarm-bot",
        token: str = "localdiscord-token",
        heartbeat_interval_s: float = 41.25,
        ack_deadline_s: float | None = 3.0,
        component_settle_s: float = 0.05,
        host: str = "127.0.0.1",
        rate_limits: RateLimits | None = DISCORD_RATE_LIMITS,
    ) -> None:
        snowflakes = SnowflakeGenerator()
        bot = UserSpec(id=snowflakes.next(), name=bot_name, bot=True)
        guild = GuildSpec(id=guild_id or snowflakes.next(), name=guild_name)
        everyone = RoleSpec(guild.id, "@everyone", DEFAULT_EVERYONE_PERMISSIONS, position=0)
        guild.roles.append(everyone)
        guild.users.append(bot)
        self.world = World(bot=bot, guild=guild, token=token, snowflakes=snowflakes)
        self.store = MessageStore(self.world)
        self.commands = CommandRegistry(self.world)
        self.gateway = Gateway(self.world, heartbeat_interval_s)
        self.interactions: dict[int, InteractionHandle] = {}
        self.requests: list[RecordedRequest] = []
        self.ack_deadline_s = ack_deadline_s
        self.component_settle_s = component_settle_s
        self._host = host
        self.rate_limiter: RateLimiter | None = None
        self.set_rate_limits(rate_limits)
        self.outage: int | None = None  # every REST request answered with this status
        self.web_client: WebClient | None = None  # a person's page, when opened
        self._runner: web.AppRunner | None = None

    # -- configuration -------------------------------------------------------------------

    @property
    def bot(self) -> UserSpec:
        """The bot user (its id is also the application id)."""
        return self.world.bot

    @property
    def guild(self) -> GuildSpec:
        """The guild, with its channels, roles and members."""
        return self.world.guild

    @property
    def token(self) -> str:
        """The bot token the server accepts."""
        return self.world.token

    @property
    def application_id(self) -> int:
        """The application id."""
        return self.world.application_id

    def add_text_channel(
        self, name: str, *, id: int | None = None, topic: str | None = None
    ) -> ChannelSpec:
        """Add a text channel (before the bot connects)."""
        position = len(self.guild.channels)
        channel = ChannelSpec(id or self.world.snowflakes.next(), name, topic, position)
        self.guild.channels.append(channel)
        return channel

    def add_role(self, name: str, *, permissions: int = 0, id: int | None = None) -> RoleSpec:
        """Add a role (before the bot connects)."""
        role_id = id or self.world.snowflakes.next()
        role = RoleSpec(role_id, name, permissions, len(self.guild.roles))
        self.guild.roles.append(role)
        return role

    def add_user(
        self,
        name: str,
        *,
        roles: tuple[RoleRef, ...] | list[RoleRef] = (),
        id: int | None = None,
        owner: bool = False,
    ) -> UserSpec:
        """Add a guild member with these roles (before the bot connects)."""
        role_ids = tuple(self.guild.role(role).id for role in roles)
        user = UserSpec(id or self.world.snowflakes.next(), name, role_ids)
        self.guild.users.append(user)
        if owner:
            self.guild.owner_id = user.id
        return user

    def open_web_client(self, user: UserRef, channel: ChannelRef | None = None) -> WebClient:
        """A page at ``/client/`` where a person acts as ``user`` in ``channel`` (default:
        the first text channel) from a browser; before ``start``. Its ``url`` (with its key)
        is known once the server listens."""
        if self._runner is not None:
            raise RuntimeError("open the web client before the server starts")
        target = channel if channel is not None else self._first_channel()
        self.web_client = WebClient(self, self.guild.user(user), self.guild.channel(target))
        return self.web_client

    def _first_channel(self) -> ChannelSpec:
        if not self.guild.channels:
            raise ValueError("the guild has no text channel; add one with add_text_channel()")
        return self.guild.channels[0]

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` once started."""
        if not self.world.http_base:
            raise RuntimeError("the server is not started")
        return self.world.http_base

    @property
    def api_base(self) -> str:
        """The value for ``discord.http.Route.BASE``."""
        return f"{self.url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """The value for ``DiscordWebSocket.DEFAULT_GATEWAY``."""
        self.url  # noqa: B018 - raises if not started
        return self.world.gateway_url

    async def start(self, port: int = 0) -> None:
        """Listen on the host and a free (or given) port; OSError (nothing left listening)
        when it is taken."""
        runner = web.AppRunner(build_app(self), handle_signals=False, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        host, bound_port = runner.addresses[0][:2]
        self.world.http_base = f"http://{host}:{bound_port}"
        log.info("localdiscord listening on %s", self.world.http_base)

    async def close(self) -> None:
        """Close websockets and stop listening."""
        if self._runner is None:
            return
        await self.gateway.close()
        await self._runner.cleanup()
        self._runner = None
        log.info("localdiscord stopped")

    async def __aenter__(self) -> LocalDiscordServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- waiting and gateway control -----------------------------------------------------

    async def wait_until(
        self,
        probe: Callable[[], T | None],
        timeout_s: float = DEFAULT_WAIT,
        what: str = "condition",
    ) -> T:
        """Wait until ``probe()`` returns something truthy (re-checked on every change)."""
        return await self.world.changes.wait_until(probe, timeout_s, what)

    @property
    def stats(self) -> GatewayStats:
        """Gateway counters: connections, identifies, resumes, heartbeats..."""
        return self.gateway.stats

    async def wait_for_bot_ready(self, timeout_s: float = 10.0) -> None:
        """Wait until the bot identified (or resumed) and got READY and GUILD_CREATE."""
        probe = lambda: self.gateway.ready and self.gateway.connected  # noqa: E731
        await self.wait_until(probe, timeout_s, "the bot to connect to the gateway")

    async def wait_for_heartbeats(self, count: int, timeout_s: float = DEFAULT_WAIT) -> None:
        """Wait until ``count`` heartbeats have been received (and acknowledged)."""
        probe = lambda: self.stats.heartbeats >= count  # noqa: E731
        await self.wait_until(probe, timeout_s, f"{count} heartbeats")

    async def drop_connection(
        self, code: int = 4000, *, resumable: bool = True, abort: bool = False
    ) -> None:
        """Close the bot's websocket (``abort`` cuts TCP); ``resumable=False`` forces IDENTIFY."""
        await self.gateway.drop(code, resumable=resumable, abort=abort)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to the bot."""
        await self.gateway.request_reconnect()

    async def dispatch(self, event: str, data: Json) -> None:
        """Send any gateway event to the bot."""
        await self.gateway.dispatch(event, data)

    # -- commands and messages -----------------------------------------------------------

    def synced_commands(self, guild_id: int | None = None) -> list[Json]:
        """Commands synced for a guild, or global ones with ``guild_id=None``."""
        return self.commands.in_scope(guild_id)

    async def wait_for_commands(self, *names: str, timeout_s: float = DEFAULT_WAIT) -> None:
        """Wait until commands with these top-level names are synced (guild or global)."""

        def probe() -> bool:
            synced = self.commands.in_scope(self.guild.id) + self.commands.in_scope(None)
            return set(names) <= {command["name"] for command in synced}

        await self.wait_until(probe, timeout_s, f"commands {list(names)} to be synced")

    def messages(
        self, channel: ChannelRef | None = None, *, include_ephemeral: bool = False
    ) -> list[RecordedMessage]:
        """Live messages, oldest first, in one channel or all channels."""
        wanted = None if channel is None else self.guild.channel(channel).id
        return [
            message
            for message in self.store.all()
            if not message.deleted
            and (wanted is None or message.channel_id == wanted)
            and (include_ephemeral or not message.ephemeral)
        ]

    def threads(self, channel: ChannelRef | None = None) -> list[ChannelSpec]:
        """Threads started in ``channel`` (or anywhere), oldest first."""
        wanted = None if channel is None else self.guild.channel(channel).id
        return [t for t in self.guild.threads if wanted is None or t.parent_id == wanted]

    async def wait_for_message(
        self,
        predicate: Callable[[RecordedMessage], bool] | None = None,
        *,
        channel: ChannelRef | None = None,
        include_ephemeral: bool = False,
        timeout_s: float = DEFAULT_WAIT,
    ) -> RecordedMessage:
        """The first live message (existing or new) in ``channel`` matching ``predicate``."""

        def probe() -> RecordedMessage | None:
            found = self.messages(channel, include_ephemeral=include_ephemeral)
            return next((m for m in found if predicate is None or predicate(m)), None)

        return await self.wait_until(probe, timeout_s, "a matching message")

    async def send_user_message(
        self, user: UserRef, channel: ChannelRef, content: str
    ) -> RecordedMessage:
        """A member posts a message: stored and sent to the bot as MESSAGE_CREATE."""
        author = self.guild.user(user)
        target = self.guild.channel(channel)
        message = self.store.create(target.id, author, {"content": content}, {})
        await self.announce("MESSAGE_CREATE", message)
        return message

    async def announce(self, event: str, message: RecordedMessage) -> None:
        """Tell the bot about a message event, as Discord does with the GUILD_MESSAGES intent."""
        if message.ephemeral or not self.gateway.wants(GUILD_MESSAGES):
            return
        if event == "MESSAGE_DELETE":
            data = {"id": str(message.id), "channel_id": str(message.channel_id)}
            await self.gateway.dispatch(event, {**data, "guild_id": str(message.guild_id)})
            return
        payload = message.to_payload(self.world)
        if message.author.id != self.bot.id and not self.gateway.wants(MESSAGE_CONTENT):
            payload.update(content="", embeds=[], attachments=[], components=[])
        await self.gateway.dispatch(event, payload)

    async def announce_channel(self, event: str, payload: Json) -> None:
        """Tell the bot a channel or thread changed (``CHANNEL_UPDATE``, ``CHANNEL_DELETE``,
        ``THREAD_DELETE``), as Discord does with the GUILDS intent."""
        if not self.gateway.wants(GUILDS):
            return
        if event == "THREAD_DELETE":
            keys = ("id", "guild_id", "parent_id", "type")
            payload = {key: payload[key] for key in keys}
        await self.gateway.dispatch(event, payload)

    def set_rate_limits(self, limits: RateLimits | None) -> None:
        """Enforce these limits from now on, with fresh buckets (None: none)."""
        self.rate_limiter = None if limits is None else RateLimiter(limits)

    def set_outage(self, status: int | None = 503) -> None:
        """Answer every REST request with ``status`` (Discord down: a 502 or 503 with
        nothing done) until called with None; the gateway stays up."""
        if status is not None and not 500 <= status <= 599:
            raise ValueError(f"an outage is a 5xx status, not {status}")
        self.outage = status

    def rate_limited(self) -> list[RecordedRequest]:
        """The requests refused with a 429 so far."""
        return [request for request in self.requests if request.status == 429]

    def record_request(self, method: str, path: str, status: int) -> None:
        """Remember a REST request (used by the logging middleware)."""
        self.requests.append(RecordedRequest(method, path, status))
