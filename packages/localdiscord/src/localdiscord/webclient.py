"""A person's Discord in a browser: one member's view of one channel at ``/client/``.

The page (``localdiscord/web/``) shows the channel as the bot posts and edits it, the
member's own ephemeral answers, buttons and select menus, the modals the bot opens, and an
input for slash commands typed as text (``localdiscord.slash_text``). What the person does
goes to the bot as Discord's client would send it: an ``INTERACTION_CREATE`` through the
gateway (``InteractionDriver``). The page's JSON routes need the client's key (sent as
``X-Client-Key``; the URL to open carries it after ``#``, so it is never sent in a request
line or a referrer); its files are served with a content security policy that allows no
inline script.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

from aiohttp import web

from localdiscord.errors import ApiError
from localdiscord.interactions import MODAL, InteractionHandle
from localdiscord.slash_text import Partial, parse_slash, partial_option, usage
from localdiscord.views import message_view, modal_view
from localdiscord.world import ChannelSpec, UserSpec

if TYPE_CHECKING:
    from localdiscord.server import LocalDiscordServer

log = logging.getLogger(__name__)
Json = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.Response]]
PREFIX = "/client/"
SHOWN = 100  # the channel's latest messages the page shows
SUGGEST_WITHIN = 3.0  # seconds: Discord's deadline for an autocomplete answer
FILES = {"": "client.html", "client.js": "client.js", "client.css": "client.css"}
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class WebClient:
    """``user``'s browser view of ``channel``; its routes are served by the server."""

    def __init__(
        self, server: LocalDiscordServer, user: UserSpec, channel: ChannelSpec, key: str = ""
    ) -> None:
        self.server = server
        self.user = user
        self.channel = channel
        self.key = key or secrets.token_urlsafe(24)
        self.sent: dict[int, InteractionHandle] = {}  # interactions from the page, by id
        self.labels: dict[int, str] = {}  # what each was: "/task create", "button"...
        self.closed_modals: set[int] = set()

    @property
    def url(self) -> str:
        """The address to open: the page, with its key after ``#``."""
        return f"{self.server.url}{PREFIX}#key={self.key}"

    def register(self, router: web.UrlDispatcher) -> None:
        """Add the page's files and its JSON routes."""
        for path in FILES:
            router.add_get(PREFIX + path, self.page_file)
        api = PREFIX + "api/"
        router.add_get(api + "state", _refusals(self.state))
        posts = {
            "command": self.command,
            "complete": self.complete,
            "button": self.button,
            "select": self.select,
            "modal": self.modal,
            "modal/close": self.close_modal,
        }
        for path, handler in posts.items():
            router.add_post(api + path, _refusals(handler))

    async def page_file(self, request: web.Request) -> web.Response:
        """The page, its script or its style sheet (package data)."""
        name = FILES[request.path.removeprefix(PREFIX)]
        text = resources.files("localdiscord").joinpath("web", name).read_text("utf-8")
        kind = TYPES["." + name.rsplit(".", 1)[1]]
        return web.Response(text=text, content_type=kind, charset="utf-8", headers=HEADERS)

    # -- JSON routes -----------------------------------------------------------------------

    async def state(self, request: web.Request) -> web.Response:
        """What the page shows; only ``{"version"}`` when nothing changed since ``since``."""
        self._check_key(request)
        version = self.server.world.changes.version
        if request.query.get("since") == str(version) and not self._may_turn_late():
            return _json({"version": version})
        return _json({"version": version, **self.view()})

    def view(self) -> Json:
        """The channel, the member's open modals and unanswered interactions, the commands."""
        world = self.server.world
        messages = [
            m
            for m in self.server.messages(self.channel, include_ephemeral=True)
            if not m.ephemeral or _invoked_by(m.interaction_metadata, self.user)
        ][-SHOWN:]
        threads = {t.id: t for t in self.server.threads(self.channel)}
        shown = []
        for message in messages:
            item = message_view(message, world)
            said = self.labels.get(message.interaction_id or 0, "")
            if item["answers"] and said.startswith("/"):
                item["answers"] = said  # with its subcommand: the metadata has the root
            thread = threads.get(message.id)
            if thread is not None:
                inside = self.server.messages(thread)[-SHOWN:]
                item["thread"] = {
                    "name": thread.name,
                    "messages": [message_view(m, world) for m in inside],
                }
            shown.append(item)
        return {
            "user": self.user.name,
            "guild": world.guild.name,
            "channel": self.channel.name,
            "bot_ready": self.server.gateway.ready and self.server.gateway.connected,
            "messages": shown,
            "modals": self._open_modals(),
            "waiting": self._unanswered(),
            "commands": usage(self.commands()),
        }

    async def command(self, request: web.Request) -> web.Response:
        """``{"text": "/task create title:x"}``: the slash command, sent to the bot."""
        body = await self._body(request)
        text, guild = str(body.get("text") or ""), self.server.world.guild
        try:
            name, values = parse_slash(text, self.commands(), guild)
            handle = await self.server.invoke_slash(self.user, name, values, channel=self.channel)
        except (ValueError, LookupError) as error:
            return _error(_said(error))
        return self._sent(handle, "/" + name)

    async def complete(self, request: web.Request) -> web.Response:
        """``{"text"}`` ending in an option's value: ``{"choices": [{"name", "value"}]}``,
        the bot's (an autocomplete interaction) or the option's fixed choices."""
        body = await self._body(request)
        guild = self.server.world.guild
        typing = partial_option(str(body.get("text") or ""), self.commands(), guild)
        if typing is None:
            return _json({"choices": []})
        option = typing.focused
        if option.get("autocomplete"):
            return _json({"choices": await self._ask_bot(typing)})
        said = typing.typed.lower()
        choices = [
            {"name": str(c["name"]), "value": str(c["value"])}
            for c in option.get("choices") or []
            if str(c["name"]).lower().startswith(said)
        ]
        return _json({"choices": choices})

    async def _ask_bot(self, typing: Partial) -> list[Json]:
        """The bot's suggestions, as Discord's client asks while a person types (none when
        it does not answer in time)."""
        name, focused = typing.name, typing.focused["name"]
        try:
            choices = await self.server.invoke_autocomplete(
                self.user,
                name,
                focused,
                typing.typed,
                typing.values,
                channel=self.channel,
                timeout_s=SUGGEST_WITHIN,
            )
        except (ValueError, LookupError, TimeoutError, AssertionError) as error:
            log.info("web client: no suggestions for %s %s: %s", name, focused, error)
            return []
        return [{"name": str(c.get("name")), "value": str(c.get("value"))} for c in choices]

    async def button(self, request: web.Request) -> web.Response:
        """``{"message_id", "custom_id"}``: a click on a button of a shown message."""
        body = await self._body(request)
        try:
            message = self._shown_message(body)
            handle = await self.server.click_button(self.user, message, str(body["custom_id"]))
        except (ValueError, KeyError) as error:
            return _error(_said(error))
        return self._sent(handle, "button")

    async def select(self, request: web.Request) -> web.Response:
        """``{"message_id", "custom_id", "values"}``: options picked in a select menu."""
        body = await self._body(request)
        try:
            message = self._shown_message(body)
            values = [str(value) for value in body.get("values") or []]
            custom_id = str(body["custom_id"])
            handle = await self.server.select_menu(self.user, message, custom_id, values)
        except (ValueError, KeyError) as error:
            return _error(_said(error))
        return self._sent(handle, "select")

    async def modal(self, request: web.Request) -> web.Response:
        """``{"interaction_id", "values": {custom_id: text}}``: an open modal, submitted."""
        body = await self._body(request)
        opened = self._modal(body)
        if opened is None:
            return _error("that form is no longer open")
        values = {str(k): str(v) for k, v in dict(body.get("values") or {}).items()}
        try:
            handle = await self.server.submit_modal(self.user, opened, values)
        except ValueError as error:
            return _error(str(error))
        self.closed_modals.add(opened.id)
        return self._sent(handle, "form")

    async def close_modal(self, request: web.Request) -> web.Response:
        """``{"interaction_id"}``: the modal closed without sending (Discord tells the bot
        nothing)."""
        opened = self._modal(await self._body(request))
        if opened is not None:
            self.closed_modals.add(opened.id)
            self.server.world.changes.notify()
        return _json({"ok": True})

    def commands(self) -> list[Json]:
        """The synced commands as the member's client lists them: the guild's, then the
        global ones of other names."""
        guild = self.server.synced_commands(self.server.world.guild.id)
        names = {command["name"] for command in guild}
        return guild + [c for c in self.server.synced_commands(None) if c["name"] not in names]

    # -- helpers ---------------------------------------------------------------------------

    def _sent(self, handle: InteractionHandle, what: str) -> web.Response:
        self.labels[handle.id] = what
        self.sent[handle.id] = handle
        return _json({"ok": True, "interaction_id": str(handle.id)})

    def _shown_message(self, body: Json) -> Any:
        """A message this member can see in the channel or one of its threads."""
        message = self.server.store.get(int(str(body.get("message_id") or 0)))
        channel = self.server.world.guild.channel(message.channel_id)
        if self.channel.id not in (channel.id, channel.parent_id):
            raise ValueError("that message is not in this channel")
        if message.ephemeral and not _invoked_by(message.interaction_metadata, self.user):
            raise ValueError("that message is not yours")
        return message

    def _modal(self, body: Json) -> InteractionHandle | None:
        raw = str(body.get("interaction_id") or "")
        handle = self.sent.get(int(raw)) if raw.isdigit() else None
        if handle is None or handle.id in self.closed_modals:
            return None
        callback = handle.callback
        return handle if callback is not None and callback.type == MODAL else None

    def _open_modals(self) -> list[Json]:
        return [
            modal_view(handle.id, handle.callback.data)
            for handle in self.sent.values()
            if handle.callback is not None
            and handle.callback.type == MODAL
            and handle.id not in self.closed_modals
        ]

    def _may_turn_late(self) -> bool:
        """Whether an unanswered interaction is near its deadline: time, not a change of
        the server's state, turns it into "did not respond" on the page."""
        deadline = self.server.ack_deadline_s
        if deadline is None:
            return False
        return any(
            h.callback is None and not h.rejected and h.elapsed() < deadline + 2
            for h in self.sent.values()
        )

    def _unanswered(self) -> list[Json]:
        """Interactions the bot has not answered: thinking, or too late (Discord's "The
        application did not respond")."""
        deadline = self.server.ack_deadline_s
        found = []
        for handle in self.sent.values():
            if handle.callback is not None:
                continue
            late = bool(handle.rejected) or (deadline is not None and handle.elapsed() > deadline)
            found.append(
                {
                    "what": self.labels.get(handle.id, ""),
                    "state": "did not respond" if late else "sending",
                }
            )
        return found[-5:]

    async def _body(self, request: web.Request) -> Json:
        self._check_key(request)
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            raise _Refused(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise _Refused(400, "the body is not a JSON object")
        return body

    def _check_key(self, request: web.Request) -> None:
        given = request.headers.get("X-Client-Key", "")
        if not hmac.compare_digest(given.encode(), self.key.encode()):
            raise _Refused(401, "the page's key is missing or wrong: open the address printed")


class _Refused(Exception):
    """A request the page's routes refuse: its status and one line."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _refusals(handler: Handler) -> Handler:
    """``handler``, with a refusal or Discord's error (an unknown message) as ``{"error"}``."""

    async def guarded(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except _Refused as refused:
            return _error(str(refused), refused.status)
        except ApiError as error:
            return _error(error.message, error.status)

    return guarded


def _invoked_by(metadata: Json | None, user: UserSpec) -> bool:
    return bool(metadata) and str((metadata or {}).get("user", {}).get("id")) == str(user.id)


def _said(error: Exception) -> str:
    return str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)


def _json(data: Json) -> web.Response:
    return web.Response(text=json.dumps(data), content_type="application/json", headers=HEADERS)


def _error(message: str, status: int = 400) -> web.Response:
    log.info("web client: %s", message)
    return web.Response(
        text=json.dumps({"error": message}),
        status=status,
        content_type="application/json",
        headers=HEADERS,
    )
