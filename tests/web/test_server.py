"""The dashboard's settings, server, token CLI, live stream and metrics, with real parts."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import httpx
import pytest

from bot.web.metrics import Metrics
from bot.web.server import WebServer, check_access, running
from bot.web.settings import WebSettings
from core.access import _tokens as tokens
from core.agent_state import AgentState, Signal
from core.agents import _signals as agent_signals
from core.coordinator.scheduler import Scheduler
from core.errors import ConfigError
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.store.conn import SqliteConn
from tests.helpers import ROOT, RecordingDeliverer, run_cli
from tests.web.conftest import bearer, make_token
from tests.web.live import free_port


def test_settings_parse_and_refuse_bad_values() -> None:
    assert WebSettings.from_env({}) == WebSettings("127.0.0.1", 8765, True, "token")
    # a token by default, on localhost too: a same-machine agent reaches localhost (issue 77)
    assert not WebSettings.from_env({}).metrics_open
    assert not WebSettings.from_env({"SWARM_WEB": "off"}).enabled
    assert not WebSettings.from_env({"SWARM_WEB_PORT": "0"}).enabled
    wide = WebSettings.from_env({"SWARM_WEB_HOST": "0.0.0.0"})
    assert not wide.local and not wide.metrics_open
    assert WebSettings.from_env(
        {"SWARM_WEB_HOST": "::1", "SWARM_WEB_METRICS": "local"}
    ).metrics_open
    assert WebSettings.from_env(
        {"SWARM_WEB_HOST": "0.0.0.0", "SWARM_WEB_METRICS": "open"}
    ).metrics_open
    for env, name in (
        ({"SWARM_WEB_PORT": "http"}, "SWARM_WEB_PORT"),
        ({"SWARM_WEB_PORT": "70000"}, "SWARM_WEB_PORT"),
        ({"SWARM_WEB": "maybe"}, "SWARM_WEB"),
        ({"SWARM_WEB_METRICS": "public"}, "SWARM_WEB_METRICS"),
    ):
        with pytest.raises(ConfigError, match=name):
            WebSettings.from_env(env)


async def test_beyond_localhost_it_refuses_to_start_without_a_token(service: SwarmService) -> None:
    wide = WebSettings(host="0.0.0.0", port=free_port())
    with pytest.raises(ConfigError, match="no web token exists"):
        await check_access(service, wide)
    await check_access(service, WebSettings())  # localhost needs none
    await make_token(service, "viewer", "wall")
    await check_access(service, wide)


async def test_a_busy_port_is_one_line_naming_it(service: SwarmService) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            async with running(service, WebSettings(port=port)):
                pass


def test_token_cli_prints_once_and_stores_only_the_hash(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = run_cli(home, "web", "token", "create", "--role", "viewer", "--name", "wall")
    assert made.code == 0, made.err
    token = made.out.strip()
    assert token.startswith("swt_") and "shown once" in made.err
    listed = run_cli(home, "web", "token", "list")
    assert "wall" in listed.out and token not in listed.out
    raw = (
        (home / "swarm.db").read_bytes() + (home / "swarm.db-wal").read_bytes()
        if (home / "swarm.db-wal").exists()
        else (home / "swarm.db").read_bytes()
    )
    assert token.encode() not in raw and tokens.token_hash(token).encode() in raw
    bad = run_cli(home, "web", "token", "create", "--role", "root")
    assert bad.code == 2 and bad.err.startswith("swarm: error:") and bad.out == ""
    assert run_cli(home, "web", "token", "revoke", "1").code == 0
    with sqlite3.connect(home / "swarm.db", factory=SqliteConn) as conn:
        conn.row_factory = sqlite3.Row
        assert tokens.lookup(conn, token, 0.0) is None
    again = run_cli(home, "web", "token", "revoke", "1")
    assert again.code == 2 and "no live web token with id 1" in again.err


async def test_the_stream_sees_a_cli_write_from_another_process_with_one_poller(
    service: SwarmService, tmp_path: Path
) -> None:
    token = await make_token(service, "viewer", "wall")
    server = WebServer(service, WebSettings(port=free_port()), poll_s=0.1)
    await server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        async with (
            httpx.AsyncClient(base_url=base, headers=bearer(token), timeout=10) as http,
            http.stream("GET", "/api/v1/events/stream") as one,
            http.stream("GET", "/api/v1/events/stream") as two,
        ):
            lines_one, lines_two = one.aiter_lines(), two.aiter_lines()
            assert await anext(lines_one) == "retry: 1000"
            assert await anext(lines_two) == "retry: 1000"
            hub = server.app.state.web.hub
            assert hub.listeners == 2
            pollers = [t for t in asyncio.all_tasks() if t.get_name() == "web-events"]
            assert len(pollers) == 1  # one poller for both clients
            added = await asyncio.to_thread(
                run_cli, service.settings.home, "task", "add", "from another process"
            )
            assert added.code == 0, added.err
            for lines in (lines_one, lines_two):
                event = await asyncio.wait_for(_next_data(lines), 10)
                assert '"kind": "task.created"' in event and "from another process" in event
    finally:
        await server.stop()


async def test_a_listener_gets_what_it_missed_once_then_each_poll_as_one_chunk(
    service: SwarmService,
) -> None:
    from bot.web.events import EventHub

    hub = EventHub(service, poll_s=0.05)
    await service.tasks.create(TaskSpec(title="before"), "cli")  # events 1 and 2
    try:
        async with hub.subscribe() as caught_up, hub.subscribe() as fresh:
            assert caught_up.upto == 2
            replay = [chunk async for chunk in hub.missed(1, caught_up.upto)]
            assert len(replay) == 1 and "id: 2\n" in replay[0] and "id: 1\n" not in replay[0]
            assert fresh.queue.empty()
            await service.tasks.create(TaskSpec(title="after"), "cli")  # events 3 and 4
            for queue in (caught_up.queue, fresh.queue):
                chunk = await asyncio.wait_for(queue.get(), 10)
                assert chunk is not None and chunk.count("event: swarm") == 2
                assert chunk.index("id: 3\n") < chunk.index("id: 4\n")
    finally:
        await hub.stop()


async def test_metrics_from_the_database_and_from_the_scheduler(service: SwarmService) -> None:
    metrics = Metrics()
    service.observers.append(metrics)
    await service.tasks.create_many([TaskSpec(title="a"), TaskSpec(title="b")], "cli")
    await Scheduler(service, RecordingDeliverer()).run_burst()
    for agent in ("Agent-1", "Agent-2"):  # states as the watch tick decides them
        await service.store.update(
            agent_signals.set_state, agent, AgentState.WORKING, 1.0, Signal.HOOK, "hook: PreToolUse"
        )
    text = (await metrics.render(service)).decode()
    assert 'swarm_tasks{status="assigned"} 2.0' in text
    assert 'swarm_agents{state="working"} 2.0' in text
    assert 'swarm_agents{state="unknown"} 6.0' in text  # no signal seen them: never "idle"
    assert 'swarm_deliveries_total{agent="Agent-1",method="test",result="delivered"} 1.0' in text
    assert 'swarm_delivery_seconds_count{agent="Agent-1"} 1.0' in text
    assert "swarm_assignment_decision_seconds_count" in text


async def test_metrics_count_no_delivery_whose_task_they_do_not_show_assigned(
    service: SwarmService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delivery that ends while the page reads the database (the scheduler runs between
    its reads): the page never counts it beside its task's older state."""
    metrics = Metrics()
    service.observers.append(metrics)
    await service.tasks.create(TaskSpec(title="a"), "cli")
    read = service.reports.snapshot

    async def read_then_deliver() -> object:
        found = await read()
        await Scheduler(service, RecordingDeliverer()).run_burst()  # assigned and delivered
        return found

    monkeypatch.setattr(service.reports, "snapshot", read_then_deliver)
    text = (await metrics.render(service)).decode()
    delivered = 'result="delivered"} 1.0' in text
    assert not delivered or 'swarm_tasks{status="assigned"} 1.0' in text, text
    monkeypatch.undo()
    text = (await metrics.render(service)).decode()  # the next scrape has both
    assert 'result="delivered"} 1.0' in text and 'swarm_tasks{status="assigned"} 1.0' in text


