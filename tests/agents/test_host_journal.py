"""A host's journal in memory: a stream reads the entries after the last it sent, and the
entries swarm acknowledged are dropped beyond the newest ``KEEP``; a slice of the numbered
entries, not a scan of every one kept (a host lives for days: thousands of entries)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from automation.protocol import journal as journal_module
from automation.protocol.journal import Journal, Written
from core.hosts.entries import Turn, TurnEnd, Update


@pytest.fixture
async def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Journal]:
    monkeypatch.setattr(journal_module, "KEEP", 5)
    kept = Journal(tmp_path / "journal.jsonl")
    yield kept
    await kept.close()


def seqs(entries: list[Written]) -> list[int]:
    return [e.seq for e in entries]


async def test_a_stream_reads_the_entries_after_the_last_it_sent(journal: Journal) -> None:
    assert journal.after(0) == []
    for n in range(3):
        journal.add(Update(kind="agent_message_chunk", session="s-1", words={"text": str(n)}))
    assert seqs(journal.after(0)) == [1, 2, 3]
    assert seqs(journal.after(2)) == [3]
    assert journal.after(3) == [] and journal.after(9) == []


async def test_acknowledged_entries_beyond_the_newest_kept_are_dropped(journal: Journal) -> None:
    for n in range(8):
        journal.add(Update(kind="agent_message_chunk", session="s-1", words={"text": str(n)}))
    assert seqs(journal.after(0)) == list(range(1, 9))  # none acknowledged: all held
    journal.ack(6)
    assert seqs(journal.entries) == [4, 5, 6, 7, 8]  # the newest 5
    assert seqs(journal.after(0)) == [4, 5, 6, 7, 8]
    assert seqs(journal.after(5)) == [6, 7, 8]
    journal.add(TurnEnd(delivery=1, stop_reason="end_turn"))
    assert seqs(journal.entries) == [5, 6, 7, 8, 9]
    journal.ack(9)
    journal.add(Turn(delivery=2, text="next"))
    assert seqs(journal.after(8)) == [9, 10]
    assert (journal.path.read_text().count("\n")) == 10  # the file keeps every entry
