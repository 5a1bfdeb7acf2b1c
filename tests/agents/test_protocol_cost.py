"""A Claude Code turn's cost on the protocol route: its ``total_cost_usd`` is the session's
running total (measured with 2.1.328: 0.0176, 0.0352, then 0.0528 for a third turn after
``--resume``), so a turn costs what it adds to the last turn's total, kept over a host's
restart by the journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.protocol.host import Host, Journal
from core.clis.claude_code.stream_json import StreamJsonDriver
from core.hosts.entries import Session, TurnEnd
from core.hosts.turns import TOTAL_COST, Launched


def _host(tmp_path: Path) -> Host:
    return Host("A", Journal(tmp_path / "A.jsonl"))


async def test_a_turn_costs_what_it_adds_to_the_sessions_total(tmp_path: Path) -> None:
    host = _host(tmp_path)
    driver = StreamJsonDriver(Launched(host, ["claude"], str(tmp_path), [], {}))
    costs = [driver._cost({"total_cost_usd": total}) for total in (0.0176, 0.0352, 0.0528)]
    await host.journal.close()
    assert [round(c or 0, 6) for c, _ in costs] == [0.0176, 0.0176, 0.0176]
    assert costs[-1][1] == {TOTAL_COST: 0.0528}
    assert driver._cost({"result": "no cost said"}) == (None, {})


async def test_a_resumed_session_counts_from_its_last_turns_total(tmp_path: Path) -> None:
    host = _host(tmp_path)
    journal = host.journal
    journal.add(Session(session="one"))
    journal.add(TurnEnd(delivery=1, stop_reason="end_turn", meta={TOTAL_COST: 0.05}))
    journal.add(Session(session="two"))
    journal.add(TurnEnd(delivery=2, stop_reason="end_turn", meta={TOTAL_COST: 0.01}))
    journal.add(Session(session="one", loaded=True))
    journal.add(TurnEnd(delivery=3, stop_reason="end_turn", meta="not a dict"))
    await journal.close()
    again = _host(tmp_path)  # a host started again on the same journal
    assert again.session_spent("one") == pytest.approx(0.05)
    assert again.session_spent("two") == pytest.approx(0.01)
    assert again.session_spent("three") == 0.0
    await again.journal.close()