async def test_local_metrics_need_a_token_beyond_localhost(service: SwarmService) -> None:
    from bot.web.app import create_app

    token = await make_token(service, "viewer", "prometheus")
    for host, needs in (("127.0.0.1", False), ("0.0.0.0", True)):
        app = create_app(service, WebSettings(host=host, metrics="local"))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as http:
            bare = await http.get("/metrics")
            assert bare.status_code == (401 if needs else 200)
            assert (await http.get("/metrics", headers=bearer(token))).status_code == 200


async def _next_data(lines: object) -> str:
    async for line in lines:  # type: ignore[attr-defined]
        if line.startswith("data: ") and "task.created" in line:
            return str(line)
    raise AssertionError("the stream ended")


def test_swarm_web_serves_alone_and_stops_on_sigint(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
    env |= {"SWARM_HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    web = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "web", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert web.stdout is not None
        assert web.stdout.readline().startswith(f"dashboard on http://127.0.0.1:{port}/")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as page:
            assert page.status == 200 and 'name="token"' in page.read().decode()
        web.send_signal(signal.SIGINT)
        assert web.wait(15) == 0
    finally:
        if web.poll() is None:
            web.kill()
        web.communicate()


async def test_metrics_need_a_token_by_default_on_localhost_too(service: SwarmService) -> None:
    """Issue 77: a sandboxed agent on the same machine reaches localhost: ``/metrics`` asks
    for a token by default, as the rest of the dashboard does; a viewer's token reads it."""
    from bot.web.app import create_app

    app = create_app(service, WebSettings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        assert (await http.get("/metrics")).status_code == 401
        token = await make_token(service, "viewer", "prometheus")
        scraped = await http.get("/metrics", headers=bearer(token))
        assert scraped.status_code == 200 and "swarm_tasks" in scraped.text
