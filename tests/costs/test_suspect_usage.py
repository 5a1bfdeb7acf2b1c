"""Issue 66, item 6: a turn whose usage is beyond sense (more than ``SUSPECT_TOKENS`` tokens,
or more than ``SUSPECT_COST`` dollars, said or priced) is held as suspect: recorded with its
cost unknown (``cost_from`` ``suspect``), never charged, and said to a person
(``usage.suspect``; before: 1e12 tokens booked $110M for one turn). Budget warnings come in
order: an 80 % is never posted after the 100 % of the same budget (real store, SQLite and
PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.event_kinds import EventKind
from core.models import TaskSpec
from core.service.swarm import SwarmService
from tests.costs.test_ledger import CLAUDE, Journal, events, rows, with_agents

pytestmark = pytest.mark.both_databases


async def test_a_turn_beyond_sense_is_recorded_of_unknown_cost_and_said(
    service: SwarmService, tmp_path: Path
) -> None:
    await with_agents(service, tmp_path)
    journal = Journal(service, "P2")
    huge = {"inputTokens": 10**12, "outputTokens": 5}
    await journal.turn(usage=huge, meta={"model": "local-model"})  # priced: $1M
    await journal.turn(usage={"inputTokens": 10}, cost_usd=5_000.0)  # said by the CLI
    await journal.turn(usage={"inputTokens": 1000, "outputTokens": 500},
                       meta={"model": "local-model"})  # fmt: skip
    found = await rows(service)
    assert [(r["input_tokens"], r["cost_usd"], r["cost_from"]) for r in found] == [
        (10**12, None, "suspect"), (10, None, "suspect"),
        (1000, pytest.approx(0.002), "price"),
    ]  # fmt: skip
    said = await events(service, EventKind.USAGE_SUSPECT)
    assert len(said) == 2 and any("said 1,000,000,000,005 tokens and $1,000,000" in s for s in said)
    assert all("recorded with its cost unknown, not charged" in s for s in said)
    spent = (await service.costs.spend())["agent"][0]
    assert spent.cost_text() == "$0.0020 + 2 turn(s) of unknown cost"


async def test_no_80_percent_warning_after_the_100(service: SwarmService, tmp_path: Path) -> None:
    await with_agents(service, tmp_path)
    task_id = await service.costs.create_task(TaskSpec("budgeted", agent="P1"), "test", 1.0)
    await service.queue.assign_batch()
    journal = Journal(service, "P1")
    await journal.turn(usage=CLAUDE, cost_usd=1.2)  # past 80 % and 100 % at once
    await journal.turn(usage=CLAUDE, cost_usd=0.01)
    assert len(await events(service, EventKind.BUDGET_REACHED)) == 1
    assert await events(service, EventKind.BUDGET_WARNED) == []
    assert task_id
