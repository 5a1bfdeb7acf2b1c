"""``swarm attach``'s live order over a real journal: Claude Code 2.1.328's under swarm's host
(saved from tests/agents/test_protocol_live.py's allowed permission request), where the
pending tool call comes before the permission request that gates it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from automation.protocol import attach
from core.hosts import entries as journal_entries
from core.hosts import wire
from core.hosts.entries import Entry, Update

JOURNAL = Path(__file__).with_name("claude-code-2.1.328-permission-journal.jsonl")
ASKS = "?? asks: touch allowed.txt"
CALL = "   [Bash: touch allowed.txt: pending]"


def entries() -> list[Entry]:
    """The saved journal, each entry read as swarm reads it."""
    lines = JOURNAL.read_bytes().splitlines()
    return [journal_entries.read(wire.decode(line)) for line in lines]


async def stream(given: list[Entry], hold: asyncio.Event) -> AsyncIterator[Entry]:
    """``given`` as the host streams them, then open until ``hold`` is set."""
    for entry in given:
        yield entry
    await hold.wait()


async def shown(given: list[Entry]) -> list[str]:
    """The lines attach prints for ``given``, the stream ended after them."""
    done = asyncio.Event()
    done.set()
    found = [attach.line_of(e) async for e in attach.ordered(stream(given, done))]
    return [line.strip("\n") for line in found if line is not None]


@pytest.mark.timeout(30)
async def test_the_permission_request_is_printed_before_the_pending_call_it_gates() -> None:
    journal = entries()
    kinds = [e.body.kind if isinstance(e.body, Update) else e.type for e in journal]
    assert kinds.index("tool_call") < kinds.index(wire.PERMISSION)  # the journal's: call first
    lines = await shown(journal)
    asks = next(i for i, line in enumerate(lines) if line.startswith(ASKS))
    assert lines[asks + 1] == CALL, lines  # the request, then the call it gates
    unordered = [attach.line_of(e) for e in journal]
    expected = sorted(line.strip("\n") for line in unordered if line is not None)
    assert sorted(lines) == expected  # nothing lost, nothing twice


@pytest.mark.timeout(30)
async def test_a_pending_call_no_request_names_shows_within_the_hold() -> None:
    journal = entries()
    upto = [e.type for e in journal].index(wire.PERMISSION)  # the stream stops before it
    hold, got = asyncio.Event(), asyncio.Queue[tuple[float, str | None]]()
    start = time.monotonic()

    async def read() -> None:
        async for entry in attach.ordered(stream(journal[:upto], hold)):
            await got.put((time.monotonic() - start, attach.line_of(entry)))

    reader = asyncio.create_task(read())
    try:
        while True:
            after, line = await asyncio.wait_for(got.get(), attach.HOLD_S + 2)
            if line is not None and line.strip("\n") == CALL:
                break
        assert attach.HOLD_S - 0.1 <= after < attach.HOLD_S + 1, after
    finally:
        hold.set()
        await reader


@pytest.mark.timeout(30)
async def test_held_lines_go_out_at_the_streams_end_and_before_the_next_shown_entry() -> None:
    journal = entries()
    upto = [e.type for e in journal].index(wire.PERMISSION)
    assert (await shown(journal[:upto]))[-1] == CALL  # the stream ended: given, not lost
    turn_end = next(e for e in journal if e.type == wire.TURN_END)
    lines = await shown([*journal[:upto], turn_end])
    assert lines[-2:] == [CALL, "-- turn ended (end_turn)"]
