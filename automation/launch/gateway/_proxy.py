"""The egress proxy: HTTP on one Unix socket per agent, ``CONNECT host:port`` tunnels and
plain ``GET http://host/...`` forwarding, each to a host and port the agent's allow-list
opens (``_allow``): the name resolved here, once, and the connection made to the address
resolved. Everything else is refused with a 403 and told to the caller (``Refusal``).
One request per connection: a forwarded request is sent on with ``Connection: close``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from automation.launch.gateway._allow import (
    AllowList,
    Refused,
    Resolver,
    Target,
    resolve_with_loop,
    split_default,
    split_target,
)
from automation.launch.gateway._records import Refusal, RefusalCallback
from automation.launch.gateway._sockets import bind_unix, unlink_socket

log = logging.getLogger(__name__)
MAX_HEAD = 16 * 1024  # a request's line and headers
HEAD_S = 10.0
CONNECT_S = 10.0
MAX_CONNECTIONS = 256  # per agent, at once
CHUNK = 64 * 1024
_HOP = frozenset({b"host", b"connection", b"keep-alive", b"proxy-connection",
                  b"proxy-authorization", b"proxy-authenticate", b"te", b"upgrade"})  # fmt: skip


@dataclass(frozen=True)
class EgressRoute:
    """One agent's proxy: the socket it reaches it on, the hosts it may reach."""

    agent: str
    socket: Path
    allow: AllowList


# the allow-lists as they are now, by agent (None: as the routes gave them): asked at each
# request, so that an edited allow-list holds from the next connection on (``_main``)
AllowSource = Callable[[], Mapping[str, AllowList] | None]


class _BadRequest(Exception):
    """A request the proxy cannot read (not a refusal of a host)."""


