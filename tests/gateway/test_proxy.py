"""The egress proxy: every published way around an allow-list refused at the proxy, each
refusal told to the caller with the agent, the host and the reason; an allowed CONNECT
reaching a TCP echo server listed by its address, a plain GET reaching localmodel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from localmodel import LocalModel

from automation.launch.gateway import AllowList, EgressProxy, EgressRoute, Refusal

AGENT = "worker-1"


@pytest.fixture
async def echo() -> AsyncIterator[int]:
    """A TCP echo server on loopback: its port."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(4096):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


class Proxy:
    """A started proxy for one agent, the refusals it told."""

    def __init__(self, sockets: Path, allow: Sequence[str], names: dict[str, list[str]]) -> None:
        self.socket = sockets / "egress.sock"
        self.refusals: list[Refusal] = []

        async def resolver(host: str, port: int) -> list[str]:
            if host in names:
                return names[host]
            raise OSError("no such name (the tests resolve no real name)")

        self.proxy = EgressProxy(
            [EgressRoute(AGENT, self.socket, AllowList(allow))], self.refusals.append, resolver
        )

    async def ask(self, head: bytes) -> tuple[bytes, asyncio.StreamReader, asyncio.StreamWriter]:
        """Send a request head; the status line, and the open connection."""
        reader, writer = await asyncio.open_unix_connection(str(self.socket))
        writer.write(head)
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 5)
        return status, reader, writer


@pytest.fixture
async def proxy(sockets: Path, echo: int, model: LocalModel) -> AsyncIterator[Proxy]:
    """A proxy allowing the echo server and localmodel by address, github.com:443, a
    registry on 443 and 80, and two names of the test's resolver."""
    model_port = int(model.url.rsplit(":", 1)[1])
    allow = [f"127.0.0.1:{echo}", f"127.0.0.1:{model_port}", "github.com:443",
             "registry.npmjs.org", "echo.internal", f"echo.internal:{echo}",
             "sneaky.example:22", "dual.example", "db.corp:5432"]  # fmt: skip
    names = {"echo.internal": ["127.0.0.1"], "sneaky.example": ["127.0.0.1"],
             "dual.example": ["140.82.112.3", "127.0.0.1"], "db.corp": ["10.0.0.5"],
             "github.com": ["::ffff:127.0.0.1"]}  # fmt: skip
    started = Proxy(sockets, allow, names)
    await started.proxy.start()
    yield started
    await started.proxy.close()


def _attacks(echo: int) -> dict[str, tuple[bytes, str]]:
    """Each attack's request head, and the host its refusal names."""
    connect = "CONNECT {} HTTP/1.1\r\nHost: {}\r\n\r\n"
    plain = "GET http://{}/ HTTP/1.1\r\nHost: {}\r\n\r\n"
    cases = {
        "null byte": (connect, "github.com\0.evil.example:443", "github.com\\x00.evil.example"),
        "null byte plain": (plain, "github.com\0.evil.example", "github.com\\x00.evil.example"),
        "trailing dot": (connect, "github.com.:443", "github.com."),
        "kelvin sign": (connect, "\u212aernel.org:443", "\\xe2\\x84\\xaaernel.org"),
        "percent": (connect, "github.com%2f.evil.example:443", "github.com%2f.evil.example"),
        "userinfo": (plain, "github.com@evil.example", "github.com@evil.example"),
        "empty label": (connect, "github..com:443", "github..com"),
        "decimal literal": (connect, f"2130706433:{echo}", "2130706433"),
        "octal literal": (connect, f"0177.0.0.1:{echo}", "0177.0.0.1"),
        "hex literal": (connect, f"0x7f.0.0.1:{echo}", "0x7f.0.0.1"),
        "short literal": (connect, f"127.1:{echo}", "127.1"),
        "ipv6 loopback": (connect, f"[::1]:{echo}", "[::1]"),
        "ipv4-mapped ipv6": (connect, f"[::ffff:127.0.0.1]:{echo}", "[::ffff:127.0.0.1]"),
        "ipv6 with zone": (connect, f"[fe80::1%25lo]:{echo}", "[fe80::1%25lo]"),
        "loopback not listed": (connect, "127.0.0.1:22", "127.0.0.1"),
        "port not allowed": (connect, "github.com:22", "github.com"),
        "name port not allowed": (connect, "registry.npmjs.org:8080", "registry.npmjs.org"),
        "denied host": (connect, "evil.example:443", "evil.example"),
        "denied host plain": (plain, "evil.example", "evil.example"),
        "no port": (connect, "github.com", "github.com"),
        "name resolving to loopback": (connect, "sneaky.example:22", "sneaky.example"),
        "mapped loopback behind a name": (connect, "github.com:443", "github.com"),
        "one bad address of two": (connect, "dual.example:443", "dual.example"),
        "private address not listed": (connect, "db.corp:5432", "db.corp"),
        "metadata address": (connect, "169.254.169.254:80", "169.254.169.254"),
    }
    return {
        name: (form.format(target, target).encode("utf-8"), shown)
        for name, (form, target, shown) in cases.items()
    }


