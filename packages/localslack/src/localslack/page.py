"""The page a person uses the local Slack from (``/?user=U...&channel=C...``): the channel's
messages with their threads and buttons, what only that person saw, a box to post a message
(in a thread once one is chosen) or run ``/swarm ...``. It asks ``/local/state`` for what
changed and sends what the person does to ``/local/say``, ``/local/press`` and
``/local/command``, which act through the server's test API, as a person in Slack would."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any

from aiohttp import web

from localslack.socket_mode import NotAcked, NotConnected

if TYPE_CHECKING:
    from localslack.server import LocalSlackServer
    from localslack.world import Channel, User


def page_url(server: LocalSlackServer, user: User, channel: Channel) -> str:
    """The page of ``user`` in ``channel``."""
    return f"{server.url}/?user={user.id}&channel={channel.id}"


def add_routes(app: web.Application, server: LocalSlackServer) -> None:
    """The page and what it calls."""
    html = resources.files("localslack").joinpath("web/page.html").read_text("utf-8")

    async def show(_: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    async def state(request: web.Request) -> web.Response:
        user, channel = _who(server, request.query)
        return web.json_response(
            {
                "version": server.version,
                "channel": channel.name,
                "you": user.name,
                "messages": [
                    {**m.to_json(), "name": server.users[m.user].name}
                    for m in server.messages[channel.id]
                ],
                "ephemerals": [
                    {"text": e.text, "blocks": list(e.blocks), "ts": e.ts, "ephemeral": True}
                    for e in server.seen_by(user)
                    if e.channel == channel.id
                ],
            }
        )

    async def act(request: web.Request) -> web.Response:
        body = await request.json()
        user, channel = _who(server, body)
        what = request.match_info["what"]
        try:
            if what == "say":
                await server.say(user, channel, str(body["text"]), body.get("thread_ts") or None)
            elif what == "press":
                message = server.find(channel.id, str(body["ts"]))
                if message is None:
                    raise web.HTTPNotFound(text="no such message")
                await server.press(user, message, str(body["action_id"]))
            elif what == "choose":
                chosen = _shown_to(server, user, channel, str(body["ts"]))
                await server.choose(user, chosen, str(body["action_id"]), str(body["value"]))
            else:
                await server.command(user, channel, str(body["text"]))
        except (NotConnected, NotAcked) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=503)
        return web.json_response({"ok": True})

    app.router.add_get("/", show)
    app.router.add_get("/local/state", state)
    app.router.add_post("/local/{what:say|press|choose|command}", act)


def _who(server: LocalSlackServer, given: object) -> tuple[User, Channel]:
    values = given if isinstance(given, dict) else dict(given)  # type: ignore[call-overload]
    user = server.users.get(str(values.get("user", "")))
    channel = server.channels.get(str(values.get("channel", "")))
    if user is None or channel is None:
        raise web.HTTPNotFound(text="no such user or channel")
    return user, channel


def _shown_to(server: LocalSlackServer, user: User, channel: Channel, ts: str) -> Any:
    """The message ``ts`` of ``channel``, or one only ``user`` sees there; 404 if none."""
    found = server.find(channel.id, ts) or next(
        (e for e in server.seen_by(user) if e.channel == channel.id and e.ts == ts), None
    )
    if found is None:
        raise web.HTTPNotFound(text="no such message")
    return found
