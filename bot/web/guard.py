"""The web port's limits: which hosts are served, how big a request body may be, how long a
connection may take to send a request, how many connections are open at once.

The dashboard shares the scheduler's event loop and its file descriptors, so nothing a
client sends may take that loop's memory, time or descriptors:

- ``PortGuard`` (ASGI, outside everything else) refuses a ``Host`` that is not served
  (DNS rebinding), refuses a body by its ``Content-Length`` and reads any other body itself,
  up to ``SWARM_WEB_BODY_MAX`` and within ``SWARM_WEB_IDLE_TIMEOUT``, before any parsing or
  token check (413 / 408); it adds the security headers (CSP, ``X-Frame-Options``) to
  every response.
- It tells the connection's book (``bot/web/connections.py``) whether the request carries
  a live token: a request without one beyond the anonymous share of the port is refused
  (503) before anything else is read, so authenticated requests keep their room.

``bot/web/connections.py`` holds the connections themselves: the header deadline, the cap,
and which connection is closed to make room.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from bot.web.auth import COOKIE
from bot.web.connections import CONNECTION_KEY
from bot.web.settings import WebSettings

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

log = logging.getLogger(__name__)
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS = (
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; "
        b"object-src 'none'; base-uri 'none'; form-action 'self'; "
        b"frame-ancestors 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
ANONYMOUS_BUSY = (
    "too many requests without a token in progress: try again shortly (requests with a "
    "token keep their room)"
)


class PortGuard:
    """ASGI middleware: the host check, the anonymous share, the body limit and the
    security headers."""

    def __init__(
        self, app: ASGIApp, settings: WebSettings, service: SwarmService | None = None
    ) -> None:
        self.app = app
        self.settings = settings
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get("host")
        if host is not None and not self.settings.serves_host(_host_name(host)):
            await _refuse(
                send,
                421,
                f"host {_host_name(host)[:80]!r} is not served here (add it to SWARM_WEB_HOSTS)",
            )
            return
        connection = scope.get(CONNECTION_KEY)
        if (
            connection is not None
            and not await self._trusted(headers)
            and not connection.book.serve_anonymous(connection)
        ):
            await _refuse(send, 503, ANONYMOUS_BUSY)
            return
        receive_body = await self._read_body(headers, receive, send)
        if receive_body is not None:
            await self.app(scope, receive_body, _secured(send))

    async def _trusted(self, headers: dict[str, str]) -> bool:
        """True when the request carries a live token (a dashboard token by header or
        cookie, an agent's token): it is served on the room kept for authenticated ones."""
        token = _token(headers)
        if token is None or self.service is None:
            return False
        return await self.service.tokens.lookup(token) is not None

    async def _read_body(
        self, headers: dict[str, str], receive: Receive, send: Send
    ) -> Receive | None:
        """The app's ``receive``, with the whole body already read; None when a refusal
        was sent (or the client went)."""
        limit = self.settings.body_max
        length = headers.get("content-length", "")
        if length and (not length.isdigit() or int(length) > limit):
            await _refuse(send, 413, f"request body over {limit} bytes (SWARM_WEB_BODY_MAX)")
            return None
        if length in ("", "0") and "transfer-encoding" not in headers:
            return receive  # no body
        parts: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.settings.idle_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        await _refuse(
                            send, 413, f"request body over {limit} bytes (SWARM_WEB_BODY_MAX)"
                        )
                        return None
                    parts.append(chunk)
                    if not message.get("more_body", False):
                        return _replay(b"".join(parts), receive)
        except TimeoutError:
            await _refuse(
                send,
                408,
                f"the request body did not arrive within {self.settings.idle_timeout:g} s",
            )
            return None


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _token(headers: dict[str, str]) -> str | None:
    """The bearer token, else the login cookie's (as ``bot/web/auth.py`` reads them)."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None


def _host_name(host: str) -> str:
    """``Host`` without its port (``[::1]:8765`` → ``::1``)."""
    host = host.strip()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` that gives ``body`` first, then whatever the server says (disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


def _secured(send: Send) -> Send:
    async def with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
        await send(message)

    return with_headers


async def _refuse(send: Send, status: int, text: str) -> None:
    """A JSON error that closes the connection (the rest of the body is never read)."""
    body = json.dumps({"error": text}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
