"""The dashboard port under a local connection flood (issue 54, item 4), against the real
server on a free loopback port: connections that never finish their headers only ever close
each other, authenticated requests keep their room, requests without a token have a share."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from typing import Any

import httpx

from bot.web.connections import anonymous_share
from core.service.swarm import SwarmService
from tests.web.conftest import bearer, make_token
from tests.web.test_port_limits import (
    _closed_by_server,
    _connect,
    _one_response,
    _response,
    serving,
)

# One process holding N connections that each send "GET / HTTP/1.1" and nothing more, each
# opened again as soon as the server closes it, for S seconds or until its stdin closes;
# prints how many it opened.
FLOOD = textwrap.dedent(
    """
    import selectors, socket, sys, time
    port, count, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    sel = selectors.DefaultSelector()
    sel.register(sys.stdin, selectors.EVENT_READ, "stop")
    opened = 0
    def open_one():
        s = socket.socket(); s.setblocking(False)
        try: s.connect(("127.0.0.1", port))
        except (BlockingIOError, OSError): pass
        sel.register(s, selectors.EVENT_WRITE, "connecting")
    for _ in range(count): open_one()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for key, _ in sel.select(0.1):
            if key.data == "stop":
                end = 0
                break
            s = key.fileobj
            try:
                if key.data == "connecting":
                    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                        s.send(b"GET / HTTP/1.1\\r\\n"); opened += 1
                        sel.modify(s, selectors.EVENT_READ, "open"); continue
                elif s.recv(4096):
                    continue
            except OSError:
                pass
            sel.unregister(s); s.close(); open_one()
    print(opened)
    """
)


async def port_full(server: Any) -> None:
    """Until the server holds as many connections as it takes (the flood's), or 10 s."""
    connections = server.connections
    deadline = time.monotonic() + 10
    while len(connections.open) < connections.cap and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


async def test_a_flood_of_idle_connections_leaves_the_admin_answered(
    service: SwarmService,
) -> None:
    """300 connections reopened as they close (before: the admin got 503 or nothing, 18 of
    20 times): each of the admin's 20 requests is answered."""
    token = await make_token(service, "admin", "person")
    async with serving(service) as server:
        flood = await asyncio.to_thread(
            subprocess.Popen,
            [sys.executable, "-c", FLOOD, str(server.port), "300", "20"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            await port_full(server)
            statuses: list[int | str] = []
            async with httpx.AsyncClient(
                timeout=10, limits=httpx.Limits(max_keepalive_connections=0)
            ) as http:
                for _ in range(20):
                    try:
                        got = await http.get(
                            f"http://127.0.0.1:{server.port}/api/v1/status",
                            headers=bearer(token),
                        )
                        statuses.append(got.status_code)
                    except httpx.TransportError as exc:
                        statuses.append(type(exc).__name__)
                    await asyncio.sleep(0.1)
            opened, _ = await asyncio.to_thread(flood.communicate, "", timeout=30)  # stop
        finally:
            if flood.poll() is None:
                flood.kill()
                flood.wait()
        assert int(opened) > 300, "the flood reached the port"
        assert server.connections is not None and server.connections.evicted > 0
        assert statuses == [200] * 20, statuses


async def test_the_longest_waiting_connection_makes_room(service: SwarmService) -> None:
    async with serving(
        service, SWARM_WEB_MAX_CONNECTIONS="5", SWARM_WEB_IDLE_TIMEOUT="60"
    ) as server:
        held = [await asyncio.to_thread(_connect, server.port) for _ in range(5)]
        try:
            await asyncio.sleep(0.3)  # the five are accepted
            extra = await asyncio.to_thread(_connect, server.port)
            with extra:
                extra.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                answer = await asyncio.to_thread(_one_response, extra)
            assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
            assert await asyncio.to_thread(_closed_by_server, held[0])  # the oldest went
            assert server.connections is not None and server.connections.evicted == 1
        finally:
            for sock in held:
                sock.close()


async def test_a_connection_beyond_the_cap_is_turned_away_when_all_are_serving(
    service: SwarmService,
) -> None:
    """Every connection holds a live stream with a token: nothing to close, so a new
    connection gets 503; the streams are left alone."""
    token = await make_token(service, "admin", "person")
    async with serving(
        service, SWARM_WEB_MAX_CONNECTIONS="3", SWARM_WEB_IDLE_TIMEOUT="60"
    ) as server:
        streams = []
        try:
            for _ in range(3):
                sock = await asyncio.to_thread(_connect, server.port)
                sock.sendall(
                    f"GET /api/v1/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Authorization: Bearer {token}\r\n\r\n".encode()
                )
                assert (await asyncio.to_thread(sock.recv, 64)).startswith(b"HTTP/1.1 200 ")
                streams.append(sock)
            extra = await asyncio.to_thread(_connect, server.port)
            with extra:
                answer = await asyncio.to_thread(extra.recv, 4096)
            assert answer.startswith(b"HTTP/1.1 503 "), answer[:200]
            assert b"too many connections" in answer
            assert server.connections is not None and server.connections.evicted == 0
        finally:
            for sock in streams:
                sock.close()


async def test_requests_without_a_token_have_a_share_of_the_port(service: SwarmService) -> None:
    """Requests without a token that hold their connection (a body sent slowly) take at
    most a quarter of the port: the next is refused at once, one with a token is served."""
    token = await make_token(service, "admin", "person")
    async with serving(
        service, SWARM_WEB_MAX_CONNECTIONS="8", SWARM_WEB_IDLE_TIMEOUT="30"
    ) as server:
        share = anonymous_share(8)
        slow = []
        try:
            for _ in range(share):
                sock = await asyncio.to_thread(_connect, server.port)
                sock.sendall(
                    b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nx"
                )
                slow.append(sock)
            await asyncio.sleep(0.3)
            one_more = await asyncio.to_thread(_connect, server.port)
            with one_more:
                one_more.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                answer = await asyncio.to_thread(_response, one_more)
            assert answer.startswith(b"HTTP/1.1 503 "), answer[:200]
            assert b"without a token" in answer
            async with httpx.AsyncClient(timeout=10) as http:
                got = await http.get(
                    f"http://127.0.0.1:{server.port}/api/v1/status", headers=bearer(token)
                )
            assert got.status_code == 200, got.text
        finally:
            for sock in slow:
                sock.close()


async def test_headers_must_come_soon_after_the_first_byte(service: SwarmService) -> None:
    async with serving(
        service, SWARM_WEB_HEADER_TIMEOUT="0.5", SWARM_WEB_IDLE_TIMEOUT="30"
    ) as server:
        silent = await asyncio.to_thread(_connect, server.port)
        slow = await asyncio.to_thread(_connect, server.port)
        with silent, slow:
            slow.sendall(b"GET / HTTP/1.1\r\n")  # and nothing more
            started = time.monotonic()
            assert await asyncio.to_thread(_closed_by_server, slow)
            assert time.monotonic() - started < 5
            silent.settimeout(0.5)  # silent, not sending: its limit is the idle timeout
            assert not await asyncio.to_thread(_closed_by_server, silent)
