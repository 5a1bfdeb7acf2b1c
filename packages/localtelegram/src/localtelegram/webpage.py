"""A person's Telegram in a browser: one user's view of one chat at ``/chat/``.

The page (``localtelegram/web/``) shows the chat's messages as the bot sends and edits them,
with their buttons and what each replies to; the person types a message or a ``/command``
(a reply when a message is chosen) and presses buttons, which reach the bot as Telegram's
client sends them (``message`` and ``callback_query`` updates). The JSON routes need the
page's key (``X-Chat-Key``; the URL to open carries it after ``#``, never in a request line);
the files are served under a content security policy that allows no inline script.
"""

from __future__ import annotations

import hmac
from importlib import resources
from typing import TYPE_CHECKING, Any

from aiohttp import web

from localtelegram.world import Chat, User

if TYPE_CHECKING:
    from localtelegram.server import LocalTelegramServer

PREFIX = "/chat/"
SHOWN = 100  # the chat's latest messages the page shows
FILES = {"": "chat.html", "chat.js": "chat.js", "chat.css": "chat.css"}
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class ChatPage:
    """``user``'s page on ``chat``."""

    def __init__(self, server: LocalTelegramServer, user: User, chat: Chat, key: str) -> None:
        self.server = server
        self.user = user
        self.chat = chat
        self.key = key

    @property
    def url(self) -> str:
        """The address to open (the key after ``#``)."""
        return f"{self.server.url}{PREFIX}#{self.key}"

    @staticmethod
    def routes(app: web.Application, server: LocalTelegramServer) -> None:
        """The page's files and JSON routes on ``app``."""

        def page_of(request: web.Request) -> ChatPage:
            key = request.headers.get("X-Chat-Key", "")
            for page in server.pages.values():
                if hmac.compare_digest(page.key, key):
                    return page
            raise web.HTTPForbidden(text="no such page")

        async def state(request: web.Request) -> web.Response:
            return web.json_response(page_of(request).state(), headers=HEADERS)

        async def send(request: web.Request) -> web.Response:
            await page_of(request).send(await request.json())
            return web.json_response({"ok": True}, headers=HEADERS)

        async def press(request: web.Request) -> web.Response:
            await page_of(request).press(await request.json())
            return web.json_response({"ok": True}, headers=HEADERS)

        app.router.add_get(PREFIX + "api/state", state)
        app.router.add_post(PREFIX + "api/send", send)
        app.router.add_post(PREFIX + "api/press", press)
        app.router.add_get(PREFIX + "{file:.*}", _file)

    def state(self) -> dict[str, Any]:
        """What the page shows: the person, the chat, its latest messages, the commands."""
        shown = list(self.chat.messages.values())[-SHOWN:]
        answers = [
            {"id": query_id, "text": text}
            for query_id, text in self.server.answers.items()
            if text and self.server.queries[query_id][0] is self.user
        ]
        return {
            "me": self.user.to_api(),
            "chat": self.chat.to_api(),
            "messages": [_shown(m) for m in shown],
            "commands": self.server.commands,
            "answers": answers[-5:],
        }

    async def send(self, body: dict[str, Any]) -> None:
        """The person's message (a reply when ``reply_to`` names one)."""
        text = str(body.get("text", "")).strip()[:4096]
        if not text:
            raise web.HTTPBadRequest(text="empty message")
        replied = self.chat.messages.get(int(body.get("reply_to") or 0))
        await self.server.say(self.user, self.chat, text, reply_to=replied)

    async def press(self, body: dict[str, Any]) -> None:
        """The person presses a button of a message."""
        message = self.chat.messages.get(int(body.get("message_id") or 0))
        if message is None:
            raise web.HTTPNotFound(text="no such message")
        try:
            await self.server.press(self.user, message, str(body.get("data", "")))
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None


def _shown(message: Any) -> dict[str, Any]:
    return {
        "id": message.message_id,
        "from": message.sender.first_name,
        "bot": message.sender.is_bot,
        "text": message.text,
        "reply_to": message.reply_to.message_id if message.reply_to else None,
        "edited": message.edit_date is not None,
        "buttons": (message.reply_markup or {}).get("inline_keyboard", []),
    }


async def _file(request: web.Request) -> web.Response:
    name = FILES.get(request.match_info["file"])
    if name is None:
        raise web.HTTPNotFound()
    body = resources.files("localtelegram").joinpath("web", name).read_text("utf-8")
    kind = TYPES["." + name.rsplit(".", 1)[1]]
    return web.Response(text=body, content_type=kind, headers=HEADERS)
