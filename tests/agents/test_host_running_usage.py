"""An agent whose turn end says its session's running usage, not the turn's (Mistral Vibe's
ACP; ``AgentCli.cumulative_usage``): the real host, started as ``swarm desktop up
--protocol`` starts it for such a CLI (``--cumulative-usage``), running ``hostile_acp``
(which keeps each session's running usage over its processes and loads a session), and
swarm's own reading of its journal into the cost ledger on a real store.

Each turn books what it added: across a host restart with its journal emptied (the session
loaded, its total going on) and a new session (its total from zero)."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from automation.protocol import launch
from automation.protocol.watch import ProtocolWatch
from core.agents import _queries as agent_queries
from core.agents._judge import Freshness
from core.hosts import client, wire
from core.protocols import SystemClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.agents.test_host_hostile import AGENT, AGENT_SCRIPT, turn
from tests.helpers import query, write_agents

pytestmark = [pytest.mark.timeout(120), pytest.mark.xdist_group("hostile-host")]


async def start_host(home: Path, cumulative_usage: bool = True) -> None:
    """The agent's host, as ``desktop up --protocol`` starts it for a CLI of
    ``cumulative_usage`` (or a host started before that flag was given)."""
    env = {**os.environ, "HOSTILE_SESSIONS": str(home.parent / "sessions.json")}
    with warnings.catch_warnings():  # the host outlives its Popen, as after desktop up
        warnings.simplefilter("ignore", ResourceWarning)
        command = [sys.executable, str(AGENT_SCRIPT)]
        await launch.start(home, AGENT, command, home.parent, env, wait_s=30,
                           cumulative_usage=cumulative_usage)  # fmt: skip
        gc.collect()


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[SwarmService]:
    """Swarm on a home of its own, its agent a Mistral Vibe on the protocol route; its host
    ended after the test."""
    home = tmp_path / "home"
    home.mkdir()
    agents: list[dict[str, object]] = [
        {"id": AGENT, "role": "dev", "delivery": "protocol", "cli": "mistral-vibe"}
    ]
    config = write_agents(tmp_path / "agents.toml", agents)
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    opened = await SwarmService.open(settings, SystemClock())
    try:
        yield opened
    finally:
        await opened.close()
        await launch.stop(home, AGENT)


async def booked(service: SwarmService, *texts: str) -> None:
    """Each of ``texts`` a turn, its end taken in by swarm's reader of the journal."""
    home = service.settings.home
    watch = ProtocolWatch(service, Freshness())
    await watch.start()
    try:
        for text in texts:
            seq = (await turn(home, text))[-1]["seq"]
            for _ in range(600):
                await watch.fire()
                if (await service.store.read(agent_queries.protocol_cursor, AGENT))[1] >= seq:
                    break
                await asyncio.sleep(0.05)
    finally:
        await watch.stop()


def ledger(service: SwarmService) -> list[tuple[Any, ...]]:
    return query(service.settings, "SELECT input_tokens, output_tokens, model, cost_from "
                 "FROM turn_usage WHERE agent = $1 ORDER BY id", (AGENT,))  # fmt: skip


async def test_each_turn_books_what_it_added_over_a_restart_and_a_new_session(
    service: SwarmService,
) -> None:
    home = service.settings.home
    await start_host(home)
    await booked(service, "use 100 10", "use 200 20")
    await launch.stop(home, AGENT)
    wire.journal_path(home, AGENT).write_bytes(b"")  # emptied (a person may: the transcript)
    await start_host(home)  # it loads the session, whose total goes on at 300 / 30
    assert (await client.hello(home, AGENT)).session == "hostile-1"
    await booked(service, "use 50 5")
    assert (await client.new_session(home, AGENT)) == client.Opened(session="hostile-2")
    await booked(service, "use 7 1", "say no tokens")
    model = "hostile-model"  # as its session's config options name it
    assert [row[:3] for row in ledger(service)] == [
        (100, 10, model), (200, 20, model), (50, 5, model), (7, 1, model), (0, 0, model)
    ]  # fmt: skip
    (end,) = [e for e in (await turn(home, "use 1 1")) if e["type"] == wire.TURN_END]
    assert end["usage"]["inputTokens"] == 1 and end[wire.SESSION_USAGE]["inputTokens"] == 8
    assert {row[3] for row in ledger(service)} == {None}  # no price for it: cost unknown


async def test_a_host_started_without_the_flag_books_its_turns_of_unknown_usage(
    service: SwarmService,
) -> None:
    """A host started before ``--cumulative-usage`` was given journals the running total
    as the turn's usage: swarm books none of it (unknown), never the session again."""
    await start_host(service.settings.home, cumulative_usage=False)
    await booked(service, "use 100 10", "use 200 20")
    assert [(row[0], row[1], row[3]) for row in ledger(service)] == [
        (0, 0, "no_usage"), (0, 0, "no_usage")
    ]  # fmt: skip
