"""Tasks inserted together (``graph_queries.insert_tasks``, one statement over a JSON list of
rows) are stored field for field as given, hostile text and NULLs included, each id the id of
its row in the list's order, on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from core.service.swarm import SwarmService
from core.store.conn import Conn, sql
from core.tasks import _graph_queries as graph_queries
from core.tasks._graph_queries import TASK_COLUMNS
from tests.helpers import HOSTILE_TEXT, task_cells

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


def _stored(conn: Conn, ids: list[int]) -> list[tuple[Any, ...]]:
    columns = ", ".join(TASK_COLUMNS)
    found = []
    for task_id in ids:
        row = conn.execute(
            sql(f"SELECT {columns} FROM tasks WHERE id = :id"), {"id": task_id}
        ).fetchone()
        found.append(tuple(row[c] for c in TASK_COLUMNS))
    return found


TASKS = [
    task_cells("first", details=HOSTILE_TEXT, role="dev", capabilities='["py"]', priority=7),
    task_cells(
        HOSTILE_TEXT, pinned_agent='a"b', reason="waiting", blocked_on="gate", plan_id="p'1"
    ),
    task_cells("third", max_attempts=1, created_at=1234567890.123456, updated_at=2.25),
]


@pytest.mark.parametrize("count", [0, 1, 3])
async def test_tasks_inserted_together_keep_their_fields_and_order(
    service: SwarmService, count: int
) -> None:
    tasks = TASKS[:count]
    ids = await service.store.update(lambda conn: graph_queries.insert_tasks(conn, tasks))
    assert len(ids) == count
    assert await service.store.read(lambda conn: _stored(conn, ids)) == tasks
