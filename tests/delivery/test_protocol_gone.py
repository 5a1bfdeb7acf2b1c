"""A protocol agent whose host is gone (issue 53, item 7): the receipt says so, as a tmux pane
that is gone does, so the agent is offline, its task goes back without a try used and a
message waits for it; a host that is there but slow to answer is not gone."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from automation.protocol.delivery import ProtocolDeliverer
from core.hosts import client, wire
from core.models import Agent
from core.protocols import Parcel

AGENT = Agent(id="Agent-1", role="dev", delivery="protocol", cli="gemini")


def parcel(text: str = "please rebase") -> Parcel:
    return Parcel(7, AGENT, text, "t")


async def test_no_socket_is_a_gone_host(tmp_path: Path) -> None:
    """Before: a plain failure, retried and failed for good (an item per message)."""
    wire.socket_path(tmp_path, "Agent-1").parent.mkdir(parents=True, exist_ok=True)
    receipt = await ProtocolDeliverer(tmp_path).deliver(parcel())
    assert (receipt.ok, receipt.gone, receipt.retryable) == (False, True, False), receipt
    assert "Agent-1's protocol host is not running (no " in (receipt.reason or "")


async def test_a_socket_nobody_listens_on_is_a_gone_host(tmp_path: Path) -> None:
    """A host killed with SIGKILL leaves its socket file: connecting is refused."""
    path = wire.socket_path(tmp_path, "Agent-1")
    path.parent.mkdir(parents=True, exist_ok=True)
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(str(path))
    left.close()  # the file stays, nothing listens
    receipt = await ProtocolDeliverer(tmp_path).deliver(parcel())
    assert (receipt.ok, receipt.gone) == (False, True), receipt
    assert "nothing listens on" in (receipt.reason or "")


async def test_a_host_slow_to_answer_is_not_gone(tmp_path: Path) -> None:
    path = wire.socket_path(tmp_path, "Agent-1")
    path.parent.mkdir(parents=True, exist_ok=True)
    taken, answered = asyncio.Event(), asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        taken.set()
        await answered.wait()  # it never answers in time
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_unix_server(silent, str(path))
    try:
        with pytest.raises(client.HostUnreachable) as caught:
            await client.prompt(tmp_path, "Agent-1", 1, "hi", wait_s=0.3)
        assert taken.is_set() and caught.value.gone is False
    finally:
        answered.set()
        server.close()
        await server.wait_closed()
