"""``swarm run``'s gateway watch (``core.watch.gateways``), on SQLite and PostgreSQL, with a
real gateway process and its real proxy: a dead gateway makes its agent ``errored`` ("its
model gateway is not running", one alert event each way) until it is started again; each
refusal is a ``sandbox.refused`` event naming the agent and the host (hostile spellings
shown harmless), read once across a restart of the watch; the first refusal of a host is one
"Needs you" item, whose "allow" writes the agents file and the gateway's spec (the host
reached at once) and whose "deny" leaves later refusals events only."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from localmodel import LocalModel

from automation.launch.sandbox import _network as network
from automation.launch.sandbox._network import Gateways
from core.agent_state import AgentState
from core.agents import Freshness
from core.agents import signals as agent_signals
from core.agents_file import load_agents
from core.clis import by_name
from core.event_kinds import EventKind
from core.models import Agent
from core.protocols import ManualClock
from core.sandbox import door_folder
from core.service.swarm import SwarmService
from core.watch.gateways import ENDED, RETRY_S, GatewayWatch
from tests.gateway.services import agents_service
from tests.gateway.test_reload import echo  # noqa: F401  (a fixture)

pytestmark = pytest.mark.both_databases
AGENT = "alice"
KEY_ENV = "ANTHROPIC_API_KEY"
AGENTS = """\
[[agent]]
id = "alice"   # the sandboxed one
role = "dev"
cli = "claude-code"
workspace = "{ws}"
sandbox = true

