"""The model gateway: an HTTP server of swarm's on one Unix socket per agent. Each request
goes on to that agent's upstream (the model API its person configured) with the person's key
put on the wire in the vendor's header; whatever credential the agent sent is dropped. The
answer streams back as it arrives (chunk by chunk, never buffered), its usage read on the way
(``_usage``) and given to the caller once the answer ends (``_records.UsageRecord``).

The agent is the socket its request came in on: nothing it writes names it. The key is never
logged, never put in an error text, and taken out of an error answer that quotes it.
"""

from __future__ import annotations

import asyncio
import enum
import hmac
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler

from automation.launch.gateway._records import UsageCallback, UsageRecord
from automation.launch.gateway._sockets import bind_unix, unlink_socket
from automation.launch.gateway._usage import Api, UsageReader, api_of, offers_tools
from core.costs.usage import Usage

log = logging.getLogger(__name__)
MAX_REQUEST_BYTES = 64 * 1024 * 1024
MAX_ERROR_BYTES = 1024 * 1024  # an error answer is read whole to take the key out of it
INLINE_JSON_BYTES = 256 * 1024  # a request body read for its tools on the loop; longer: a thread
CONNECT_S = 30.0
READ_S = 600.0  # between two chunks of an answer (a model thinking before it streams)
# the gateway's end: the answers under way are ended after this (their usage so far kept),
# well inside the 10 s its stop gives it before SIGKILL (``_launch.STOP_S``)
CLOSE_S = 1.0
# never forwarded upstream: credentials (the agent's are placeholders), hop-by-hop headers,
# the host (upstream's own), and encodings (an answer is read for its usage as it passes)
_NOT_UP = frozenset({
    "authorization", "x-api-key", "x-goog-api-key", "api-key", "proxy-authorization", "cookie",
    "host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer",
    "upgrade", "proxy-connection", "accept-encoding", "expect",
})  # fmt: skip
# an agent's own login (its CLI's subscription or OAuth), passed on when no key is configured
_LOGIN = frozenset({"authorization", "x-api-key", "x-goog-api-key", "api-key"})
_NOT_DOWN = frozenset({"transfer-encoding", "connection", "keep-alive", "trailer", "upgrade",
                       "proxy-connection", "set-cookie"})  # fmt: skip


class Vendor(enum.Enum):
    """Whose API an upstream is: it says where the key goes."""

    ANTHROPIC = "anthropic"
    OPENAI = "openai"
    GEMINI = "gemini"

    def key_header(self, key: str) -> tuple[str, str]:
        """The header that carries ``key`` to this vendor."""
        if self is Vendor.ANTHROPIC:
            return "x-api-key", key
        if self is Vendor.OPENAI:
            return "Authorization", f"Bearer {key}"
        return "x-goog-api-key", key


@dataclass(frozen=True)
class ModelRoute:
    """One agent's way to its model: the socket it reaches the gateway on, the upstream base
    URL (``https://api.anthropic.com``; a path in it is put before the request's), the
    vendor, the person's key (None: none is sent), the agent's own credential (``token``:
    a request without it is refused; None: not asked)."""

    agent: str
    socket: Path
    upstream: str
    vendor: Vendor
    key: str | None = field(default=None, repr=False)
    # the credential the agent must send (its placeholder), for a socket a relay on the
    # host's loopback leads to (``gateway = true``): any local process reaches that port
    token: str | None = field(default=None, repr=False)


