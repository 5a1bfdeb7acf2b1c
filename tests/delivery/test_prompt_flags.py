"""A task prompt's flags read on their own (``claim_queries.prompt_flags``, when they were
not read with its claim): whether its agent was never onboarded, and whether another agent
was ever assigned its task. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from core.agents import _queries as agent_queries
from core.delivery import _claim_queries as claim_queries
from core.event_kinds import EventKind
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.store.conn import Conn

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


def _flags(conn: Conn, agent: str, task_id: int) -> tuple[int, int]:
    conn.flush_events()
    flags = claim_queries.prompt_flags(conn, agent, task_id)
    return int(flags.fresh_agent), int(flags.handed_over)


def _assigned(conn: Conn, task_id: int, agent: str) -> None:
    conn.add_event((1.0, EventKind.TASK_ASSIGNED.value, "assigned", task_id, agent, "me", None))


async def test_a_fresh_agent_and_a_handover_are_read_for_the_prompt(
    service: SwarmService,
) -> None:
    task = await service.tasks.create(TaskSpec("api"), "me")
    await service.store.update(agent_queries.ensure_rows, ["Agent-1", "Agent-2"], 1.0)
    assert await service.store.read(_flags, "Agent-1", task.id) == (1, 0)
    await service.store.update(agent_queries.set_onboarded, "Agent-1", 2.0)
    await service.store.update(_assigned, task.id, "Agent-1")
    assert await service.store.read(_flags, "Agent-1", task.id) == (0, 0)
    assert await service.store.read(_flags, "Agent-2", task.id) == (1, 1)
