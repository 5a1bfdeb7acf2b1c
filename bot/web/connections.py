"""The dashboard port's connections: how many, how long one may take to say what it wants,
and who keeps room when a local process floods the port.

A connection is one of three things at a time (:class:`Connections`):

- **waiting**: no request in progress (just opened, sending its headers, or kept alive
  between requests). It costs a descriptor and nothing else, and it is the only kind ever
  closed to make room: when the port is full, a new connection closes the one that has
  waited longest with part of a request read and no whole headers (else the longest quiet
  one). A flood of connections that never finish their headers (``GET / HTTP/1.1`` and
  nothing more) therefore only ever closes itself: a client that sends its request when it
  connects (a person's browser, ``curl``, an agent's MCP call) is quiet until it is read,
  and then served (asyncio accepts at most 32 connections per wake-up).
- **anonymous**: serving a request without a live token (the login page, static files,
  a refusal). At most a quarter of the connections (``anonymous_cap``); beyond, such a
  request is answered 503 at once (``bot/web/guard.py``), so requests that hold their
  connection without a token (a body sent slowly, a response never read) cannot take the
  room of the authenticated ones.
- **trusted**: serving a request with a live token (a dashboard token, by header or cookie,
  or an agent's token on ``/mcp``, whose own share is ``bot/mcp/limits.py``'s).

A connection must send its request line and headers within ``SWARM_WEB_HEADER_TIMEOUT`` of
its first byte, and its first byte within ``SWARM_WEB_IDLE_TIMEOUT`` of opening (or of its
previous response); it is closed otherwise. Only when every connection is serving a request
is a new one turned away (503).
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.web.settings import WebSettings

log = logging.getLogger(__name__)
CONNECTION_KEY = "swarm.connection"  # the ASGI scope's key: the request's Connections entry
FD_RESERVE = 64  # descriptors the web port never takes: delivery, the database, logs
ACCEPT_BURST = 32  # connections asyncio accepts per wake-up (and the listen backlog)
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    b"connection: close\r\ncontent-length: 51\r\n\r\n"
    b'{"error": "too many connections: try again later"}\n'
)


class Connections:
    """The port's open connections by what they hold: waiting (quiet, or part of a request
    heard; each oldest first), anonymous or trusted requests in progress."""

    def __init__(self, cap: int, anonymous_cap: int) -> None:
        self.cap = cap
        self.anonymous_cap = anonymous_cap
        self.open: set[Any] = set()
        self.quiet: dict[Any, None] = {}  # waiting, nothing read since: oldest first
        self.heard: dict[Any, None] = {}  # waiting, part of a request read: oldest first
        self.anonymous: set[Any] = set()
        self.evicted = 0  # waiting connections closed to make room (for the docs' figures)

    def admit(self, conn: Any) -> bool:
        """Room for ``conn``: when the port is full, closes the connection that has waited
        longest with part of a request read (what a flood holds), else the longest quiet
        one (a connection just accepted, whose request is not read yet, goes last); False
        when every connection is serving a request."""
        if len(self.open) >= self.cap:
            line = self.heard or self.quiet
            if not line:
                return False
            oldest = next(iter(line))
            self.forget(oldest)
            oldest.evict()
            self.evicted += 1
        self.open.add(conn)
        self.wait(conn)
        return True

    def wait(self, conn: Any) -> None:
        """``conn`` has no request in progress (it goes to the end of the quiet line)."""
        self.anonymous.discard(conn)
        self.heard.pop(conn, None)
        self.quiet.pop(conn, None)
        self.quiet[conn] = None

    def hear(self, conn: Any) -> None:
        """The first bytes of ``conn``'s next request came, not yet its whole headers."""
        if self.quiet.pop(conn, 0) is None:
            self.heard[conn] = None

    def serve(self, conn: Any) -> None:
        """A request's headers came: ``conn`` is no longer one to close for room."""
        self.quiet.pop(conn, None)
        self.heard.pop(conn, None)

    def serve_anonymous(self, conn: Any) -> bool:
        """The request of ``conn`` has no live token: False when the anonymous share is
        taken (the request is refused)."""
        if conn not in self.open:
            return True  # gone meanwhile: nothing to count
        if len(self.anonymous) >= self.anonymous_cap:
            return False
        self.anonymous.add(conn)
        return True

    def forget(self, conn: Any) -> None:
        """``conn`` closed."""
        self.open.discard(conn)
        self.serve(conn)
        self.anonymous.discard(conn)


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


def anonymous_share(cap: int) -> int:
    """How many requests without a live token may be in progress at once: a quarter."""
    return max(1, cap // 4)


def accept_burst(cap: int) -> int:
    """Connections accepted per wake-up: at most ``ACCEPT_BURST``, fewer than a third of the
    port, so that connections accepted after one cannot close it before its request is
    read."""
    return max(1, min(ACCEPT_BURST, cap // 3))


def _cap(settings: WebSettings) -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return settings.max_connections
    return max(1, min(settings.max_connections, (soft - FD_RESERVE) // 2))


def guarded_protocol(settings: WebSettings, connections: Connections) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the deadlines and the room kept in ``connections``."""

    class GuardedProtocol(H11Protocol):
        """Closes a connection that sends no request in time; makes room or turns one away."""

        book = connections

        _deadline: asyncio.TimerHandle | None = None
        _refused = False
        _sending = False  # the first byte of a request came: the header deadline runs
        _started: object = None  # the request whose headers came last

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            if not self.book.admit(self):
                self._refused = True
                assert isinstance(transport, asyncio.WriteTransport)
                transport.write(BUSY)
                transport.close()
                return
            super().connection_made(transport)  # type: ignore[arg-type]
            self._arm(settings.idle_timeout)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._refused:
                return
            self.book.forget(self)
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            super().data_received(data)
            self._after_events(bool(data))

        def on_response_complete(self) -> None:
            super().on_response_complete()  # may start the next request (pipelined)
            if self.transport.is_closing():
                return
            if not self._after_events(False) and self.cycle is self._started:
                self.book.wait(self)
                self._sending = False
                self._arm(settings.idle_timeout)  # the next request has the same limits

        def evict(self) -> None:
            """Closed to make room (it was waiting longest)."""
            self._disarm()
            if not self.transport.is_closing():
                self.transport.close()

        def _after_events(self, got_bytes: bool) -> bool:
            """Note a request whose headers came (True), or start the header deadline at a
            request's first byte."""
            if self.cycle is not None and self.cycle is not self._started:
                self._started = self.cycle  # a request's headers arrived: it is served
                scope: dict[str, Any] = self.cycle.scope  # type: ignore[assignment]
                scope[CONNECTION_KEY] = self
                self.book.serve(self)
                self._disarm()
                return True
            if got_bytes and not self._sending and self._deadline is not None:
                self._sending = True
                self.book.hear(self)
                self._arm(min(settings.header_timeout, settings.idle_timeout))
            return False

        def _arm(self, seconds: float) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._expire)

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
