"""Each process types the decided prompts of the agents it serves and reads only theirs: a
delivery node its own agents', the coordinator every other agent's (and those of agents no
longer configured, which it settles). The filter is the statement's, so a fleet's other
prompts are not read at each scheduler step (issue 50, item 8)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from core.coordinator.prompt_keys import PromptKeys
from core.dialogs import prompt_queries
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.conn import Conn
from tests.helpers import RecordingDeliverer

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
async def svc(node_settings: Settings, clock: ManualClock) -> AsyncIterator[SwarmService]:
    service = await SwarmService.open(node_settings, clock)
    yield service
    await service.close()


def decided(conn: Conn, agent: str, source: str = "protocol") -> int:
    """A decided prompt of ``agent`` whose answer is still to be given: its id."""
    options = json.dumps([{"key": "1", "label": "Allow"}])
    row = (agent, None, source, "permission", "run x", options, None, 1.0,
           None, None, None, None, None)  # fmt: skip
    prompt = prompt_queries.insert(conn, row)
    assert prompt_queries.decide(conn, prompt, "1", "person", 2.0)
    return prompt


def _decided(conn: Conn, ctx: object, agent: str, source: str) -> int:
    return decided(conn, agent, source)


async def waiting_of(svc: SwarmService, node: str | None) -> list[str]:
    keys = PromptKeys(svc, RecordingDeliverer(), None, node=node)  # type: ignore[arg-type]
    return sorted(p.agent for p in await keys.waiting())


async def test_each_process_reads_the_decided_prompts_of_the_agents_it_serves(
    svc: SwarmService,
) -> None:
    for agent in ("A-1", "A-2", "B-1", "C-1", "Gone-1"):
        await svc.store.write("test", _decided, agent, "protocol")
    await svc.store.write("test", _decided, "A-1", "hook")  # answered by its hook: no key
    assert await waiting_of(svc, "desk-1") == ["A-1", "A-2"]
    assert await waiting_of(svc, "desk-2") == ["B-1"]
    assert await waiting_of(svc, None) == ["C-1", "Gone-1"]
    assert await waiting_of(svc, "desk-3") == []