[[agent]]
id = "bob"
role = "dev"
"""


class Started(Gateways):
    """The real probe, but for the door: the tests start no sandbox, only its gateway."""

    def watched(self, agent: Agent) -> bool:
        return agent.id == AGENT


@pytest.fixture
async def service(
    sockets: Path, database_url: str | None, clock: ManualClock
) -> AsyncIterator[SwarmService]:
    """A service on a home short enough for the gateway's sockets, its agents file alice's."""
    async with agents_service(sockets, AGENTS, database_url, clock) as svc:
        yield svc
    await asyncio.to_thread(network.stop, sockets, AGENT)


async def _start_gateway(home: Path, model: LocalModel) -> int:
    cli = by_name("claude-code")
    assert cli is not None and cli.model_wire is not None
    env = {"PATH": os.environ.get("PATH", ""), "ANTHROPIC_BASE_URL": model.url, KEY_ENV: "k"}
    spec = network._spec(home, AGENT, cli.model_wire, env, KEY_ENV, [])
    await asyncio.to_thread(network._start, home, AGENT, spec, env, KEY_ENV)
    pid = _pid(home)
    assert pid is not None
    return pid


def _pid(home: Path) -> int | None:
    from automation.launch import gateway

    return gateway.gateway_pid(network.folder_of(home, AGENT) / network.PID_FILE)


def _watch(service: SwarmService, env: dict[str, str]) -> GatewayWatch:
    return GatewayWatch(service, Started(service.settings.home, env), Freshness())


async def _state(service: SwarmService) -> agent_signals.StateRow:
    return await service.store.read(agent_signals.get_state, AGENT)


async def _events(service: SwarmService, kind: EventKind) -> list[dict[str, object]]:
    found = await service.history.events(limit=200)
    return [{"text": e.text, "agent": e.agent, "data": e.data} for e in found if e.kind == kind]


async def _connect(home: Path, target: str) -> bytes:
    egress = door_folder(home, AGENT) / network.EGRESS_SOCKET
    reader, writer = await asyncio.open_unix_connection(str(egress))
    writer.write(f"CONNECT {target} HTTP/1.1\r\n\r\n".encode())
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    return status


async def test_a_dead_gateway_errors_its_agent_until_it_is_back(
    service: SwarmService, model: LocalModel, clock: ManualClock
) -> None:
    home = service.settings.home
    dead = await _start_gateway(home, model)
    no_key = {"PATH": os.environ.get("PATH", "")}
    watch = _watch(service, no_key)
    await watch.run()
    assert (await _state(service)).state is not AgentState.ERRORED
    os.kill(dead, signal.SIGKILL)
    for _ in range(200):
        if _pid(home) is None:
            break
        await asyncio.sleep(0.05)
    await watch.run()  # seen down; not started again: no key in this process's environment
    await watch.run()
    state = await _state(service)
    assert state.state is AgentState.ERRORED and "its model gateway is not running" in (
        state.evidence
    ), state
    assert _pid(home) is None
    # why it stays down is on its item, not only in the log
    (item,) = [n for n in await service.inbox.needs() if n.kind == "alert"]
    assert item.text == (
        f"{AGENT}: its model gateway is not running: {KEY_ENV} is not set here to give it; "
        f"tried again every {RETRY_S:g} s"
    ), item.text
    watch.probe = Started(home, {**no_key, KEY_ENV: "k"})
    await watch.run()  # within RETRY_S: not tried again
    assert _pid(home) is None
    clock.advance(RETRY_S + 1)
    await watch.run()
    assert _pid(home) not in (None, dead)
    assert (await _state(service)).state is not AgentState.ERRORED
    opened = await _events(service, EventKind.ALERT_OPENED)
    cleared = await _events(service, EventKind.ALERT_CLEARED)
    assert [e["text"] for e in opened] == [f"{AGENT}: its model gateway is not running"]
    assert [e["text"] for e in cleared] == [f"{AGENT}: its model gateway runs again"]
    await watch.run()
    assert len(await _events(service, EventKind.ALERT_OPENED)) == 1


async def test_refusals_are_events_the_first_an_item_to_allow(
    service: SwarmService,
    model: LocalModel,
    echo: int,  # noqa: F811
) -> None:
    home = service.settings.home
    await _start_gateway(home, model)
    env = {"PATH": os.environ.get("PATH", ""), KEY_ENV: "k"}
    watch = _watch(service, env)
    await watch.run()
    target = f"127.0.0.1:{echo}"
    for _ in range(3):
        assert b" 403 " in await _connect(home, target)
    assert b" 403 " in await _connect(home, "<@123>everyone:443")
    await watch.run()
    refused = await _events(service, EventKind.SANDBOX_REFUSED)
    texts = sorted(str(e["text"]) for e in refused)
    assert len(refused) == 2 and all(e["agent"] == AGENT for e in refused), refused
    assert any(f"refused {target} (3 times)" in t for t in texts), texts
    assert not any("<@" in t or "@" in t for t in texts), texts  # no mention, no markup
    # one item, for the plain host:port only; a new watch (swarm run restarted) repeats none
    needs = [n for n in await service.inbox.needs() if n.extra.get("alert") == "host-refused"]
    assert [(n.agent, n.extra["host"], n.actions) for n in needs] == [
        (AGENT, target, ("allow", "deny"))
    ]
    await _watch(service, env).run()
    assert len(await _events(service, EventKind.SANDBOX_REFUSED)) == 2
    # allow: the agents file says it (comments kept), the gateway reads it at once
    answered = await service.inbox.act(needs[0].ref, "allow", "pat")
    assert answered.detail["allow"] == [target]
    text = service.settings.config_path.read_text()
    assert f'sandbox_allow = ["{target}"]' in text and "# the sandboxed one" in text
    agents = load_agents(service.settings.config_path)
    await service.replace_agents(agents, service.settings.config_path)
    await watch.run()
    assert b" 200 " in await _connect(home, target)
    spec = json.loads((network.folder_of(home, AGENT) / network.SPEC_FILE).read_text())
    assert spec["agents"][0]["egress"]["allow"] == [target]
    assert not [n for n in await service.inbox.needs() if n.agent == AGENT]


async def test_a_denied_host_stays_events_only(
    service: SwarmService,
    model: LocalModel,
    echo: int,  # noqa: F811
) -> None:
    home = service.settings.home
    await _start_gateway(home, model)
    watch = _watch(service, {"PATH": os.environ.get("PATH", ""), KEY_ENV: "k"})
    await _connect(home, f"127.0.0.1:{echo}")
    await watch.run()
    (need,) = [n for n in await service.inbox.needs() if n.agent == AGENT]
    answered = await service.inbox.act(need.ref, "deny", "pat")
    assert "denied" in answered.text
    assert "sandbox_allow" not in service.settings.config_path.read_text()
    await _connect(home, f"127.0.0.1:{echo}")
    await watch.run()
    assert len(await _events(service, EventKind.SANDBOX_REFUSED)) == 2
    assert not [n for n in await service.inbox.needs() if n.agent == AGENT]


class Ended(Started):
    """Its sandbox ended (``desktop down``: its door gone)."""

    def watched(self, agent: Agent) -> bool:
        return False


async def test_an_ended_sandbox_leaves_no_agent_errored(
    service: SwarmService, model: LocalModel
) -> None:
    home = service.settings.home
    os.kill(await _start_gateway(home, model), signal.SIGKILL)
    for _ in range(200):
        if _pid(home) is None:
            break
        await asyncio.sleep(0.05)
    no_key = {"PATH": os.environ.get("PATH", "")}
    await _watch(service, no_key).run()
    assert (await _state(service)).state is AgentState.ERRORED
    # swarm run restarted after desktop down: the alert read from the store, and cleared
    await GatewayWatch(service, Ended(home, no_key), Freshness()).run()
    assert (await _state(service)).state is not AgentState.ERRORED
    cleared = await _events(service, EventKind.ALERT_CLEARED)
    assert [e["text"] for e in cleared] == [f"{AGENT}: {ENDED}"]
    assert _pid(home) is None
