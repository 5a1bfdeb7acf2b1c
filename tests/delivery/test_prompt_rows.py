"""Task prompts stored together (``message_queries.insert_prompts``: one INSERT of messages
and one of deliveries, each over a JSON list of rows) keep each field as given, hostile text
included, and each task's prompt goes to its agent; the oldest due delivery is picked past
the agents skipped (none, one, several), on both databases."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.delivery import _message_queries as message_queries
from core.models import Priority
from core.service.swarm import SwarmService
from core.store.conn import Conn, in_list
from core.tasks import _graph_queries as graph_queries
from tests.helpers import HOSTILE_TEXT, query_plan, task_cells

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]

AGENTS = ["a'1", HOSTILE_TEXT, "c%3"]


def _queued(conn: Conn, count: int) -> tuple[dict[int, int], list[tuple[Any, ...]]]:
    tasks = graph_queries.insert_tasks(conn, [task_cells(f"t{i}") for i in range(count)])
    texts = [f"do {i}: {HOSTILE_TEXT}" for i in range(count)]
    priorities = [Priority.urgent, Priority.low, Priority.normal][:count]
    prompts = list(zip(AGENTS, texts, tasks, priorities, strict=False))
    ids = message_queries.insert_prompts(conn, "swarm", 2.5, prompts)
    seen = []
    skip: list[str] = []
    while (due := message_queries.oldest_due(conn, 3.0, 0.0, skip)) is not None:
        d = due.delivery
        seen.append((d.task_id, d.agent, d.text, d.priority, d.sender, d.state.value))
        skip.append(d.agent)  # skipped next: the one after it is due
    return ids, seen


@pytest.mark.parametrize("count", [0, 1, 3])
async def test_prompts_stored_together_reach_their_agents(
    service: SwarmService, count: int
) -> None:
    ids, seen = await service.store.update(lambda conn: _queued(conn, count))
    assert len(ids) == count
    expected = [
        (task_id, AGENTS[i], f"do {i}: {HOSTILE_TEXT}", [3, 0, 1][i], "swarm", "queued")
        for i, task_id in enumerate(sorted(ids))
    ]
    assert seen == expected


_ACCESS_OF_Q = re.compile(
    r"(?:SCAN|SEARCH) q(?: USING [\w ]+)?|[\w ]+ Scan (?:using \w+ )?on deliveries q"
)


def _due_plans(conn: Conn) -> tuple[str, str]:
    """How the due delivery's row ``q`` is read, with the skip list as one parameter and with
    one agent skipped by ``<>`` (the form built per call had: one ``<>`` per agent)."""
    tasks = graph_queries.insert_tasks(conn, [task_cells("t")] * 3000)
    many = [(f"agent{i % 40}", "hi", t, Priority.normal) for i, t in enumerate(tasks)]
    message_queries.insert_prompts(conn, "swarm", 2.5, many)
    conn.execute("UPDATE deliveries SET state = 'delivered' WHERE id % 50 <> 0")
    conn.execute("ANALYZE")
    statement = message_queries.OLDEST_DUE.on(conn)
    params = statement.bind({"now": 3.0, "skip": '["a"]', "since": 0.0})
    skip = in_list("skip", negated=True).on(conn).replace(":skip", "$2")
    one_agent = statement.text.replace(f"AND agent_id {skip} ", "AND agent_id <> $2 ")
    assert one_agent != statement.text
    plans = query_plan(conn, statement.text, *params), query_plan(conn, one_agent, *params)
    found = [_ACCESS_OF_Q.findall(plan) for plan in plans]
    return found[0][0].strip(), found[1][0].strip()


async def test_the_skip_list_keeps_the_due_deliverys_plan(service: SwarmService) -> None:
    listed_skip, one_agent = await service.store.update(_due_plans)
    assert listed_skip == one_agent
