"""The metrics' snapshot reads the tasks per status, the stall alerts per agent and the AI
calls' tokens and cost per model as plain numbers, on either store."""

from __future__ import annotations

import pytest

from core.agents import _alerts as alerts
from core.ai import _queries as ai_queries
from core.context import Ctx
from core.models import TaskSpec
from core.reports.dashboard import read_snapshot
from core.service.swarm import SwarmService
from core.store.conn import Conn

pytestmark = pytest.mark.both_databases


def _calls(conn: Conn, ctx: Ctx) -> None:
    """Two priced calls of one model, one unpriced call of another."""
    for model, prompt, completion, cost in [
        ("small", 100, 20, 0.25), ("small", 50, 5, 0.5), ("big", 7, 3, None),
    ]:  # fmt: skip
        ai_queries.insert(conn, (ctx.now, "summary", model, prompt, completion, cost, 0.1, 1, 1,
                                 None, "test"))  # fmt: skip


async def test_the_snapshot_counts_tasks_stalls_and_model_usage(
    service: SwarmService,
) -> None:
    await service.tasks.create(TaskSpec("Write tests", role="qa"), "alice")
    await service.store.write("watch", alerts.open_alert, "Agent-1", alerts.STALLED, "stalled")
    await service.store.write("test", _calls)
    snap = await service.store.read(read_snapshot)
    assert snap.tasks["ready"] == 1 and snap.stalls == {"Agent-1": 1}
    assert sorted(snap.usage) == [("big", 7, 3, 0.0), ("small", 150, 25, 0.75)]
    for _model, prompt, completion, cost in snap.usage:
        assert (type(prompt), type(completion), type(cost)) == (int, int, float)
