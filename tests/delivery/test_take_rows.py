"""The picked tasks taken together (``assign_queries.take_ready``: the ids one list, the
agents one JSON object by task id) go each to its own agent, hostile names included; none,
one or several at once, a task no longer ready left out, on both databases. On PostgreSQL
``take_and_queue`` queues each taken task's prompt in the same statement."""

from __future__ import annotations

from typing import Any

import pytest

from core.assignment import _queries as assign_queries
from core.service.swarm import SwarmService
from core.store.conn import Conn, sql
from core.tasks import _assign_queries as take_queries
from core.tasks import _graph_queries as graph_queries
from tests.helpers import HOSTILE_TEXT, task_cells

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]

AGENTS = ["a'1", HOSTILE_TEXT, 'c"}3']
ASSIGNEES = sql("SELECT id, assignee, status FROM tasks ORDER BY id")


def _taken(conn: Conn, count: int) -> tuple[list[int], set[int], list[tuple[Any, ...]]]:
    ids = graph_queries.insert_tasks(conn, [task_cells("t")] * 4)
    picks = list(zip(ids, AGENTS, strict=False))[:count]
    taken = take_queries.take_ready(conn, picks, 2.0, 60.0)
    again = take_queries.take_ready(conn, picks, 3.0, 60.0)  # no longer ready
    assert again == set()
    rows = [(r["id"], r["assignee"], r["status"]) for r in conn.execute(ASSIGNEES)]
    return ids, taken, rows


@pytest.mark.parametrize("count", [0, 1, 3])
async def test_picked_tasks_go_each_to_its_agent(service: SwarmService, count: int) -> None:
    ids, taken, rows = await service.store.update(lambda conn: _taken(conn, count))
    assert taken == set(ids[:count])
    expected = [(i, AGENTS[n], "assigned") for n, i in enumerate(ids[:count])]
    assert rows == expected + [(i, None, "ready") for i in ids[count:]]


QUEUED = sql(
    "SELECT m.task_id, m.target_name, m.text, m.priority, d.agent_id, m.sender FROM messages m "
    "JOIN deliveries d ON d.message_id = m.id ORDER BY d.id"
)


def _queued(conn: Conn, count: int) -> tuple[list[int], dict[int, int], list[tuple[Any, ...]]]:
    ids = graph_queries.insert_tasks(conn, [task_cells("t")] * 4)
    picks = [(i, AGENTS[n], f"do {n}: {HOSTILE_TEXT}", n) for n, i in enumerate(ids[:count])]
    made = assign_queries.take_and_queue(conn, picks, HOSTILE_TEXT, 2.0, 60.0)
    return ids, made, [tuple(r.values()) for r in conn.execute(QUEUED)]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("count", [0, 1, 3])
async def test_taken_tasks_get_their_prompts_in_the_same_statement(
    service: SwarmService, count: int
) -> None:
    ids, made, queued = await service.store.update(lambda conn: _queued(conn, count))
    assert sorted(made) == ids[:count]
    assert queued == [
        (i, AGENTS[n], f"do {n}: {HOSTILE_TEXT}", n, AGENTS[n], HOSTILE_TEXT)
        for n, i in enumerate(ids[:count])
    ]
