"""The Web API methods a bot uses (https://api.slack.com/methods): ``auth.test``,
``chat.postMessage`` (blocks, ``thread_ts``), ``chat.update``, ``chat.postEphemeral``,
``conversations.info`` and ``apps.connections.open`` (with the app-level token). Arguments
come as a query, a form or JSON; the token as ``Authorization: Bearer`` or ``token``. Errors
are HTTP 200 with ``{"ok": false, "error": ...}``, as Slack answers them; over a rate limit,
429 with ``Retry-After``."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from localslack.blocks import problem
from localslack.world import Json, Message

if TYPE_CHECKING:
    from localslack.server import LocalSlackServer

Method = Callable[["LocalSlackServer", Json], Awaitable[Json]]


class SlackError(Exception):
    """A method's ``{"ok": false, "error": code}``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class RecordedCall:
    """One Web API request the app made, and what it was answered (``ok`` or the error)."""

    method: str
    status: int
    outcome: str
    args: Json


async def arguments(request: web.Request) -> tuple[Json, str]:
    """The request's arguments and its token."""
    args: Json = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        args |= body if isinstance(body, dict) else {}
    elif request.can_read_body:
        args |= {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    for name in ("blocks",):
        if isinstance(args.get(name), str):
            try:
                args[name] = json.loads(args[name])
            except ValueError:
                raise SlackError("invalid_blocks_format") from None
    bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return args, bearer or str(args.pop("token", ""))


async def auth_test(server: LocalSlackServer, args: Json) -> Json:
    """Who the bot is."""
    bot = server.bot
    return {
        "url": f"{server.url}/",
        "team": server.team_name,
        "user": bot.name,
        "team_id": server.team_id,
        "user_id": bot.id,
        "bot_id": bot.bot_id,
        "is_enterprise_install": False,
    }


async def post_message(server: LocalSlackServer, args: Json) -> Json:
    """A message in a channel, or in a thread (``thread_ts``)."""
    channel = server.channel_for_bot(str(args.get("channel", "")))
    text, blocks = _content(args)
    thread_ts = args.get("thread_ts") or None
    if thread_ts is not None and server.find(channel, str(thread_ts)) is None:
        raise SlackError("thread_not_found")
    message = server.add_message(
        Message(channel, server.ids.ts(), server.bot.id, text, blocks, thread_ts, server.bot.bot_id)
    )
    return {"channel": channel, "ts": message.ts, "message": message.to_json()}


async def update(server: LocalSlackServer, args: Json) -> Json:
    """A message of the bot's, changed in place."""
    channel = server.channel_for_bot(str(args.get("channel", "")))
    message = server.find(channel, str(args.get("ts", "")))
    if message is None:
        raise SlackError("message_not_found")
    if message.user != server.bot.id:
        raise SlackError("cant_update_message")
    message.text, message.blocks = _content(args)
    message.edits += 1
    server.changed()
    return {
        "channel": channel,
        "ts": message.ts,
        "text": message.text,
        "message": message.to_json(),
    }


async def post_ephemeral(server: LocalSlackServer, args: Json) -> Json:
    """A message only one user of the channel sees."""
    channel = server.channel_for_bot(str(args.get("channel", "")))
    user = str(args.get("user", ""))
    if user not in server.users:
        raise SlackError("user_not_in_channel")
    text, blocks = _content(args)
    server.add_ephemeral(channel, user, text, blocks)
    return {"message_ts": server.ids.ts()}


async def conversations_info(server: LocalSlackServer, args: Json) -> Json:
    """A channel the bot can see."""
    channel = server.channels.get(str(args.get("channel", "")))
    if channel is None:
        raise SlackError("channel_not_found")
    member = channel.id in server.bot_channels
    return {
        "channel": {"id": channel.id, "name": channel.name, "is_channel": True, "is_member": member}
    }


async def connections_open(server: LocalSlackServer, args: Json) -> Json:
    """A Socket Mode URL (its ticket good once)."""
    ticket = server.socket_mode.ticket()
    return {"url": f"{server.ws_url}/link/?ticket={ticket}&app_id={server.app_id}"}


def _content(args: Json) -> tuple[str, list[Json]]:
    text = str(args.get("text") or "")
    blocks = args.get("blocks")
    error = problem(text, blocks)
    if error is not None:
        raise SlackError(error)
    return text, list(blocks or [])


METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.postEphemeral": post_ephemeral,
    "conversations.info": conversations_info,
    "apps.connections.open": connections_open,
}
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


async def handle(server: LocalSlackServer, request: web.Request) -> web.Response:
    """``/api/{method}``: authenticated, rate limited, answered; recorded."""
    name = request.match_info["method"]
    status, body, headers = 200, {"ok": False, "error": "unknown_method"}, {}
    args: Json = {}
    try:
        args, token = await arguments(request)
        method = METHODS.get(name)
        if method is not None:
            server.check_token(token, app=name in APP_TOKEN_METHODS)
            wait = server.limiter.retry_after(name, str(args.get("channel", "")))
            if wait is not None:
                status, body = 429, {"ok": False, "error": "ratelimited"}
                headers = {"Retry-After": str(wait)}
            else:
                body = {"ok": True, **(await method(server, args))}
    except SlackError as exc:
        body = {"ok": False, "error": exc.code}
    outcome = "ok" if body.get("ok") else str(body.get("error"))
    server.calls.append(RecordedCall(name, status, outcome, args))
    return web.json_response(body, status=status, headers=headers)
