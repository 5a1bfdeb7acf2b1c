"""A prompt a protocol agent's host refused while a turn ran (a deferred delivery) goes as
soon as the host journals the turn's end: the protocol watch makes it due then, not a
deferral's delay later (issue 50 item 8: assignment to turn start). On SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from automation.protocol.watch import GATHER_S, ProtocolWatch
from core.agents._judge import Freshness
from core.delivery import _message_queries as message_queries
from core.delivery._messages import DEFER_DELAY_S
from core.hosts import client
from core.hosts.entries import read
from core.hosts.replies import Done
from core.models import Receipt
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.agents.protocol_journal import AGENT, arrived, started
from tests.helpers import query

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]
TURN = {"type": "turn", "delivery": 1, "chars": 4, "text": "work"}
CHUNK = {"type": "update", "kind": "agent_message_chunk", "text": "reported"}
END = {"type": "turn_end", "delivery": 1, "stop_reason": "end_turn"}


async def deferred(service: SwarmService, clock: ManualClock) -> int:
    """The agent's task prompt, refused by its host as busy a moment ago: its id."""
    _, delivery = await started(service)

    def put_off(conn: Any, ctx: Any) -> None:
        message_queries.requeue(conn, delivery, "a turn is running", counted=False,
                                not_before=ctx.now + DEFER_DELAY_S, now=ctx.now)  # fmt: skip

    await service.store.write("test", put_off)
    return delivery


def due_at(service: SwarmService, delivery: int) -> tuple[str, float, int]:
    ((state, not_before, put_off),) = query(
        service.settings,
        "SELECT state, not_before, deferred FROM deliveries WHERE id = $1",
        (delivery,),
    )
    return str(state), float(not_before), int(put_off)


async def journaled(service: SwarmService, entries: list[dict[str, Any]]) -> None:
    """The entries as the watch writes what a host streamed."""
    watch = ProtocolWatch(service, Freshness())
    watch.pending[AGENT] = arrived(entries)
    assert await watch.fire() == len(entries)


async def test_a_deferred_prompt_is_due_when_the_turn_ends(
    service: SwarmService, clock: ManualClock
) -> None:
    delivery = await deferred(service, clock)
    await journaled(service, [TURN, CHUNK, END])
    state, not_before, put_off = due_at(service, delivery)
    assert (state, put_off) == ("queued", 1) and not_before <= clock.now()


async def test_while_the_turn_runs_the_deferred_prompt_keeps_its_delay(
    service: SwarmService, clock: ManualClock
) -> None:
    delivery = await deferred(service, clock)
    await journaled(service, [TURN, CHUNK])
    assert due_at(service, delivery) == ("queued", clock.now() + DEFER_DELAY_S, 1)


async def refused_with_the_end_taken_in(
    service: SwarmService, clock: ManualClock, end_first: bool
) -> int:
    """The agent's task prompt claimed and refused by its host as busy, the refusal stored
    after the turn's end was taken in (``end_first``: that end came before the claim)."""
    await started(service)
    if end_first:
        await journaled(service, [TURN, CHUNK, END])
        clock.advance(0.5)
    claimed = await service.queue.claim_prompt()
    assert claimed is not None
    delivery, _ = claimed
    clock.advance(0.2)
    if not end_first:  # the turn that refused it ends, taken in before the refusal is stored
        await journaled(service, [TURN, CHUNK, END])
    refused = Receipt.failed("a turn is running", "protocol", deferred=True)
    assert await service.queue.record_receipt(delivery, refused) == "queued"
    return delivery.id


async def test_a_refusal_stored_after_the_turns_end_was_taken_in_is_due_at_once(
    service: SwarmService, clock: ManualClock
) -> None:
    """The turn ended and its end was taken in between the claim and the refusal's store:
    no turn end is left to hasten it, so the refusal is due at once, not a delay later."""
    delivery = await refused_with_the_end_taken_in(service, clock, end_first=False)
    assert due_at(service, delivery) == ("queued", clock.now(), 1)


