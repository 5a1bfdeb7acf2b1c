"""A node with a delivery its agent's turn holds (``message_queries.not_mid_turn``) waits:
it looked again at once, over and over (141 claims in 2 s, two statements each, in a probe
of the code before), where now it looks every ``HELD_LOOK_S``; a protocol turn's end, taken
in by the node's own protocol watch, wakes it at once, and so does the host's word that the
turn ended as it reaches the node, before it is written (the host takes the prompt now)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from automation.protocol.watch import ProtocolWatch
from core.agents._judge import Freshness
from core.coordinator import node as node_module
from core.coordinator.node import DeliveryNode
from core.hosts.entries import read
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.delivery.test_protocol_hold import journal
from tests.delivery.test_turn_hold import hook
from tests.pg.test_node_pipeline import HeldDeliverer, _until

pytestmark = [
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
    pytest.mark.timeout(60),
]


class Counted:
    """A running node on desk-1 (A-1, A-2) and how many claims it made."""

    def __init__(self, service: SwarmService) -> None:
        self.desk = HeldDeliverer()
        self.desk.release.set()
        self.watch = ProtocolWatch(service, Freshness(), node="desk-1")  # reads no host here
        self.node = DeliveryNode(service, self.desk, "desk-1", lease_s=30, protocol=self.watch)
        self.claims = 0
        claim = self.node.claim

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.claims += 1
            return await claim(*args, **kwargs)

        self.node.claim = counted  # type: ignore[method-assign]


@pytest.fixture
async def running(node_settings: Settings) -> AsyncIterator[tuple[SwarmService, Counted]]:
    coordinator = await SwarmService.open(node_settings)
    service = await SwarmService.open(node_settings, readers=0)
    counted = Counted(service)
    stop = asyncio.Event()
    task = asyncio.create_task(counted.node.run(stop))
    try:
        yield coordinator, counted
    finally:
        stop.set()
        await task
        await service.close()
        await coordinator.close()


async def test_a_held_delivery_is_looked_at_every_held_look_and_goes_at_the_hooks_stop(
    running: tuple[SwarmService, Counted], monkeypatch: pytest.MonkeyPatch
) -> None:
    coordinator, counted = running
    monkeypatch.setattr(node_module, "HELD_LOOK_S", 0.25)
    await hook(coordinator, "A-2", "UserPromptSubmit", prompt="the person's own")
    await asyncio.sleep(0.3)  # the node's first claims, of nothing
    before = counted.claims
    await coordinator.messages.send("A-2", "held", "test")
    await asyncio.sleep(1.0)
    assert counted.desk.started == []
    assert counted.claims - before <= 8  # a look each 0.25 s (and the notification's)
    await hook(coordinator, "A-2", "Stop", stop_hook_active=False)
    await _until(lambda: bool(counted.desk.texts("A-2", "held")), "the Stop let it go")


async def test_a_protocol_turns_end_wakes_the_node_for_what_the_turn_held(
    running: tuple[SwarmService, Counted], monkeypatch: pytest.MonkeyPatch
) -> None:
    coordinator, counted = running
    monkeypatch.setattr(node_module, "HELD_LOOK_S", 60.0)  # only the wake-up can send it
    monkeypatch.setattr(node_module, "SAFETY_S", 60.0)
    await journal(coordinator, "A-1", {"type": "turn", "delivery": 0, "chars": 1, "text": "x"})
    await asyncio.sleep(0.3)
    await coordinator.messages.send("A-1", "after the turn", "test")
    await asyncio.sleep(1.0)
    assert counted.desk.started == []
    await journal(coordinator, "A-1", {"type": "turn_end", "delivery": 0,
                                           "stop_reason": "end_turn"})  # fmt: skip
    await _until(lambda: bool(counted.desk.texts("A-1", "after the turn")), "no wake-up")


async def test_a_turns_end_heard_from_the_host_lets_the_prompt_go_before_it_is_written(
    running: tuple[SwarmService, Counted], monkeypatch: pytest.MonkeyPatch
) -> None:
    coordinator, counted = running
    monkeypatch.setattr(node_module, "HELD_LOOK_S", 60.0)
    monkeypatch.setattr(node_module, "SAFETY_S", 60.0)
    await journal(coordinator, "A-2", {"type": "turn", "delivery": 0, "chars": 1, "text": "x"})
    await coordinator.messages.send("A-2", "next one", "test")
    await asyncio.sleep(1.0)
    assert counted.desk.started == []
    counted.watch.heard(read({"seq": 2, "type": "turn", "delivery": 0}), "A-2")  # still its turn
    await asyncio.sleep(0.5)
    assert counted.desk.started == []
    end = {"seq": 3, "at": coordinator.clock.now(), "type": "turn_end", "delivery": 0,
           "stop_reason": "end_turn"}  # fmt: skip
    counted.watch.heard(read(end), "A-2")  # as its stream reader hears it; nothing written
    await _until(lambda: bool(counted.desk.texts("A-2", "next one")), "it waited for the write")
