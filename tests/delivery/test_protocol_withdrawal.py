"""A protocol withdrawal carries its notice only once the turn is seen ended (issue 79,
item 2): a host that refuses the cancel, or a turn still running when the deliverer stops
waiting, gets the notice sent as before (taken, or refused as busy and retried), never a
"stopped, notice carried" receipt while the agent may go on with the cancelled work.

A host of the test's own on the agent's socket answers each request as told, in the wire's
own replies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from automation.protocol import delivery
from automation.protocol.delivery import ProtocolDeliverer
from core.hosts import wire
from core.models import Agent
from core.protocols import Parcel

AGENT = Agent(id="Agent-1", role="dev", delivery="protocol", cli="gemini")
NOTICE = "[swarm] WITHDRAWN T-3 is no longer yours"
Answers = dict[str, Callable[[], dict[str, Any]]]


class FakeHost:
    """Answers each op by ``answers`` (a missing op: refused), recording what was asked."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers
        self.asked: list[dict[str, Any]] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        said = json.loads(await reader.readline())
        self.asked.append(said)
        reply = self.answers.get(said["op"], lambda: {"ok": False, "reason": "not here"})()
        writer.write(wire.encode(reply))
        await writer.drain()
        writer.close()

    def ops(self) -> list[str]:
        return [said["op"] for said in self.asked]


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[Callable[[Answers], Awaitable[FakeHost]]]:
    """``host(answers)``: a fake host listening on Agent-1's socket in ``tmp_path``."""
    servers: list[asyncio.AbstractServer] = []

    async def start(answers: Answers) -> FakeHost:
        fake = FakeHost(answers)
        path = wire.socket_path(tmp_path, AGENT.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        servers.append(await asyncio.start_unix_server(fake.serve, str(path)))
        return fake

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def withdrawal() -> Parcel:
    return Parcel(9, AGENT, NOTICE, "swarm", task_id=3, withdraw=True)


async def test_a_turn_seen_ended_carries_the_notice(host: Any, tmp_path: Path) -> None:
    """The cancel answered, the turn ended at once: the stop alone, nothing sent."""
    fake = await host(
        {"cancel": lambda: {"ok": True, "running": True},
         "hello": lambda: {"ok": True, "agent": AGENT.id, "busy": False}}
    )  # fmt: skip
    receipt = await ProtocolDeliverer(tmp_path).deliver(withdrawal())
    assert receipt.ok and receipt.carried, receipt
    assert fake.ops() == ["cancel", "hello"]


async def test_a_refused_cancel_sends_the_notice(host: Any, tmp_path: Path) -> None:
    """Before the mend: "stopped, notice carried" though the host refused the cancel."""
    fake = await host({"cancel": lambda: {"ok": False, "reason": "no session"},
                       "prompt": lambda: {"ok": True, "updates": 1}})  # fmt: skip
    receipt = await ProtocolDeliverer(tmp_path).deliver(withdrawal())
    assert receipt.ok and not receipt.carried, receipt
    assert fake.ops() == ["cancel", "prompt"]
    assert fake.asked[-1]["text"] == NOTICE


async def test_a_turn_still_running_gets_the_notice_refused_as_busy(
    host: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancel answered but the turn runs on past the deliverer's wait: the notice is
    sent, refused as busy, and deferred (retried once the turn ends), never carried."""
    monkeypatch.setattr(delivery, "STOP_WAIT_S", 0.3)
    fake = await host({"cancel": lambda: {"ok": True, "running": True},
                       "hello": lambda: {"ok": True, "agent": AGENT.id, "busy": True},
                       "prompt": lambda: {"ok": False, "reason": "a turn runs",
                                          "busy": True}})  # fmt: skip
    receipt = await ProtocolDeliverer(tmp_path).deliver(withdrawal())
    assert not receipt.ok and not receipt.carried and receipt.deferred, receipt
    assert fake.ops()[0] == "cancel" and fake.ops()[-1] == "prompt"
    assert set(fake.ops()[1:-1]) == {"hello"}