class ModelGateway:
    """The gateway for a set of agents: ``start`` binds every socket, ``close`` ends it."""

    def __init__(self, routes: Sequence[ModelRoute], on_usage: UsageCallback) -> None:
        self.routes = tuple(routes)
        self.on_usage = on_usage
        self._runners: list[web.AppRunner] = []
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Listen on each route's socket."""
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_S, sock_read=READ_S)
        self._session = aiohttp.ClientSession(
            timeout=timeout, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
        )
        for route in self.routes:
            app = web.Application(client_max_size=MAX_REQUEST_BYTES)
            app.router.add_route("*", "/{tail:.*}", self._handler(route))
            # an agent gone (its CLI stopped the turn) ends its request upstream at once:
            # the model is not kept answering, and billing, for no one
            runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                   handler_cancellation=True, shutdown_timeout=CLOSE_S)  # fmt: skip
            await runner.setup()
            self._runners.append(runner)
            await web.SockSite(runner, bind_unix(route.socket)).start()

    async def close(self) -> None:
        """Stop listening, end the answers under way, remove the sockets."""
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        if self._session is not None:
            await self._session.close()
        for route in self.routes:
            unlink_socket(route.socket)

    def _handler(self, route: ModelRoute) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._forward(route, request)

        return handle

    async def _forward(self, route: ModelRoute, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        started = time.time()
        segments = request.rel_url.raw_path.split("/") + request.path.split("/")
        if any(part in (".", "..") or "%2e" in part.lower() for part in segments):
            return web.Response(status=400, text="swarm's gateway: no . or .. in a path\n")
        if route.token is not None and not _sent(request, route.token):
            return web.Response(status=401, text="swarm's gateway: not this agent's credential\n")
        body = await request.read()
        api = api_of(request.path)
        asked = _Asked(started, await _offers_tools(body) if api is not None else None)
        try:
            upstream = await self._session.request(
                request.method, _upstream_url(route, request), data=body,
                headers=_upstream_headers(request.headers, route), allow_redirects=False,
            )  # fmt: skip
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            reason = _scrub(f"{type(exc).__name__}: {exc}", route.key)
            log.warning(
                "%s: the gateway could not reach %s: %s", route.agent, _origin(route), reason
            )
            if api is not None:
                self._record(route, api.value, None, 502, False, False, asked)
            return web.Response(
                status=502, text=f"swarm's gateway could not reach {_origin(route)}: {reason}\n"
            )
        async with upstream:
            return await self._answer(route, request, upstream, asked)

    async def _answer(
        self,
        route: ModelRoute,
        request: web.Request,
        upstream: aiohttp.ClientResponse,
        asked: _Asked,
    ) -> web.StreamResponse:
        api = api_of(request.path)
        streamed = upstream.content_type == "text/event-stream"
        if upstream.status >= 400 and not streamed and route.key:
            return await self._error_answer(route, upstream, api, asked)
        reader = UsageReader(api, streamed) if api is not None else None
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
        response.headers.extend(_down_headers(upstream.headers))
        complete = False
        try:
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                if reader is not None:
                    reader.feed(chunk)
                await response.write(chunk)
            await response.write_eof()
            complete = True
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            log.info("%s: an answer ended early: %s", route.agent, type(exc).__name__)
        finally:
            if reader is not None and api is not None:
                model, usage = reader.result()
                self._record(route, api.value, usage, upstream.status, streamed, complete,
                             asked, model)  # fmt: skip
        return response

    async def _error_answer(
        self, route: ModelRoute, upstream: aiohttp.ClientResponse, api: Api | None,
        asked: _Asked,
    ) -> web.StreamResponse:  # fmt: skip
        """An error answer, read whole so that a key it quotes is taken out."""
        raw = bytearray()
        while len(raw) < MAX_ERROR_BYTES and (
            chunk := await upstream.content.read(MAX_ERROR_BYTES - len(raw))
        ):
            raw += chunk
        text = bytes(raw).replace(route.key.encode(), b"[redacted]") if route.key else bytes(raw)
        headers = [
            (k, v) for k, v in _down_headers(upstream.headers) if k.lower() != "content-length"
        ]
        if api is not None:
            self._record(route, api.value, None, upstream.status, False, True, asked)
        return web.Response(status=upstream.status, body=text, headers=headers)

    def _record(
        self, route: ModelRoute, api: str, usage: Usage | None, status: int, streamed: bool,
        complete: bool, asked: _Asked, model: str | None = None,
    ) -> None:  # fmt: skip
        record = UsageRecord(route.agent, route.vendor.value, api, model, usage, status, streamed,
                             complete, asked.started, time.time(), asked.tools)  # fmt: skip
        try:
            self.on_usage(record)
        except Exception:
            log.exception("%s: the usage callback failed", route.agent)


@dataclass(frozen=True)
class _Asked:
    """What the gateway knows of a model request when its answer comes: when it started,
    whether it offered the model tools (``offers_tools``)."""

    started: float
    tools: bool | None


async def _offers_tools(body: bytes) -> bool | None:
    """``offers_tools`` of ``body``: a long one read in a thread, so that its parse (up to
    ``MAX_JSON_BYTES``) never holds the other requests of the gateway's loop."""
    if len(body) <= INLINE_JSON_BYTES:
        return offers_tools(body)
    return await asyncio.to_thread(offers_tools, body)


def _sent(request: web.Request, token: str) -> bool:
    """Whether ``request`` carries ``token`` as its credential (a bearer token, an API key
    header or Gemini's ``key`` query parameter), compared in constant time."""
    bearer = request.headers.get("Authorization", "")
    given = [bearer[7:] if bearer[:7].lower() == "bearer " else bearer,
             request.headers.get("x-api-key", ""), request.headers.get("x-goog-api-key", ""),
             request.rel_url.query.get("key", "")]  # fmt: skip
    wanted = token.encode()
    return any(hmac.compare_digest(value.encode(), wanted) for value in given if value)


def _upstream_url(route: ModelRoute, request: web.Request) -> str:
    """The upstream's base with the request's path after its own, the query less ``key``."""
    base = urlsplit(route.upstream)
    given = parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True)
    query = urlencode([(k, v) for k, v in given if k.lower() != "key"])
    return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + request.rel_url.raw_path,
                       query, ""))  # fmt: skip


def _upstream_headers(given: Mapping[str, str], route: ModelRoute) -> list[tuple[str, str]]:
    """The agent's headers less credentials and hop-by-hop ones, and the person's key; with
    no key (the CLI's own login, kept in its sandbox), the agent's own credential passes."""
    own = set() if route.key else _LOGIN
    headers = [(k, v) for k, v in given.items() if k.lower() not in _NOT_UP - own]
    headers.append(("Accept-Encoding", "identity"))
    if route.key:
        headers.append(route.vendor.key_header(route.key))
    return headers


def _down_headers(given: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in given.items() if k.lower() not in _NOT_DOWN]


def _origin(route: ModelRoute) -> str:
    url = urlsplit(route.upstream)
    return f"{url.scheme}://{url.hostname}:{url.port or (443 if url.scheme == 'https' else 80)}"


def _scrub(text: str, key: str | None) -> str:
    return text.replace(key, "[redacted]") if key else text
