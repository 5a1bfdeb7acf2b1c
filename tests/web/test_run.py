"""``swarm run`` serves the dashboard through the Builder, in the coordinator's loop."""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest

from bot.app import Builder, run_headless
from bot.config import Config
from bot.web.settings import WebSettings
from core.errors import ConfigError
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import RecordingDeliverer
from tests.watch.conftest import FakeFrames
from tests.web.conftest import bearer, make_token
from tests.web.live import free_port


def builder_for(settings: Settings, web: WebSettings, serve: bool = True) -> Builder:
    """The coordinator over ``settings`` with the dashboard at ``web``."""
    return Builder(
        Config({}, core=settings, web=web),
        deliverer=lambda _: RecordingDeliverer(),
        frames=FakeFrames(),
        serve_web=serve,
    )


async def test_the_coordinator_serves_the_api_and_counts_its_deliveries(settings: Settings) -> None:
    service = await SwarmService.open(settings)  # the CLI's view of the same home
    token = await make_token(service, "viewer", "prometheus")
    web = WebSettings(port=free_port())
    stop = asyncio.Event()
    runner = asyncio.create_task(run_headless(builder_for(settings, web), stop=stop))
    try:
        await service.tasks.create(TaskSpec(title="deliver me"), "cli")
        async with httpx.AsyncClient(base_url=web.url, headers=bearer(token)) as http:
            text = ""
            for _ in range(500):
                assert not runner.done()
                try:
                    text = (await http.get("/metrics")).text
                except httpx.TransportError:  # not listening yet
                    text = ""
                if "swarm_deliveries_total{" in text:
                    break
                await asyncio.sleep(0.02)
            assert 'result="delivered"} 1.0' in text
            assert 'swarm_tasks{status="assigned"} 1.0' in text
            status = (await http.get("/api/v1/status")).json()
            assert status["tasks"]["assigned"] == 1
    finally:
        stop.set()
        await asyncio.gather(runner, return_exceptions=True)
        await service.close()
    assert runner.result() is None
    with pytest.raises(httpx.TransportError):  # stopped with the coordinator
        async with httpx.AsyncClient(base_url=web.url) as http:
            await http.get("/login")


async def test_beyond_localhost_without_a_token_the_coordinator_does_not_start(
    settings: Settings,
) -> None:
    web = WebSettings(host="0.0.0.0", port=free_port())
    with pytest.raises(ConfigError, match="no web token exists"):
        await run_headless(builder_for(settings, web), stop=asyncio.Event())


async def test_off_or_not_asked_serves_nothing(settings: Settings, service: SwarmService) -> None:
    wide = {"SWARM_WEB_HOST": "0.0.0.0"}  # would refuse to start: no token exists
    off = WebSettings.from_env({**wide, "SWARM_WEB": "off"})
    async with builder_for(settings, off).web(service) as server:
        assert server is None
    asked_not = WebSettings.from_env(wide)
    async with builder_for(settings, asked_not, serve=False).web(service) as server:
        assert server is None
    with pytest.raises(ConfigError):
        async with builder_for(settings, asked_not).web(service):
            pass


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_busy_port_stops_the_coordinator_before_it_waits_for_its_lock(
    settings: Settings,
) -> None:
    """Bound first: a standby that took over could not serve the dashboard and would stop
    then, leaving no scheduler; now it stops at once, naming the port (on SQLite the home's
    lock comes first: a second coordinator on one home is named, see test_runtime.py)."""
    import socket

    from core.store.postgres.failover import scheduler_lock

    assert settings.database_url is not None
    async with scheduler_lock(settings.database_url, 5.0):  # another coordinator
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            web = WebSettings(port=taken.getsockname()[1])
            with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{web.port}"):
                await asyncio.wait_for(
                    run_headless(builder_for(settings, web), stop=asyncio.Event()), 60
                )


async def test_on_sqlite_the_homes_lock_is_checked_before_the_port(settings: Settings) -> None:
    import socket

    from core.coordinator.home_lock import AlreadyRunning, CoordinatorLock

    with socket.socket() as taken, CoordinatorLock(settings.home):  # another coordinator
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        web = WebSettings(port=taken.getsockname()[1])
        with pytest.raises(AlreadyRunning, match=f"already running: pid {os.getpid()} "):
            await run_headless(builder_for(settings, web), stop=asyncio.Event())