ATTACKS = sorted(_attacks(1))


@pytest.mark.parametrize("attack", ATTACKS)
async def test_refused_and_told(proxy: Proxy, echo: int, attack: str) -> None:
    head, shown = _attacks(echo)[attack]
    status, reader, writer = await proxy.ask(head)
    body = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert status.startswith(b"HTTP/1.1 403 "), (status, body)
    assert len(proxy.refusals) == 1
    refusal = proxy.refusals[0]
    assert refusal.agent == AGENT and refusal.reason
    assert refusal.host == shown
    assert "\0" not in refusal.host and refusal.host.isprintable()


async def test_connect_to_the_listed_echo_server(proxy: Proxy, echo: int) -> None:
    status, reader, writer = await proxy.ask(f"CONNECT 127.0.0.1:{echo} HTTP/1.1\r\n\r\n".encode())
    assert status == b"HTTP/1.1 200 Connection Established\r\n"
    assert await reader.readline() == b"\r\n"
    writer.write(b"hello through the tunnel\n")
    assert await asyncio.wait_for(reader.readline(), 5) == b"hello through the tunnel\n"
    writer.close()
    assert proxy.refusals == []


async def test_a_name_goes_to_the_address_resolved_once(proxy: Proxy, echo: int) -> None:
    """``echo.internal`` resolves to loopback, which is listed with that port: allowed."""
    status, reader, writer = await proxy.ask(
        f"CONNECT echo.internal:{echo} HTTP/1.1\r\n\r\n".encode()
    )
    assert status.startswith(b"HTTP/1.1 200 ")
    await reader.readline()
    writer.write(b"ping\n")
    assert await asyncio.wait_for(reader.readline(), 5) == b"ping\n"
    writer.close()


async def test_plain_get_reaches_localmodel_with_its_own_host(
    proxy: Proxy, model: LocalModel
) -> None:
    authority = model.url.removeprefix("http://")
    head = (f"GET http://{authority}/_localmodel/ HTTP/1.1\r\nHost: evil.example\r\n"
            "Proxy-Authorization: Basic c2VjcmV0\r\nUser-Agent: t\r\n\r\n")  # fmt: skip
    status, reader, writer = await proxy.ask(head.encode())
    rest = await reader.read()
    writer.close()
    assert status.startswith(b"HTTP/1.1 200 "), rest
    assert b'"url"' in rest


async def test_headers_with_bare_line_ends_are_refused(proxy: Proxy, echo: int) -> None:
    head = f"GET http://127.0.0.1:{echo}/ HTTP/1.1\r\nX: a\nHost: evil\r\n\r\n".encode()
    status, _, writer = await proxy.ask(head)
    writer.close()
    assert status.startswith(b"HTTP/1.1 403 ")


@pytest.mark.parametrize(
    "entry", ["github.com.", "http://github.com", "10.0.0.5:0", "0x7f.1", "2130706433", "a b",
              "[::1", "host:99999", "exa\0mple.com", ""],
)  # fmt: skip
def test_an_odd_allow_list_entry_is_an_error(entry: str) -> None:
    from automation.launch.gateway import AllowListError

    with pytest.raises(AllowListError):
        AllowList([entry])


async def test_localhost_by_the_systems_resolver_is_refused(sockets: Path, echo: int) -> None:
    """The system's resolver (``/etc/hosts``): ``localhost`` is loopback, never opened by
    its name."""
    refusals: list[Refusal] = []
    route = EgressRoute(AGENT, sockets / "sys.sock", AllowList([f"localhost:{echo}"]))
    proxy = EgressProxy([route], refusals.append)
    await proxy.start()
    try:
        reader, writer = await asyncio.open_unix_connection(str(route.socket))
        writer.write(f"CONNECT localhost:{echo} HTTP/1.1\r\n\r\n".encode())
        status = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
    finally:
        await proxy.close()
    assert status.startswith(b"HTTP/1.1 403 ")
    assert [(r.host, r.port) for r in refusals] == [("localhost", echo)]
    assert "not public" in refusals[0].reason
    assert not route.socket.exists()


async def test_a_plain_request_reaches_the_host_as_its_own(proxy: Proxy, echo: int) -> None:
    """The echo server sends back the head it got: the path only, ``Host`` the allowed
    host, no proxy credentials, ``Connection: close``."""
    head = (f"GET http://127.0.0.1:{echo}/path?q=1 HTTP/1.1\r\nHost: evil.example\r\n"
            "Proxy-Authorization: Basic c2VjcmV0\r\nProxy-Connection: keep-alive\r\n"
            "User-Agent: t\r\n\r\n")  # fmt: skip
    status, reader, writer = await proxy.ask(head.encode())
    lines = [status] + [await asyncio.wait_for(reader.readline(), 5) for _ in range(4)]
    writer.close()
    assert lines == [b"GET /path?q=1 HTTP/1.1\r\n", b"User-Agent: t\r\n",
                     f"Host: 127.0.0.1:{echo}\r\n".encode(), b"Connection: close\r\n",
                     b"\r\n"]  # fmt: skip
