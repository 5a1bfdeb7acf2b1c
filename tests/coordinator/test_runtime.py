"""The running coordinator: woken by changes (ours and other processes'), crash-safe.

The wake-ups run on both databases (PostgreSQL wakes through LISTEN, SQLite by watching the
file). The crash and second-coordinator tests are about ``swarm run`` on SQLite (its
``coordinator.lock``); on PostgreSQL a second coordinator stands by instead, which
tests/pg/ covers (failover, fencing, a killed leader)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from core.context import Ctx
from core.coordinator.scheduler import Scheduler
from core.delivery import _messages as messages
from core.models import Delivery, TaskSpec, TaskStatus
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.conn import Conn
from tests.helpers import ROOT, RecordingDeliverer, run_cli, write_agents
from tests.pgcluster import free_port


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[tuple[SwarmService, RecordingDeliverer]]:
    """A service on the real clock with its scheduler running (on PostgreSQL too in the
    tests marked ``both_databases``; a ``swarm`` subprocess reaches the same database)."""
    service = await SwarmService.open(settings)
    deliverer = RecordingDeliverer()
    stop = asyncio.Event()
    runner = asyncio.create_task(Scheduler(service, deliverer).run(stop))
    yield service, deliverer
    stop.set()
    await runner
    await service.close()


async def wait_for(predicate: Callable[[], Awaitable[bool]], limit_s: float = 5.0) -> float:
    """Seconds until ``predicate()`` is true; fail after ``limit_s``."""
    start = time.monotonic()
    while not await predicate():
        assert time.monotonic() - start < limit_s, "condition not met in time"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


@pytest.mark.both_databases
async def test_own_change_wakes_the_scheduler(
    live: tuple[SwarmService, RecordingDeliverer],
) -> None:
    service, deliverer = live
    await service.tasks.create(TaskSpec("now"), "me")

    async def delivered() -> bool:
        return bool(deliverer.parcels)

    await wait_for(delivered)
    assert deliverer.parcels[0].task_id == 1


@pytest.mark.both_databases
async def test_change_by_another_process_is_noticed(
    live: tuple[SwarmService, RecordingDeliverer], home: Path
) -> None:
    _, deliverer = live
    result = await asyncio.to_thread(run_cli, home, "send", "Agent-5", "from another process")
    assert result.code == 0, result.err

    async def delivered() -> bool:
        return bool(deliverer.for_agent("Agent-5"))

    seconds = await wait_for(delivered)
    print(f"noticed a change by another process after {seconds * 1000:.0f} ms")
    assert "from another process" in deliverer.for_agent("Agent-5")[0].text


async def test_another_processes_commit_is_seen_long_before_the_loops_poll(
    settings: Settings,
) -> None:
    """SQLite: the loop reads ``PRAGMA data_version`` every ``CHANGE_POLL_S`` while it waits,
    not only at its poll (30 s here): a person's ``swarm task cancel`` or ``task add`` from
    another process reaches its agent at once (before: up to the poll, 0.5 s by default)."""
    service = await SwarmService.open(settings)
    other = await SwarmService.open(settings)  # another connection: another process
    deliverer = RecordingDeliverer()
    stop = asyncio.Event()
    runner = asyncio.create_task(Scheduler(service, deliverer, poll_s=30.0).run(stop))
    try:
        await asyncio.sleep(1.0)  # the loop is asleep for its poll by now
        await other.messages.send("Agent-5", "from another connection", "me")

        async def delivered() -> bool:
            return bool(deliverer.for_agent("Agent-5"))

        await wait_for(delivered, limit_s=10.0)
    finally:
        stop.set()
        await runner
        await other.close()
        await service.close()


def _start(home: Path, config: Path, web_port: int | None = None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    # no dashboard unless on a free port: the default one may be held by another swarm run
    env.update(SWARM_HOME=str(home), SWARM_CONFIG=str(config), SWARM_WEB="off")
    if web_port is not None:
        env.update(SWARM_WEB="on", SWARM_WEB_PORT=str(web_port))
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--no-discord"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def _complete_assigned(service: SwarmService, seconds: float, rng: random.Random) -> None:
    """Act as the agents for a while: finish each assigned task whose prompt has reached its
    agent's inbox (an agent knows of a task only from its prompt)."""
    end = time.monotonic() + seconds
    inbox = service.settings.home / "inbox"
    while time.monotonic() < end:
        prompts = "".join(p.read_text() for p in inbox.glob("*/[!.]*"))  # not .tmp- files
        for task in await service.tasks.newest(status="assigned"):
            if f"task {task.ref} |" not in prompts:
                continue
            if rng.random() < 0.3:
                await service.tasks.start(task.id, task.agent or "")
            await service.tasks.complete(task.id, task.agent or "")
        await asyncio.sleep(0.02)


