"""The web port's limits against the real server (uvicorn on a real socket): request bodies,
idle connections, the connection cap, file descriptors kept for delivery, the Host check."""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from bot.web.server import WebServer
from bot.web.settings import WebSettings
from core.errors import ConfigError
from core.service.swarm import SwarmService
from tests.helpers import ROOT, cli_env, run_cli, write_agents
from tests.web.conftest import bearer, make_token
from tests.web.live import free_port


@contextlib.asynccontextmanager
async def serving(service: SwarmService, **env: str) -> AsyncIterator[WebServer]:
    """The real server on a free port with the settings ``env`` gives."""
    settings = WebSettings.from_env({"SWARM_WEB_PORT": str(free_port()), **env})
    server = WebServer(service, settings)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=15)


def _response(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _one_response(sock: socket.socket) -> bytes:
    """One response with a ``content-length`` (the connection stays open)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return data


def _closed_by_server(sock: socket.socket) -> bool:
    """True when the server closes the connection (not when our read times out)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_settings_of_the_limits_and_their_ranges() -> None:
    settings = WebSettings.from_env({})
    assert (settings.body_max, settings.max_connections, settings.idle_timeout) == (
        1_048_576,
        100,
        5.0,
    )
    custom = WebSettings.from_env(
        {
            "SWARM_WEB_BODY_MAX": "4096",
            "SWARM_WEB_MAX_CONNECTIONS": "7",
            "SWARM_WEB_IDLE_TIMEOUT": "2.5",
            "SWARM_WEB_HOSTS": "swarm.lan, Board.example",
        }
    )
    assert (custom.body_max, custom.max_connections, custom.idle_timeout) == (4096, 7, 2.5)
    assert custom.hosts == ("swarm.lan", "board.example")
    for name, value in (
        ("SWARM_WEB_BODY_MAX", "12"),
        ("SWARM_WEB_BODY_MAX", "1e9"),
        ("SWARM_WEB_MAX_CONNECTIONS", "0"),
        ("SWARM_WEB_IDLE_TIMEOUT", "nan"),
        ("SWARM_WEB_IDLE_TIMEOUT", "-1"),
        ("SWARM_WEB_HOSTS", "a b"),
    ):
        with pytest.raises(ConfigError, match=name):
            WebSettings.from_env({name: value})


async def test_a_body_too_big_by_its_length_is_refused_before_it_is_read(
    service: SwarmService,
) -> None:
    async with serving(service) as server:
        for path in ("/api/v1/tasks", "/login"):
            sock = await asyncio.to_thread(_connect, server.port)
            with sock:
                # 200 MB announced, none sent, no token: refused at once by the length alone
                sock.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Content-Type: application/json\r\n"
                    "Content-Length: 200000000\r\n\r\n".encode()
                )
                answer = await asyncio.to_thread(_response, sock)
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 413 "), answer[:200]
            assert json.loads(body)["error"].startswith("request body over 1048576 bytes")


async def test_a_streamed_body_is_cut_at_the_limit_before_the_token_check(
    service: SwarmService,
) -> None:
    async with serving(service, SWARM_WEB_BODY_MAX="1024") as server:
        sock = await asyncio.to_thread(_connect, server.port)
        with sock:  # no Content-Length: chunks, 2 KB in all, no token
            sock.sendall(
                b"POST /api/v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + b"400\r\n"
                + b"x" * 1024
                + b"\r\n"
                + b"400\r\n"
                + b"x" * 1024
                + b"\r\n0\r\n\r\n"
            )
            answer = await asyncio.to_thread(_response, sock)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413 "), answer[:200]
        assert "SWARM_WEB_BODY_MAX" in json.loads(body)["error"]
        # a body within the limit still works, and its token is still checked
        token = await make_token(service, "admin", "laptop")
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{server.port}", timeout=30
        ) as http:
            made = await http.post(
                "/api/v1/tasks", headers=bearer(token), json={"title": "fits", "details": "d" * 900}
            )
            assert made.status_code == 201, made.text
            assert (await http.post("/api/v1/tasks", json={"title": "no token"})).status_code == 401


async def test_a_body_that_does_not_arrive_in_time_is_refused(service: SwarmService) -> None:
    async with serving(service, SWARM_WEB_IDLE_TIMEOUT="0.5") as server:
        sock = await asyncio.to_thread(_connect, server.port)
        with sock:
            sock.sendall(
                b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\ntoken="
            )  # 94 bytes never come
            answer = await asyncio.to_thread(_response, sock)
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]