class EgressProxy:
    """The proxy for a set of agents: ``start`` binds every socket, ``close`` ends it and
    the tunnels under way."""

    def __init__(
        self,
        routes: Sequence[EgressRoute],
        on_refused: RefusalCallback,
        resolver: Resolver = resolve_with_loop,
        allow_now: AllowSource = lambda: None,
    ) -> None:
        self.routes = tuple(routes)
        self.on_refused = on_refused
        self.resolver = resolver
        self.allow_now = allow_now
        self._servers: list[asyncio.Server] = []
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Listen on each route's socket."""
        for route in self.routes:
            slots = asyncio.Semaphore(MAX_CONNECTIONS)

            async def serve(
                reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                route: EgressRoute = route, slots: asyncio.Semaphore = slots,
            ) -> None:  # fmt: skip
                await self._serve(route, slots, reader, writer)

            server = await asyncio.start_unix_server(
                serve, sock=bind_unix(route.socket), limit=MAX_HEAD
            )
            self._servers.append(server)

    async def close(self) -> None:
        """Stop listening, end every connection, remove the sockets."""
        for server in self._servers:
            server.close()
        for writer in list(self._open):
            writer.close()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        for route in self.routes:
            unlink_socket(route.socket)

    async def _serve(
        self, route: EgressRoute, slots: asyncio.Semaphore,
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
    ) -> None:  # fmt: skip
        self._open.add(writer)
        try:
            if slots.locked():
                await _reply(writer, 503, "too many connections at once")
                return
            async with slots:
                await self._one_request(route, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._open.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _one_request(
        self, route: EgressRoute, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            async with asyncio.timeout(HEAD_S):
                head = await reader.readuntil(b"\r\n\r\n")
        except (TimeoutError, asyncio.LimitOverrunError, asyncio.IncompleteReadError):
            await _reply(writer, 400, "no request head (or one too long)")
            return
        shown, port = _shown_target(head)
        try:
            method, target, host, port, rest = _parse(head)
            where = await self._allow(route).resolve(host, port, self.resolver)
        except (Refused, _BadRequest) as exc:
            self._refuse(route, shown, port, str(exc))
            await _reply(writer, 403, f"refused {shown}: {exc}")
            return
        await self._connect(route, method, target, where, rest, reader, writer)

    async def _connect(
        self, route: EgressRoute, method: bytes, target: bytes, where: Target, rest: bytes,
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
    ) -> None:  # fmt: skip
        try:
            async with asyncio.timeout(CONNECT_S):
                up_reader, up_writer = await asyncio.open_connection(where.address, where.port)
        except (OSError, TimeoutError) as exc:
            log.info("%s: %s:%s unreachable: %s", route.agent, where.host, where.port, exc)
            await _reply(writer, 502, f"{where.host}:{where.port} unreachable")
            return
        self._open.add(up_writer)
        try:
            if method == b"CONNECT":
                writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            else:
                up_writer.write(_forwarded_head(method, target, where, rest))
            await _pipe_both(reader, writer, up_reader, up_writer)
        finally:
            self._open.discard(up_writer)
            up_writer.close()

    def _allow(self, route: EgressRoute) -> AllowList:
        """``route``'s allow-list as it is now (the one it was started with, unless changed)."""
        try:
            live = self.allow_now()
        except Exception:
            log.exception("%s: the allow-list could not be read again: the last one holds",
                          route.agent)  # fmt: skip
            live = None
        return route.allow if live is None else live.get(route.agent, route.allow)

    def _refuse(self, route: EgressRoute, host: str, port: int | None, reason: str) -> None:
        log.info("%s: refused %s port %s: %s", route.agent, host, port, reason)
        try:
            self.on_refused(Refusal(route.agent, host, port, reason, time.time()))
        except Exception:
            log.exception("%s: the refusal callback failed", route.agent)


def _parse(head: bytes) -> tuple[bytes, bytes, str, int, bytes]:
    """The method, the target, its host and port, and the header lines of a request head;
    _BadRequest or Refused for one that is not plainly spelled."""
    line, _, rest = head.partition(b"\r\n")
    parts = line.split(b" ")
    if len(parts) != 3 or not all(parts) or not parts[2].startswith(b"HTTP/1."):
        raise _BadRequest("not an HTTP/1 request line")
    method, target, _version = parts
    if not all(0x21 <= byte <= 0x7E for byte in method + target):
        raise Refused("a byte no host name has")
    if any((byte < 0x20 and byte not in (0x09, 0x0D, 0x0A)) or byte == 0x7F for byte in rest):
        raise _BadRequest("a control byte in the headers")
    bare = rest.replace(b"\r\n", b"")
    if b"\n" in bare or b"\r" in bare:
        raise _BadRequest("a bare carriage return or line feed in the headers")
    text = target.decode("ascii")
    if method == b"CONNECT":
        host, port = split_target(text)
        return method, target, host, port, rest
    if not text.lower().startswith("http://"):
        raise _BadRequest("a plain request's target is not http://host/path")
    authority = text[len("http://") :].split("/", 1)[0]
    host, port = split_default(authority, 80)
    return method, target, host, port, rest


def _shown_target(head: bytes) -> tuple[str, int | None]:
    """The host an agent asked for as printable text (cut short), and its port if plain."""
    parts = head.partition(b"\r\n")[0].split(b" ")
    raw = parts[1] if len(parts) > 1 else b""
    if raw[:7].lower() == b"http://":
        raw = raw[7:].split(b"/", 1)[0]
    text = raw.decode("ascii", "backslashreplace")
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)[:200]
    host, colon, port = text.rpartition(":")
    if colon and port.isdigit() and len(port) <= 5 and 0 < int(port) < 65536:
        return host, int(port)
    return text, None


def _forwarded_head(method: bytes, target: bytes, where: Target, rest: bytes) -> bytes:
    """The request as the host gets it: its path, the headers less the proxy's and the
    hop-by-hop ones, ``Host`` the allowed name, ``Connection: close``."""
    after = target[len(b"http://") :]
    slash = after.find(b"/")
    path = after[slash:] if slash >= 0 else b"/"
    lines = [method + b" " + path + b" HTTP/1.1"]
    for line in rest.split(b"\r\n"):
        name = line.partition(b":")[0].strip().lower()
        if line and name not in _HOP:
            lines.append(line)
    host = where.host if where.port == 80 else f"{where.host}:{where.port}"
    lines += [b"Host: " + host.encode("ascii"), b"Connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n"


async def _pipe_both(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter,
) -> None:  # fmt: skip
    async with asyncio.TaskGroup() as group:
        group.create_task(_pipe(reader, up_writer))
        group.create_task(_pipe(up_reader, writer))


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy until the end, then half-close (the other way may go on)."""
    try:
        while chunk := await source.read(CHUNK):
            sink.write(chunk)
            await sink.drain()
        if sink.can_write_eof():
            sink.write_eof()
    except (ConnectionError, OSError):
        sink.close()


async def _reply(writer: asyncio.StreamWriter, status: int, text: str) -> None:
    words = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway", 503: "Busy"}
    body = f"swarm's egress proxy: {text}\n".encode("ascii", "backslashreplace")
    head = (f"HTTP/1.1 {status} {words[status]}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")  # fmt: skip
    with contextlib.suppress(ConnectionError):
        writer.write(head.encode("ascii") + body)
        await writer.drain()