@pytest.mark.timeout(120)
async def test_killed_mid_run_loses_nothing_and_never_double_assigns(tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = write_agents(
        tmp_path / "agents.toml",
        [{"id": f"A{i}", "role": "dev", "delivery": "inbox"} for i in range(1, 9)],
    )
    service = await SwarmService.open(
        Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    )
    rng = random.Random(7)
    try:
        await service.tasks.create_many(
            [
                TaskSpec(
                    f"t{i}",
                    ref=str(i),
                    priority=rng.randrange(4),
                    after=tuple(str(j) for j in rng.sample(range(i), min(i, rng.randint(0, 2)))),
                )
                for i in range(60)
            ],
            "test",
        )
        for _ in range(5):
            proc = _start(home, config)
            await _complete_assigned(service, rng.uniform(0.4, 1.2), rng)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            if proc.stderr:
                proc.stderr.close()
        proc = _start(home, config)
        try:
            assert proc.stderr is not None
            lines = [await asyncio.to_thread(proc.stderr.readline) for _ in range(1)]
            while b"coordinator started" not in lines[-1]:  # logged once signals are handled
                assert lines[-1] and len(lines) < 50, lines
                lines.append(await asyncio.to_thread(proc.stderr.readline))
            while len(await service.tasks.newest(status="done")) < 60:
                assert proc.poll() is None, "the coordinator died"
                await _complete_assigned(service, 0.2, rng)
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(10)
            if proc.stderr:
                proc.stderr.close()
        assert code == 0
        await _check_history(service, home)
    finally:
        await service.close()


async def _check_history(service: SwarmService, home: Path) -> None:
    tasks = await service.tasks.newest()
    assert len(tasks) == 60 and all(t.status is TaskStatus.done for t in tasks)
    events = await service.history.events(limit=100_000)
    holder: dict[int, str | None] = {}
    for event in events:
        if event.kind == "task.assigned":
            assert holder.get(event.task_id or 0) is None, f"T-{event.task_id} held twice"
            holder[event.task_id or 0] = event.agent
        elif event.kind in ("task.requeued", "task.done"):
            holder[event.task_id or 0] = None
    done = [e.task_id for e in events if e.kind == "task.done" and e.task_id is not None]
    assert sorted(done) == sorted(t.id for t in tasks)
    assert not [
        d for d in await service.messages.deliveries(limit=10_000) if d.state.value == "delivering"
    ]
    prompts = [p.read_text() for p in (home / "inbox").glob("*/*")]
    for task in tasks:
        assert any(f"task {task.ref} |" in text for text in prompts), f"{task.ref} not delivered"


def _in_flight(conn: Conn, ctx: Ctx) -> Delivery | None:
    """A message claimed for delivery in one transaction: a coordinator's delivery in flight."""
    messages.send(conn, ctx, "A1", "in flight")
    return messages.claim(conn, ctx)


async def _until_started(proc: subprocess.Popen[bytes]) -> None:
    """Until the coordinator's timers started (its start-up recovery is behind it)."""
    assert proc.stderr is not None
    lines = [await asyncio.to_thread(proc.stderr.readline)]
    while b"jobs started" not in lines[-1]:
        assert lines[-1] and len(lines) < 50, lines
        lines.append(await asyncio.to_thread(proc.stderr.readline))


@pytest.mark.timeout(90)
async def test_a_second_coordinator_on_one_home_is_refused_and_recovers_nothing(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    config = write_agents(
        tmp_path / "agents.toml",
        [{"id": f"A{i}", "role": "dev", "delivery": "inbox"} for i in range(1, 3)],
    )
    first = _start(home, config)
    try:
        await _until_started(first)
        service = await SwarmService.open(
            Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
        )
        try:
            flying = await service.store.write("test", _in_flight)
            assert flying is not None
            # a dashboard port of its own: the default one may be held by a swarm on this machine
            web = {"SWARM_WEB_PORT": str(free_port())}
            for args in (("run", "--no-discord"), ("run", "--no-discord", "--burst")):
                second = await asyncio.to_thread(run_cli, home, *args, config=config, env=web)
                pid, started = (home / "coordinator.lock").read_text().split()
                since = time.strftime("%H:%M", time.localtime(float(started)))
                assert (second.code, int(pid)) == (2, first.pid)
                assert second.err == (
                    f"swarm: error: already running: pid {first.pid} since "
                    f"{since} (another coordinator holds "
                    f"{home / 'coordinator.lock'}; stop it first)\n"
                )
            [delivery] = await service.messages.deliveries()
            assert (delivery.id, delivery.state.value) == (flying.id, "delivering")  # untouched
        finally:
            await service.close()
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(10) == 0
        if first.stderr:
            first.stderr.close()
    after = await asyncio.to_thread(run_cli, home, "run", "--no-discord", "--burst", config=config)
    assert after.code == 0, after.err  # the lock went with the first; this one recovers
    assert "1 deliveries" in after.out
    [prompt] = [p.read_text() for p in (home / "inbox" / "A1").glob("*")]
    assert "in flight" in prompt and "RETRY" in prompt


@pytest.mark.timeout(90)
async def test_a_second_coordinator_with_the_dashboard_on_names_the_first_not_the_port(
    tmp_path: Path,
) -> None:
    """The home's lock is checked before the dashboard's port is bound: the second ``swarm
    run`` says who holds the home, not that the port is in use."""
    import socket

    from tests.pgcluster import free_port

    home, port = tmp_path / "home", free_port()
    config = write_agents(
        tmp_path / "agents.toml", [{"id": "A1", "role": "dev", "delivery": "inbox"}]
    )
    first = _start(home, config, web_port=port)
    try:
        await _until_started(first)
        second = await asyncio.to_thread(
            run_cli, home, "run", "--no-discord", config=config, env={"SWARM_WEB_PORT": str(port)}
        )
        pid, started = (home / "coordinator.lock").read_text().split()
        since = time.strftime("%H:%M", time.localtime(float(started)))
        assert (second.code, int(pid)) == (2, first.pid)
        assert second.err == (
            f"swarm: error: already running: pid {first.pid} since {since} "
            f"(another coordinator holds {home / 'coordinator.lock'}; stop "
            "it first)\n"
        )
        assert first.poll() is None
        with socket.create_connection(("127.0.0.1", port), timeout=10):
            pass  # the first one's dashboard still listens
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(10) == 0
        if first.stderr:
            first.stderr.close()
