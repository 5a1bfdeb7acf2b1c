"""A protocol agent's journal entries into the store: the protocol route's watch
(``automation.protocol.watch``) reads the hosts, this writes what they said, each batch one
transaction, and reads how far swarm has each journal."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from core import questions
from core.agents import Freshness, protocol_events
from core.agents import queries as agent_queries
from core.context import Ctx
from core.delivery import message_queries
from core.hosts import wire
from core.hosts.entries import Entry
from core.service.swarm import SwarmService
from core.store.calls import urgent
from core.store.conn import Conn

TURN_OVER = (wire.TURN_END, wire.TURN_ERROR)  # the agent takes a prompt again


async def take_in(
    service: SwarmService,
    agent: str,
    host: int,
    entries: Sequence[Entry],
    fresh: Freshness,
) -> int:
    """Write ``entries`` of ``agent``'s host ``host`` (0: read from its journal file),
    each read once where it came in (``core.hosts.entries.read``); the last one's number.
    Entries that end a turn go ahead of the node's other writes (``urgent``): the agent's
    next prompt waits on them."""
    ends = ends_turn(entries)
    with urgent() if ends else contextlib.nullcontext():
        return await service.store.write(agent, _take_in, agent, host, entries, fresh, ends)


def ends_turn(entries: Sequence[Entry]) -> bool:
    """Whether one of ``entries`` ends a turn (the agent takes a prompt again)."""
    return any(entry.type in TURN_OVER for entry in entries)


async def cursor(service: SwarmService, agent: str) -> tuple[int, int]:
    """The host and the entry of ``agent``'s journal swarm has taken in up to."""
    found: tuple[int, int] = await service.store.read(agent_queries.protocol_cursor, agent)
    return found


def _take_in(
    conn: Conn,
    ctx: Ctx,
    agent: str,
    host: int,
    entries: Sequence[Entry],
    fresh: Freshness,
    ends_turn: bool,
) -> int:
    """``protocol_events.record``; and when a turn ended, the agent's deferred deliveries
    (refused while it was busy) due now, not ``DEFER_DELAY_S`` after they were refused: the
    next task's prompt goes as soon as the last turn ends."""
    last = protocol_events.record(
        conn,
        ctx,
        agent,
        host,
        entries,
        fresh,
        message_queries.task_of_delivery,
        questions.REQUEST_QUESTIONS,
    )
    if ends_turn:
        message_queries.turn_over(conn, agent, ctx.now)
    return last
