"""``swarm run``'s gateway watch for an unsandboxed agent's gateway (``gateway = true``), on
SQLite and PostgreSQL, with the real gateway process: watched once ``desktop up`` started it
(its spec written) and until ``desktop down`` ended it; a dead one is started again with the
agent's own credential, which its CLI still holds (a request with it passes, another is
refused); an ended one is neither watched nor started again; a delivery node's agent's is
watched by its node."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from localmodel import LocalModel

from automation.launch import gateway
from automation.launch.sandbox import _network as network
from automation.launch.sandbox import close_doors
from automation.launch.sandbox._network import Gateways
from core.agents import Freshness
from core.agents_file import load_agents
from core.clis import by_name
from core.coordinator.node import DeliveryNode
from core.models import Agent
from core.protocols import ManualClock
from core.sandbox import door_folder
from core.service.swarm import SwarmService
from core.watch.gateways import GatewayWatch
from tests.gateway.services import agents_service
from tests.gateway.wire import request
from tests.helpers import RecordingDeliverer

pytestmark = pytest.mark.both_databases
AGENT = "carol"
KEY_ENV = "ANTHROPIC_API_KEY"
AGENTS = """\
[[agent]]
id = "carol"   # unsandboxed, its model through swarm's gateway
role = "dev"
cli = "claude-code"
workspace = "{ws}"
gateway = true
"""


@pytest.fixture
async def service(
    sockets: Path, database_url: str | None, clock: ManualClock
) -> AsyncIterator[SwarmService]:
    """A service on a home short enough for the gateway's sockets, its agents file carol's."""
    async with agents_service(sockets, AGENTS, database_url, clock) as svc:
        yield svc
    await asyncio.to_thread(network.stop, sockets, AGENT)


def _agent(service: SwarmService) -> Agent:
    (agent,) = [a for a in load_agents(service.settings.config_path) if a.id == AGENT]
    return agent


def _pid(home: Path) -> int | None:
    return gateway.gateway_pid(network.folder_of(home, AGENT) / network.PID_FILE)


async def _killed(home: Path) -> int:
    pid = _pid(home)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    for _ in range(200):
        if _pid(home) is None:
            return pid
        await asyncio.sleep(0.05)
    raise AssertionError("the gateway did not die")


async def _status(home: Path, token: str) -> int:
    """A request on the agent's model socket (where its relay leads) with ``token``."""
    path, body, headers = request("messages", "say hi", stream=False)
    headers = {**headers, "x-api-key": token}
    connector = aiohttp.UnixConnector(path=str(door_folder(home, AGENT) / network.MODEL_SOCKET))
    client = aiohttp.ClientSession(connector=connector, base_url="http://gateway")
    async with client, client.post(path, json=body, headers=headers) as answer:
        return answer.status


async def test_a_dead_gateway_of_an_unsandboxed_agent_comes_back_with_its_credential(
    service: SwarmService, model: LocalModel
) -> None:
    home = service.settings.home
    env = {"PATH": os.environ.get("PATH", ""), "ANTHROPIC_BASE_URL": model.url, KEY_ENV: "k"}
    probe = Gateways(home, env)
    assert not probe.watched(_agent(service))  # not started yet
    await asyncio.to_thread(network.unsandboxed, home, AGENT, by_name("claude-code"), env)
    assert probe.watched(_agent(service))
    token = (network.folder_of(home, AGENT) / network.TOKEN_FILE).read_text().strip()
    assert await _status(home, token) == 200
    dead = await _killed(home)
    await GatewayWatch(service, probe, Freshness()).run()  # seen down, started again
    assert _pid(home) not in (None, dead)
    assert await _status(home, token) == 200  # the credential its CLI holds still passes
    assert await _status(home, "not-its-own") == 401
    assert len(model.requests) == 2


async def test_an_ended_gateway_of_an_unsandboxed_agent_is_not_watched(
    service: SwarmService, model: LocalModel
) -> None:
    home = service.settings.home
    env = {"PATH": os.environ.get("PATH", ""), "ANTHROPIC_BASE_URL": model.url, KEY_ENV: "k"}
    await asyncio.to_thread(network.unsandboxed, home, AGENT, by_name("claude-code"), env)
    assert await asyncio.to_thread(close_doors, home, [AGENT]) == [f"{AGENT}: model gateway ended"]
    probe = Gateways(home, env)
    assert not probe.watched(_agent(service))
    await GatewayWatch(service, probe, Freshness()).run()
    assert _pid(home) is None
    # desktop up again: watched again
    await asyncio.to_thread(network.unsandboxed, home, AGENT, by_name("claude-code"), env)
    assert probe.watched(_agent(service))


NODE_AGENTS = AGENTS + 'node = "desk-1"\n'


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_delivery_node_watches_its_own_agents_gateways(
    sockets: Path, database_url: str, clock: ManualClock, model: LocalModel
) -> None:
    # carol is served by node desk-1 (`swarm node`, another machine): its gateway is watched
    # there, by the node's timer, not by `swarm run`
    env = {"PATH": os.environ.get("PATH", ""), "ANTHROPIC_BASE_URL": model.url, KEY_ENV: "k"}
    async with agents_service(sockets, NODE_AGENTS, database_url, clock) as service:
        await asyncio.to_thread(network.unsandboxed, sockets, AGENT, by_name("claude-code"), env)
        probe = Gateways(sockets, env)
        assert GatewayWatch(service, probe, Freshness()).agents() == []  # not swarm run's
        watch = GatewayWatch(service, probe, Freshness(), node="desk-1")
        node = DeliveryNode(service, RecordingDeliverer(), "desk-1", timers=[watch])
        stop = asyncio.Event()
        running = asyncio.create_task(node.run(stop))
        try:
            dead = await _killed(sockets)
            for _ in range(200):
                if _pid(sockets) not in (None, dead):
                    break
                await asyncio.sleep(0.05)
            assert _pid(sockets) not in (None, dead), "the node did not start it again"
        finally:
            stop.set()
            await asyncio.wait_for(running, 30)
            await asyncio.to_thread(network.stop, sockets, AGENT)
