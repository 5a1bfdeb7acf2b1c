"""A waiting PermissionRequest hook on PostgreSQL: woken by its prompt's notification
(``swarm_prompt``, sent by a trigger when the prompt is decided or closed), not by a poll:
what ``Store.watch_prompt`` gives it. A real hook answered on PostgreSQL:
tests/agents/test_agent_hooks.py (``both_databases``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.agent_state import Signal
from core.dialogs import permissions as prompts
from core.models import PromptOption, TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.postgres.listen import NotifyWait
from tests.conftest import PgServer

pytestmark = pytest.mark.timeout(90)
OPTIONS = (PromptOption("1", "Yes"), PromptOption("2", "No"))


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    url = pg_server.fresh_database()
    yield url
    pg_server.drop(url)


async def _prompt(service: SwarmService, agent: str) -> int:
    found = await service.store.write(
        agent, prompts.open_prompt, agent, Signal.HOOK, "Edit?", OPTIONS
    )
    return found.id


async def test_the_wait_ends_when_its_prompt_is_decided_and_not_before(
    pg_url: str, home: Path
) -> None:
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_DATABASE_URL": pg_url})
    service = await SwarmService.open(settings)
    try:
        mine, other = await _prompt(service, "Agent-1"), await _prompt(service, "Agent-2")
        watch = service.store.watch_prompt(mine)  # what a waiting hook's intake asks for
        assert isinstance(watch, NotifyWait)
        try:
            assert watch.changed()  # the first look always reads
            assert not watch.changed()
            await service.tasks.create(TaskSpec("unrelated"), "cli")
            await service.store.write("discord:ann", prompts.decide, other, "1")
            await watch.wait(0.5)  # other commits and another prompt's decision: no wake
            assert not watch.changed()
            waiting = asyncio.create_task(watch.wait(60))
            await asyncio.sleep(0.05)
            await service.store.write("discord:ann", prompts.decide, mine, "2")
            await asyncio.wait_for(waiting, 30)  # woken, long before its 60 s
            assert watch.changed()
        finally:
            watch.close()
    finally:
        await service.close()