async def test_connections_without_a_whole_request_are_closed(service: SwarmService) -> None:
    async with serving(service, SWARM_WEB_IDLE_TIMEOUT="0.5") as server:
        bare = [await asyncio.to_thread(_connect, server.port) for _ in range(20)]
        slow = await asyncio.to_thread(_connect, server.port)
        slow.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never end
        kept = await asyncio.to_thread(_connect, server.port)  # one request, then silence
        kept.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        try:
            for sock in [*bare, slow]:
                assert await asyncio.to_thread(_closed_by_server, sock)
            first = await asyncio.to_thread(_one_response, kept)
            assert first.startswith(b"HTTP/1.1 200 ")
            kept.sendall(b"GET /log")  # the next request starts and stalls
            assert await asyncio.to_thread(_closed_by_server, kept)
        finally:
            for sock in [*bare, slow, kept]:
                sock.close()
        async with httpx.AsyncClient(timeout=10) as http:  # still serving
            assert (await http.get(f"http://127.0.0.1:{server.port}/login")).status_code == 200


async def test_only_the_configured_host_names_are_served(service: SwarmService) -> None:
    async with serving(service, SWARM_WEB_HOSTS="swarm.lan", SWARM_WEB_METRICS="local") as server:
        url = f"http://127.0.0.1:{server.port}/metrics"
        async with httpx.AsyncClient(timeout=10) as http:
            for host, status in (
                ("127.0.0.1", 200),
                (f"localhost:{server.port}", 200),
                ("[::1]", 200),
                ("swarm.lan", 200),
                (f"rebind.attacker.example:{server.port}", 421),
                ("10.1.2.3", 421),
            ):
                got = await http.get(url, headers={"Host": host})
                assert got.status_code == status, (host, got.text)
                if status == 421:
                    assert "is not served here" in got.json()["error"]
                    assert "swarm_tasks" not in got.text


def test_wildcard_binding_serves_addresses_but_not_names() -> None:
    wide = WebSettings(host="0.0.0.0")
    assert wide.serves_host("192.168.1.5") and wide.serves_host("localhost")
    assert not wide.serves_host("rebind.attacker.example")
    assert WebSettings(host="swarm.lan").serves_host("SWARM.LAN")


@pytest.fixture
def limited_coordinator(tmp_path: Path) -> Iterator[tuple[Path, int, Path, Path]]:
    """``swarm run`` (inbox agents, the dashboard on) under ``ulimit -n 256``."""
    home, port, log_file = tmp_path / "home", free_port(), tmp_path / "swarm.log"
    config = write_agents(
        tmp_path / "agents.toml", [{"id": "A1", "role": "dev", "delivery": "inbox"}]
    )
    env = cli_env(
        home,
        config,
        env={
            "SWARM_WEB_PORT": str(port),
            "SWARM_LOG_FILE": str(log_file),
            "SWARM_WEB_IDLE_TIMEOUT": "600",
        },
    )
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--no-discord"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=limit,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "swarm run did not serve"
            try:
                with _connect(port) as probe:
                    probe.sendall(
                        b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                    )
                    if _response(probe).startswith(b"HTTP/1.1 200 "):
                        break
            except OSError:
                time.sleep(0.2)
        yield home, port, log_file, config
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.timeout(120)
def test_many_bare_connections_leave_descriptors_for_delivery_and_the_log_readable(
    limited_coordinator: tuple[Path, int, Path, Path],
) -> None:
    home, port, log_file, config = limited_coordinator
    held = []
    try:
        for _ in range(300):  # all at once: a connect the full queue holds does not wait
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))  # in progress, made, or refused: held alike
            held.append(sock)
        time.sleep(2)  # the coordinator accepts what it will
        added = run_cli(
            home,
            "task",
            "add",
            "delivered while 300 connections are open",
            "--agent",
            "A1",
            config=config,
        )
        assert added.code == 0, added.err
        inbox = home / "inbox" / "A1"
        deadline = time.monotonic() + 30
        while (
            not any(p.is_file() and not p.name.startswith(".tmp-") for p in inbox.glob("*"))
            if inbox.is_dir()
            else True
        ):
            assert time.monotonic() < deadline, log_file.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        for sock in held:
            sock.close()
    text = log_file.read_text() if log_file.exists() else ""
    assert "inbox write failed" not in text
    assert text.count("out of system resource") < 10, text[-2000:]
    assert len(text) < 200_000
