"""A request whose agent left (its CLI stopped the turn, its connection closed) is ended
upstream at once, not waited on: the model is not kept answering (and billing) for no one,
and the gateway's end (``desktop down``) does not wait for it. An answer under way when the
gateway ends is ended too, its usage so far recorded (before: ``desktop down`` took its 10 s
and killed the gateway, its record lost).

The upstream here is a bare socket server, so that what the gateway does with its end of
the connection is seen: closed, or left open."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from localmodel import LocalModel

from automation.launch.gateway import Vendor
from tests.gateway.rig import Rig
from tests.gateway.wire import request

ANTHROPIC_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
)
STARTED = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message",'
    b'"role":"assistant","model":"claude-test","content":[],"usage":{"input_tokens":41,'
    b'"output_tokens":1}}}\n\n'
)


class Silent:
    """An upstream that reads a request and answers ``head`` (nothing: a model still
    thinking), then holds the connection; ``closed`` is set once the gateway closes it."""

    def __init__(self, head: bytes = b"") -> None:
        self.head = head
        self.asked = asyncio.Event()
        self.closed = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.asked.set()
        if self.head:
            writer.write(self.head + _chunk(STARTED))
            await writer.drain()
        with contextlib.suppress(ConnectionError):
            while await reader.read(4096):
                pass
        self.closed.set()
        writer.close()


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


@contextlib.asynccontextmanager
async def upstream(silent: Silent) -> AsyncIterator[str]:
    server = await asyncio.start_server(silent.serve, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.close()


@pytest.mark.timeout(60)
async def test_a_request_whose_agent_left_is_ended_upstream(
    model: LocalModel, sockets: Path
) -> None:
    """Before: the gateway waited on the model's answer (up to its 600 s read limit) after the
    agent had gone."""
    silent = Silent()
    async with upstream(silent) as url, Rig(model, sockets, upstream=url) as rig:
        path, body, headers = request("messages", "think it over", stream=True)
        asking = asyncio.ensure_future(
            rig.client(Vendor.ANTHROPIC).post(path, json=body, headers=headers)
        )
        await asyncio.wait_for(silent.asked.wait(), 20)
        asking.cancel()  # the CLI stops the turn: its connection closes
        with contextlib.suppress(asyncio.CancelledError):
            await asking
        await asyncio.wait_for(silent.closed.wait(), 20)


@pytest.mark.timeout(60)
async def test_an_answer_under_way_is_ended_with_the_gateway_and_its_usage_kept(
    model: LocalModel, sockets: Path
) -> None:
    """Before: the gateway's end waited for the answer (aiohttp's 60 s), so ``desktop down``
    killed it after its 10 s and the record was never written."""
    silent = Silent(ANTHROPIC_HEAD)
    async with upstream(silent) as url:
        rig = Rig(model, sockets, upstream=url)
        await rig.gateway.start()
        path, body, headers = request("messages", "stream forever", stream=True)
        client = rig.client(Vendor.ANTHROPIC)
        try:
            async with client.post(path, json=body, headers=headers) as answer:
                assert answer.status == 200
                await answer.content.readuntil(b"\n\n")  # the stream's start came through
                await asyncio.wait_for(rig.gateway.close(), 20)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            await client.close()
        await asyncio.wait_for(silent.closed.wait(), 20)
    (record,) = rig.records
    assert (record.complete, record.usage.input if record.usage else None) == (False, 41), record