async def test_a_refusal_after_an_end_older_than_the_claim_keeps_its_delay(
    service: SwarmService, clock: ManualClock
) -> None:
    """An end taken in before the claim is not the turn that refused it (another began)."""
    delivery = await refused_with_the_end_taken_in(service, clock, end_first=True)
    assert due_at(service, delivery) == ("queued", clock.now() + DEFER_DELAY_S, 1)


async def test_an_agent_whose_turn_ended_is_written_before_the_others(
    service: SwarmService, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries of several agents waiting at once: the agent whose entries end a turn (its
    next prompt waits for that) is written first, whatever order its host's came in."""
    watch = ProtocolWatch(service, Freshness())
    watch.pending["Agent-2"] = arrived([TURN, CHUNK])
    watch.pending[AGENT] = arrived([TURN, CHUNK, END])
    written: list[str] = []
    write = service.store.write

    async def noted(actor: str, fn: Any, *args: Any) -> Any:
        written.append(actor)
        return await write(actor, fn, *args)

    monkeypatch.setattr(service.store, "write", noted)
    assert await watch.fire() == 5
    assert written == [AGENT, "Agent-2"]


async def test_a_turns_end_that_comes_while_others_are_written_goes_next(
    service: SwarmService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two agents' stream updates waiting; the agent's turn end comes while the first of
    them is written: it is written next, not after the other (a round of writes takes a
    second or more on a busy machine, and the agent's next prompt waits for that end)."""
    watch = ProtocolWatch(service, Freshness())
    watch.pending["Agent-2"] = arrived([TURN, CHUNK])
    watch.pending["Agent-3"] = arrived([TURN, CHUNK])
    written: list[str] = []
    write = service.store.write

    async def noted(actor: str, fn: Any, *args: Any) -> Any:
        written.append(actor)
        if len(written) == 1:  # the end comes meanwhile
            watch.pending[AGENT] = arrived([TURN, CHUNK, END])
        return await write(actor, fn, *args)

    monkeypatch.setattr(service.store, "write", noted)
    assert await watch.fire() == 7
    assert written == ["Agent-2", AGENT, "Agent-3"]


async def test_the_host_is_told_how_far_swarm_has_its_journal_without_waiting_for_it(
    service: SwarmService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host slow to answer (its process waiting for a core) holds up no write: the
    acknowledgement goes on the side, one at a time, the latest number last."""
    answer = asyncio.Event()
    acked: list[int] = []

    async def slow_host(_home: Any, agent: str, seq: int, wait_s: float = 0.0) -> Done:
        assert agent == AGENT
        acked.append(seq)
        await answer.wait()
        return Done()

    monkeypatch.setattr(client, "ack", slow_host)
    watch = ProtocolWatch(service, Freshness())
    watch.hosts[AGENT] = 4242
    watch.pending[AGENT] = arrived([TURN, CHUNK])
    assert await asyncio.wait_for(watch.fire(), 10) == 2
    watch.pending[AGENT] = arrived([TURN, CHUNK, END])[2:]
    assert await asyncio.wait_for(watch.fire(), 10) == 1  # the first answer still awaited
    assert acked == [2]
    answer.set()
    for _ in range(100):
        if acked == [2, 3]:
            break
        await asyncio.sleep(0.01)
    assert acked == [2, 3]
    await watch.stop()


async def test_a_streams_updates_wake_the_writer_once_a_turns_end_at_once(
    service: SwarmService,
) -> None:
    """What a host streams wakes the journal's writer: 50 updates within a moment once (so
    they are written in one transaction, not 50), a turn's end at once."""
    wakes: list[str] = []
    watch = ProtocolWatch(service, Freshness(), wake=lambda: wakes.append("wake"))
    for _ in range(50):
        watch.heard(read(CHUNK))
    assert wakes == []
    await asyncio.sleep(GATHER_S * 3)
    assert wakes == ["wake"]
    watch.heard(read(END))
    assert wakes == ["wake", "wake"]
