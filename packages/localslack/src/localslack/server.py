"""LocalSlackServer: one workspace with a bot, its channels and people, serving the Web API
methods a bot uses and Socket Mode on 127.0.0.1, with a test API that acts as a person (a
message, a button press, a slash command) and a page where a person does the same."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from types import TracebackType

from aiohttp import web

from localslack import api, page
from localslack.limits import SLACK_RATE_LIMITS, RateLimiter, RateLimits
from localslack.socket_mode import SocketMode
from localslack.world import Channel, Ephemeral, Ids, Json, Message, User


class LocalSlackServer:
    """A Slack workspace on 127.0.0.1 (``await start()`` or ``async with``); point slack_sdk
    at ``api_url`` with the ``bot_token``, Socket Mode with the ``app_token``.
    ``rate_limits``: Slack's tiers (default), scaled ones, or None: no limits."""

    def __init__(
        self,
        *,
        team_name: str = "localslack",
        bot_name: str = "swarm",
        host: str = "127.0.0.1",
        rate_limits: RateLimits | None = SLACK_RATE_LIMITS,
    ) -> None:
        self.ids = Ids()
        self.team_id, self.app_id = self.ids.next("T"), self.ids.next("A")
        self.team_name = team_name
        self.bot = User(self.ids.next("U"), bot_name, bot_id=self.ids.next("B"))
        self.bot_token = f"xoxb-local-{secrets.token_hex(12)}"
        self.app_token = f"xapp-local-{secrets.token_hex(12)}"
        self.host = host
        self.users: dict[str, User] = {self.bot.id: self.bot}
        self.channels: dict[str, Channel] = {}
        self.bot_channels: set[str] = set()
        self.messages: dict[str, list[Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.calls: list[api.RecordedCall] = []
        self.limiter = RateLimiter(rate_limits)
        self.socket_mode = SocketMode(self.app_id)
        self.revoked = False  # True: every token is refused (``invalid_auth``)
        self._version = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- the workspace ----------------------------------------------------------------------

    def add_user(self, name: str) -> User:
        """A person of the workspace."""
        user = User(self.ids.next("U"), name)
        self.users[user.id] = user
        return user

    def add_channel(self, name: str, *, bot_member: bool = True) -> Channel:
        """A public channel (the bot in it unless ``bot_member`` is False)."""
        channel = Channel(self.ids.next("C"), name)
        self.channels[channel.id] = channel
        self.messages[channel.id] = []
        if bot_member:
            self.bot_channels.add(channel.id)
        return channel

    # --- serving ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The Web API's base, as slack_sdk's ``base_url`` takes it (ends with ``/``)."""
        return f"{self.url}/api/"

    @property
    def ws_url(self) -> str:
        """Socket Mode's base."""
        return f"ws://{self.host}:{self.port}"

    async def start(self, port: int = 0) -> None:
        """Listen on ``port`` (0: a free one)."""
        app = web.Application()

        async def web_api(request: web.Request) -> web.Response:
            return await api.handle(self, request)

        app.router.add_route("*", "/api/{method}", web_api)
        app.router.add_get("/link/", self.socket_mode.handle)
        page.add_routes(app, self)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port

    async def close(self) -> None:
        """Close the connections and stop listening."""
        await self.socket_mode.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalSlackServer:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # --- what the Web API methods use -------------------------------------------------------

    def check_token(self, token: str, *, app: bool) -> None:
        """``not_authed`` without a token, ``invalid_auth`` with another (or revoked)."""
        if not token:
            raise api.SlackError("not_authed")
        if self.revoked or token != (self.app_token if app else self.bot_token):
            raise api.SlackError("invalid_auth")

    def channel_for_bot(self, channel_id: str) -> str:
        """``channel_id`` when the bot may post there."""
        if channel_id not in self.channels:
            raise api.SlackError("channel_not_found")
        if channel_id not in self.bot_channels:
            raise api.SlackError("not_in_channel")
        return channel_id

    def find(self, channel: str, ts: str) -> Message | None:
        """The message ``ts`` of ``channel`` (a reply too)."""
        return next((m for m in self.messages.get(channel, []) if m.ts == ts), None)

    def add_message(self, message: Message) -> Message:
        """Keep ``message`` in its channel."""
        self.messages[message.channel].append(message)
        self.changed()
        return message

    def add_ephemeral(self, channel: str, user: str, text: str, blocks: list[Json]) -> None:
        """Keep a message only ``user`` sees."""
        self.ephemerals.append(Ephemeral(channel, user, text, tuple(blocks), self.ids.ts()))
        self.changed()

    def changed(self) -> None:
        """Count a change (the page asks for the state again when it sees the count grow)."""
        self._version += 1

    # --- acting as a person (the tests, the page) -------------------------------------------

    async def say(
        self, user: User, channel: Channel, text: str, thread_ts: str | None = None
    ) -> Message:
        """``user`` posts ``text`` in ``channel`` (in the thread of ``thread_ts``); the app
        gets its ``message`` event."""
        message = self.add_message(Message(channel.id, self.ids.ts(), user.id, text, [], thread_ts))
        event = {**message.to_json(), "channel": channel.id, "channel_type": "channel"}
        await self.socket_mode.send(
            "events_api", self._event_callback(event | {"event_ts": message.ts})
        )
        return message

    async def press(self, user: User, message: Message, action_id: str) -> Json:
        """``user`` presses the button ``action_id`` of ``message``; the ack's payload."""
        button = next((b for b in message.buttons() if b.get("action_id") == action_id), None)
        if button is None:
            raise KeyError(f"no button {action_id!r} on message {message.ts}")
        action = {
            "type": "button",
            "action_id": action_id,
            "block_id": button["block_id"],
            "text": button["text"],
            "value": button.get("value", ""),
            "action_ts": self.ids.ts(),
        }
        return await self.socket_mode.send(
            "interactive", self._block_actions(user, message, action)
        )

    async def choose(
        self, user: User, message: Message | Ephemeral, action_id: str, value: str
    ) -> Json:
        """``user`` picks the option ``value`` of the select menu ``action_id`` of ``message``
        (one of the channel's, or one only they see); the ack's payload."""
        menu = next((s for s in message.selects() if s.get("action_id") == action_id), None)
        if menu is None:
            raise KeyError(f"no select menu {action_id!r} on message {message.ts}")
        option = next((o for o in menu["options"] if o.get("value") == value), None)
        if option is None:
            raise KeyError(f"no option {value!r} in {action_id!r}")
        action = {
            "type": "static_select",
            "action_id": action_id,
            "block_id": menu["block_id"],
            "selected_option": option,
            "action_ts": self.ids.ts(),
        }
        if "placeholder" in menu:
            action["placeholder"] = menu["placeholder"]
        return await self.socket_mode.send(
            "interactive", self._block_actions(user, message, action)
        )

    def _block_actions(self, user: User, message: Message | Ephemeral, action: Json) -> Json:
        """The ``block_actions`` payload of ``action`` on ``message`` (an ephemeral one
        carries no ``message``, as Slack sends it)."""
        ephemeral = isinstance(message, Ephemeral)
        payload = {
            "type": "block_actions",
            "user": {
                "id": user.id,
                "username": user.name,
                "name": user.name,
                "team_id": self.team_id,
            },
            "api_app_id": self.app_id,
            "token": "localslack",
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": ephemeral,
            },
            "trigger_id": self.ids.next("TR"),
            "team": {"id": self.team_id, "domain": self.team_name},
            "channel": {"id": message.channel, "name": self.channels[message.channel].name},
            "response_url": f"{self.url}/response/{message.ts}",
            "actions": [action],
        }
        if not isinstance(message, Ephemeral):
            payload["message"] = message.to_json()
        return payload

    async def command(self, user: User, channel: Channel, text: str, name: str = "/swarm") -> Json:
        """``user`` runs ``name text`` in ``channel``; the answer the ack carries is shown to
        them alone (``response_type: in_channel``: to the channel). The ack's payload."""
        payload = {
            "token": "localslack",
            "team_id": self.team_id,
            "team_domain": self.team_name,
            "channel_id": channel.id,
            "channel_name": channel.name,
            "user_id": user.id,
            "user_name": user.name,
            "command": name,
            "text": text,
            "api_app_id": self.app_id,
            "response_url": f"{self.url}/response/command",
            "trigger_id": self.ids.next("TR"),
        }
        answer = await self.socket_mode.send("slash_commands", payload)
        if answer.get("text") or answer.get("blocks"):
            text, blocks = str(answer.get("text") or ""), list(answer.get("blocks") or [])
            if answer.get("response_type") == "in_channel":
                self.add_message(
                    Message(
                        channel.id, self.ids.ts(), self.bot.id, text, blocks, None, self.bot.bot_id
                    )
                )
            else:
                self.add_ephemeral(channel.id, user.id, text, blocks)
        return answer

    def delete(self, message: Message) -> None:
        """A person deletes ``message`` (its thread's replies with it), as a moderator may."""
        kept = self.messages[message.channel]
        gone = message.ts
        self.messages[message.channel] = [m for m in kept if gone not in (m.ts, m.thread_ts)]
        self.changed()

    def _event_callback(self, event: Json) -> Json:
        return {
            "token": "localslack",
            "team_id": self.team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": self.ids.next("Ev"),
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.team_id, "user_id": self.bot.id, "is_bot": True}],
        }

    # --- what the tests read ----------------------------------------------------------------

    def top_level(self, channel: Channel) -> list[Message]:
        """The channel's messages, not the replies in threads, oldest first."""
        return [m for m in self.messages[channel.id] if m.thread_ts is None]

    def replies(self, channel: Channel, ts: str) -> list[Message]:
        """The replies in the thread of ``ts``, oldest first."""
        return [m for m in self.messages[channel.id] if m.thread_ts == ts]

    def seen_by(self, user: User) -> list[Ephemeral]:
        """The ephemeral messages ``user`` saw, oldest first."""
        return [e for e in self.ephemerals if e.user == user.id]

    def calls_to(self, method: str) -> list[api.RecordedCall]:
        """The app's requests to ``method``, in order."""
        return [c for c in self.calls if c.method == method]

    @property
    def version(self) -> int:
        """Grows with each change (a message, an edit, an ephemeral)."""
        return self._version

    async def wait_for(self, check: Callable[[], object], within_s: float = 10.0) -> None:
        """Return once ``check()`` is true (checked every 20 ms: what it reads may be the
        app's as much as the server's); TimeoutError after ``within_s``."""
        async with asyncio.timeout(within_s):
            while not check():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
