"""A changed allow-list does not cut a stream: ``desktop up`` (``_network._start``) rewrites a
running gateway's spec file, which the process reads again at its next connection, instead
of restarting it; the new host is allowed right after, and a stream begun before reads to its
end. What cannot change live (the upstream) restarts it. A dead gateway is started again on
the spec it ran on (``revive``), the same sockets."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from localmodel import LocalModel, Step

from automation.launch import gateway
from automation.launch.sandbox import _network as network
from core.clis import by_name
from core.sandbox import door_folder
from tests.gateway.wire import request

AGENT = "alice"
KEY_ENV = "ANTHROPIC_API_KEY"
PIECES, DELAY = 8, 0.25  # a stream of 2 s


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


@pytest.fixture
async def home(sockets: Path) -> AsyncIterator[Path]:
    """A swarm home short enough for the sockets beside the door; its gateway ended after."""
    yield sockets
    await asyncio.to_thread(network.stop, sockets, AGENT)


def _spec(home: Path, upstream: str, allow: list[str]) -> dict[str, object]:
    cli = by_name("claude-code")
    assert cli is not None and cli.model_wire is not None
    env = {"ANTHROPIC_BASE_URL": upstream, KEY_ENV: "sk-ant-key"}
    return network._spec(home, AGENT, cli.model_wire, env, KEY_ENV, allow)


async def _start(home: Path, spec: dict[str, object]) -> str:
    env = {"PATH": os.environ.get("PATH", ""), KEY_ENV: "sk-ant-key"}
    return await asyncio.to_thread(network._start, home, AGENT, spec, env, KEY_ENV)


def _pid(home: Path) -> int | None:
    return gateway.gateway_pid(network.folder_of(home, AGENT) / network.PID_FILE)


async def _connect(home: Path, port: int) -> bytes:
    """The status line of a CONNECT to the echo server through the agent's proxy."""
    egress = door_folder(home, AGENT) / network.EGRESS_SOCKET
    reader, writer = await asyncio.open_unix_connection(str(egress))
    writer.write(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n".encode())
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    return status


async def _stream(home: Path) -> bytes:
    """A slow streamed answer through the agent's model socket, read to its end."""
    connector = aiohttp.UnixConnector(path=str(door_folder(home, AGENT) / network.MODEL_SOCKET))
    path, body, headers = request("messages", "slowly", stream=True)
    async with (
        aiohttp.ClientSession(connector=connector, base_url="http://gateway") as session,
        session.post(path, json=body, headers=headers) as answer,
    ):
        assert answer.status == 200
        return await answer.read()


async def test_an_allow_list_change_keeps_the_stream(
    model: LocalModel, home: Path, echo: int
) -> None:
    assert await _start(home, _spec(home, model.url, [])) == "started"
    first = _pid(home)
    assert first is not None
    assert b" 403 " in await _connect(home, echo)
    model.queue(Step(text="abcd" * PIECES, chunk_chars=4, chunk_delay=DELAY))
    streaming = asyncio.create_task(_stream(home))
    await asyncio.sleep(2 * DELAY)  # the stream under way
    assert await _start(home, _spec(home, model.url, [f"127.0.0.1:{echo}"])) == "reloaded"
    assert b" 200 " in await _connect(home, echo), "allowed right after"
    assert not streaming.done()
    got = await asyncio.wait_for(streaming, 30)
    assert got.count(b"abcd") >= PIECES and b"message_stop" in got, got[-300:]
    assert _pid(home) == first
    spec = json.loads((network.folder_of(home, AGENT) / network.SPEC_FILE).read_text())
    assert spec["agents"][0]["egress"]["allow"] == [f"127.0.0.1:{echo}"]
    # the same spec: kept; another upstream cannot change live: restarted
    allowed = [f"127.0.0.1:{echo}"]
    assert await _start(home, _spec(home, model.url, allowed)) == "kept"
    assert await _start(home, _spec(home, model.url + "/", allowed)) == "kept"  # the same URL
    assert await _start(home, _spec(home, model.url + "/v2", [])) == "restarted"
    assert _pid(home) not in (None, first)


async def test_a_spec_changed_beyond_its_allow_list_is_not_taken_live(
    model: LocalModel, home: Path, echo: int
) -> None:
    """Written by hand (no restart): the process keeps the lists it runs on."""
    await _start(home, _spec(home, model.url, []))
    spec = _spec(home, model.url + "/v2", [f"127.0.0.1:{echo}"])
    network._replace(network.folder_of(home, AGENT) / network.SPEC_FILE, json.dumps(spec))
    assert b" 403 " in await _connect(home, echo)
    log = (network.folder_of(home, AGENT) / "gateway.log").read_text()
    assert "changed beyond its allow-lists" in log


async def test_a_dead_gateway_is_started_again_on_its_spec(model: LocalModel, home: Path) -> None:
    await _start(home, _spec(home, model.url, []))
    dead = _pid(home)
    assert dead is not None
    os.kill(dead, 9)
    for _ in range(200):
        if _pid(home) is None:
            break
        await asyncio.sleep(0.05)
    env = {"PATH": os.environ.get("PATH", "")}
    said = await asyncio.to_thread(network.revive, home, AGENT, env)
    assert said == f"its model gateway is not running: {KEY_ENV} is not set here to give it"
    assert _pid(home) is None
    said = await asyncio.to_thread(network.revive, home, AGENT, {**env, KEY_ENV: "sk-ant-key"})
    assert said == "its model gateway was not running: started again"
    assert _pid(home) not in (None, dead)
    model.queue(Step(text="back"))
    assert b"back" in await _stream(home)
    assert await asyncio.to_thread(network.revive, home, AGENT, env) is None  # it runs
    assert model.requests[-1].sent_secret("x-api-key", "sk-ant-key")
