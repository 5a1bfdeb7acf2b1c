"""The web port's limits: which hosts are served, how big a request body may be, how long a
connection may take to send a request, how many connections are open at once.

The dashboard shares the scheduler's event loop and its file descriptors, so nothing a
client sends may take that loop's memory, time or descriptors:

- ``PortGuard`` (ASGI, outside everything else) refuses a ``Host`` that is not served
  (DNS rebinding), refuses a body by its ``Content-Length`` and reads any other body itself,
  up to ``SWARM_WEB_BODY_MAX`` and within ``SWARM_WEB_IDLE_TIMEOUT``, before any parsing or
  token check (413 / 408); it adds the security headers (CSP, ``X-Frame-Options``) to
  every response.
- ``guarded_protocol`` is uvicorn's h11 protocol that closes a connection which sends no
  request line and headers within ``SWARM_WEB_IDLE_TIMEOUT`` (at first, or after a
  response), and turns away a connection beyond ``connection_cap`` with a 503.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.web.settings import WebSettings

log = logging.getLogger(__name__)
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FD_RESERVE = 64  # descriptors the web port never takes: delivery, the database, logs
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
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    b"connection: close\r\ncontent-length: 51\r\n\r\n"
    b'{"error": "too many connections: try again later"}\n'
)


class PortGuard:
    """ASGI middleware: the host check, the body limit and the security headers."""

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app = app
        self.settings = settings

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
        receive_body = await self._read_body(headers, receive, send)
        if receive_body is not None:
            await self.app(scope, receive_body, _secured(send))

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


def connection_cap(settings: WebSettings) -> int:
    """``SWARM_WEB_MAX_CONNECTIONS``, lowered so that the port (with a burst of accepts the
    same size) leaves ``FD_RESERVE`` descriptors of the process's limit to the rest."""
    cap = _cap(settings)
    if cap < settings.max_connections:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        log.warning("dashboard: at most %d connections (open files limit %d)", cap, soft)
    return cap


def port_share(settings: WebSettings) -> int:
    """How many requests the agents' ``/mcp`` calls may hold at once: half the connections,
    the other half left to people (``bot/mcp/limits.py``)."""
    return max(1, _cap(settings) // 2)


def _cap(settings: WebSettings) -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return settings.max_connections
    return max(1, min(settings.max_connections, (soft - FD_RESERVE) // 2))


def guarded_protocol(settings: WebSettings, cap: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the idle deadline and the connection cap."""

    class GuardedProtocol(H11Protocol):
        """Closes a connection that sends no request in time; turns away one too many."""

        _deadline: asyncio.TimerHandle | None = None
        _refused = False
        _started: object = None  # the request whose headers came last

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            if len(self.server_state.connections) >= cap:
                self._refused = True
                assert isinstance(transport, asyncio.WriteTransport)
                transport.write(BUSY)
                transport.close()
                return
            super().connection_made(transport)  # type: ignore[arg-type]
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._refused:
                return
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            super().data_received(data)
            if self.cycle is not None and self.cycle is not self._started:
                self._started = self.cycle  # a request's headers arrived: it is served
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self.cycle is self._started and not self.transport.is_closing():
                self._arm()  # waiting for the next request (keep-alive) has the same limit

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(settings.idle_timeout, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if (
                self.cycle is self._started
                and self.cycle is not None
                and not self.cycle.response_complete
            ):
                return  # a request is being served (a live stream, a body being read)
            if not self.transport.is_closing():
                self.transport.close()

    return GuardedProtocol
