"""Nothing a host said is lost (hardening, round five, item 4): what a host journaled while
swarm was stopped, and swarm never read because the host died (or ``desktop up`` replaced
it) before swarm came back, is read from the journal file when swarm starts, taken in once;
a dead host's permission request leaves "Needs you". The real host runs ``hostile_acp`` (an
ACP agent), swarm's reading is the real ``ProtocolWatch`` on a real store."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from automation.protocol import launch
from automation.protocol import watch as protocol_watch
from automation.protocol.host import Host, Journal
from automation.protocol.watch import ProtocolWatch
from core.agent_state import AgentState
from core.agents import _queries as agent_queries
from core.agents import _signals as agent_signals
from core.agents._judge import Freshness
from core.hosts import client, entries, journal_file, running, wire
from core.hosts.turns import TOTAL_COST, Ended
from core.processes import started
from core.protocols import SystemClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import query, write_agents

pytestmark = [pytest.mark.timeout(120)]
AGENT = "Agent-1"
AGENT_SCRIPT = Path(__file__).with_name("hostile_acp.py")


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[SwarmService]:
    """Swarm with one protocol agent, its host not started yet."""
    home = tmp_path / "home"
    home.mkdir()
    agents: list[dict[str, object]] = [
        {"id": AGENT, "role": "dev", "delivery": "protocol", "cli": "gemini"}
    ]
    config = write_agents(tmp_path / "agents.toml", agents)
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    opened = await SwarmService.open(settings, SystemClock())
    yield opened
    await opened.close()
    await launch.stop(home, AGENT)


async def host_started(home: Path) -> int:
    """The agent's host, started as ``desktop up --protocol`` starts it; its pid."""
    with warnings.catch_warnings():  # the host outlives its Popen, as after desktop up
        warnings.simplefilter("ignore", ResourceWarning)
        hello = await launch.start(home, AGENT, [sys.executable, str(AGENT_SCRIPT)],
                                   home.parent, dict(os.environ), wait_s=30)  # fmt: skip
        gc.collect()
    assert hello.pid is not None
    return hello.pid


async def until(home: Path, after: int, kind: str) -> dict[str, Any]:
    """The first journal entry of ``kind`` after ``after``."""

    async def first() -> dict[str, Any]:
        async for entry in client.stream(home, AGENT, after):
            if entry.type == kind:
                return entries.line(entry)
        raise AssertionError("the host ended its journal")

    return await asyncio.wait_for(first(), 30)


async def swarm_reads(
    service: SwarmService, until: Callable[[], Awaitable[bool]] | None = None
) -> None:
    """Swarm's protocol watch running until ``until()`` holds, or (None: a read that must
    take nothing in) until its reader has had its look at the dead host (what the journal
    files hold that it never read taken in, then the host said gone: ``hosts``) and that
    was written; within 30 s, then stopped."""
    watch = ProtocolWatch(service, Freshness())
    await watch.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30.0
        while loop.time() < deadline:
            looked = AGENT in watch.hosts  # (before this fire: what it said, written by it)
            await watch.fire()
            if await until() if until is not None else looked:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("swarm's watch did not get there within 30 s")
    finally:
        await watch.stop()


def read_host(service: SwarmService, pid: int) -> Callable[[], Awaitable[bool]]:
    """Whether swarm's cursor is on host ``pid``'s journal."""

    async def known() -> bool:
        host, _ = await service.store.read(agent_queries.protocol_cursor, AGENT)
        return bool(host == pid)

    return known


def took_in_turn(
    service: SwarmService, state: AgentState, host: int | None = None
) -> Callable[[], Awaitable[bool]]:
    """Whether swarm took a turn's end in and reads the agent in ``state`` (``host``: its
    cursor on that host's journal)."""

    async def taken() -> bool:
        now = await service.store.read(agent_signals.get_state, AGENT)
        if host is not None and not await read_host(service, host)():
            return False
        return bool(turn_events(service)) and now.state is state

    return taken


async def said_while_swarm_was_stopped(service: SwarmService) -> int:
    """A host swarm read once; then, swarm stopped, a turn that ends; then the host killed
    (SIGKILL): its pid. Swarm never read the turn."""
    home = service.settings.home
    pid = await host_started(home)
    await swarm_reads(service, read_host(service, pid))
    _, seq = await service.store.read(agent_queries.protocol_cursor, AGENT)
    answer = await client.prompt(home, AGENT, 41, "say done while swarm was away", wait_s=60)
    assert answer.ok
    await until(home, seq, wire.TURN_END)
    os.killpg(pid, signal.SIGKILL)
    while running.host_pid(home, AGENT) is not None:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    return pid


def turn_events(service: SwarmService) -> list[str]:
    rows = query(service.settings, "SELECT text FROM events WHERE kind = 'agent.turn'")
    return [str(row[0]) for row in rows]


async def test_a_turn_a_dead_host_journaled_is_taken_in_once_at_start(
    service: SwarmService,
) -> None:
    await said_while_swarm_was_stopped(service)
    assert turn_events(service) == []
    await swarm_reads(service, took_in_turn(service, AgentState.OFFLINE))
    assert turn_events(service) == [f"{AGENT}'s turn ended: end_turn"]
    state = await service.store.read(agent_signals.get_state, AGENT)
    assert state.state is AgentState.OFFLINE, state  # its host is gone, said after
    await swarm_reads(service)  # swarm started again: nothing taken in twice
    assert turn_events(service) == [f"{AGENT}'s turn ended: end_turn"]


async def test_a_turn_of_a_host_desktop_up_replaced_is_taken_in_before_the_new_hosts(
    service: SwarmService,
) -> None:
    dead = await said_while_swarm_was_stopped(service)
    new = await host_started(service.settings.home)
    assert new != dead
    await swarm_reads(service, took_in_turn(service, AgentState.IDLE, new))
    assert turn_events(service) == [f"{AGENT}'s turn ended: end_turn"]
    known_host, _ = await service.store.read(agent_queries.protocol_cursor, AGENT)
    assert known_host == new  # then the new host's journal, from its start
    state = await service.store.read(agent_signals.get_state, AGENT)
    assert state.state is AgentState.IDLE, state


async def test_a_killed_host_reads_not_running_at_once_and_its_next_at_once(
    service: SwarmService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Swarm's watch reads a host whose process is then killed: the host's journal stream
    ends (no error: its socket closed), and the agent reads "not running" as soon as the
    process is gone (before: at the watch's next try, 2 s in use); ``desktop up`` starts
    another, read as its socket comes. Both not at the next try (made 10 minutes)."""
    monkeypatch.setattr(protocol_watch, "RETRY_S", 600.0)
    home = service.settings.home
    old = await host_started(home)
    watch = ProtocolWatch(service, Freshness())
    await watch.start()

    async def offline() -> bool:
        now = await service.store.read(agent_signals.get_state, AGENT)
        return now.state is AgentState.OFFLINE and "is not running" in now.evidence

    try:
        await reaches(watch, read_host(service, old))
        os.killpg(old, signal.SIGKILL)
        await reaches(watch, offline)  # its stream ended: said as its process went
        assert running.host_pid(home, AGENT) is None
        new = await host_started(home)
        await reaches(watch, read_host(service, new))
    finally:
        await watch.stop()


def refused(watch: ProtocolWatch) -> Callable[[], Awaitable[bool]]:
    """Whether the watch's reader was refused by the agent's host and said so (its host
    now ``0``: none read); it waits for its next try from then."""

    async def said() -> bool:
        return watch.hosts.get(AGENT) == 0

    return said


async def reaches(watch: ProtocolWatch, check: Callable[[], Awaitable[bool]]) -> None:
    """The running ``watch`` fired until ``check()`` holds (within 30 s)."""
    deadline = asyncio.get_running_loop().time() + 30
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within 30 s"
        await watch.fire()
        await asyncio.sleep(0.05)


async def test_a_host_refusing_while_its_process_ends_reads_not_running_as_it_ends(
    service: SwarmService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host killed a moment ago refuses before its process is gone (the watch says it is
    unreachable, its process still there): the agent reads "not running" as the process
    ends, not at the watch's next try (made 10 minutes). The host here is a process that
    runs as the agent's host by its pid file and command line and listens on nothing."""
    monkeypatch.setattr(protocol_watch, "RETRY_S", 600.0)
    home = service.settings.home
    argv = [sys.executable, "-c", "import time; time.sleep(600)", "-m", running.HOST_MODULE,
            "--agent", AGENT]  # fmt: skip
    ending = await asyncio.create_subprocess_exec(*argv)
    running.pid_path(home, AGENT).parent.mkdir(parents=True, exist_ok=True)
    deadline = asyncio.get_running_loop().time() + 30
    while running.host_pid(home, AGENT) != ending.pid:  # its pid file, its command line read
        assert asyncio.get_running_loop().time() < deadline, running.pid_path(home, AGENT)
        running.pid_path(home, AGENT).write_text(f"{ending.pid} {started(ending.pid)}\n")
        await asyncio.sleep(0.05)

    async def offline(words: str) -> Callable[[], Awaitable[bool]]:
        async def said() -> bool:
            now = await service.store.read(agent_signals.get_state, AGENT)
            return now.state is AgentState.OFFLINE and words in now.evidence

        return said

    try:
        await swarm_reads(service, await offline("protocol host is not running (no "))
        watch = ProtocolWatch(service, Freshness())
        await watch.start()
        try:
            await reaches(watch, refused(watch))  # its process there: next try 10 min away
            ending.kill()
            await ending.wait()
            await reaches(watch, await offline("is not running (swarm desktop up --protocol"))
        finally:
            await watch.stop()
    finally:
        if ending.returncode is None:
            ending.kill()
            await ending.wait()


def test_the_journals_lives_are_told_apart_by_their_first_entry(tmp_path: Path) -> None:
    """Two lives in the older file and the journal: each numbered from 1, named by its
    first entry's ``host``; the cursor's life and those after it are unread, the running
    host's is not (swarm reads it from its socket); an unknown cursor reads nothing."""
    path = wire.journal_path(tmp_path, AGENT)
    path.parent.mkdir(parents=True)
    older = [{"seq": 1, "host": 10, "type": "session"}, {"seq": 2, "type": "turn_end"}]
    newer = [{"seq": 1, "host": 20, "type": "session"}, {"seq": 2, "type": "turn"},
             {"seq": 3, "type": "turn_end"}]  # fmt: skip
    running = [{"seq": 1, "host": 30, "type": "session"}]
    path.with_suffix(journal_file.OLDER).write_bytes(b"".join(map(wire.encode, older)))
    path.write_bytes(b"".join(map(wire.encode, newer + running)))
    lives = journal_file.lives(tmp_path, AGENT)
    assert [(life.host, len(life.entries)) for life in lives] == [(10, 2), (20, 3), (30, 1)]
    unread = journal_file.unread(tmp_path, AGENT, 10, 1, running=30)
    assert [(life.host, [e.seq for e in life.entries]) for life in unread] == [
        (10, [2]), (20, [1, 2, 3])
    ]  # fmt: skip
    assert journal_file.unread(tmp_path, AGENT, 20, 3, running=30) == []
    assert journal_file.unread(tmp_path, AGENT, 99, 3, running=30) == []
    assert journal_file.unread(tmp_path, AGENT, 0, 0, running=30) == []


class _Driver:
    """A driver whose turn ends as Claude Code's does over stream-json: its session's
    running total in the turn end's meta."""

    session = "session-1"
    process = None

    def __init__(self, total: float) -> None:
        self.total = total

    async def prompt(self, text: str) -> Ended:
        return Ended("end_turn", None, 0.5, {TOTAL_COST: self.total})


async def test_a_sessions_running_total_outlives_an_emptied_journal(tmp_path: Path) -> None:
    """A resumed session's turn costs what it adds to the total its last turn said, also
    when the journal was emptied (before: the whole running total was booked again)."""
    path = tmp_path / "Agent-1.jsonl"
    journal = Journal(path)
    host = Host(AGENT, journal)
    host.driver = _Driver(5.5)  # type: ignore[assignment]
    await host._turn(1, "work")
    await journal.close()
    path.write_bytes(b"")  # emptied (the journal is the transcript: a person may)
    again = Host(AGENT, Journal(path))
    assert again.session_spent("session-1") == 5.5
    assert again.session_spent("another") == 0.0
    await again.journal.close()


def test_a_journal_is_moved_aside_when_large_or_old_one_older_kept(tmp_path: Path) -> None:
    """A journal is never pruned while its host runs; at a host's start one over 64 MiB or
    begun over 7 days ago is moved aside (``<agent>.1.jsonl``, read too), the one before it
    dropped (hardening 5, item 4: size and age bounds)."""
    path = wire.journal_path(tmp_path, AGENT)
    path.parent.mkdir(parents=True)
    now = 2_000_000_000.0
    path.write_bytes(wire.encode({"seq": 1, "host": 7, "at": now - 86400, "type": "session"}))
    assert not journal_file.rotate(path, now)  # a day old and small: kept
    path.write_bytes(wire.encode({"seq": 1, "host": 7, "at": now - 8 * 86400, "type": "x"}))
    assert journal_file.rotate(path, now) and not path.exists()
    assert [life.host for life in journal_file.lives(tmp_path, AGENT)] == [7]  # still read
    path.write_bytes(wire.encode({"seq": 1, "host": 8, "at": now, "type": "session"}))
    with path.open("ab") as journal:
        journal.truncate(journal_file.ROTATE_BYTES + 1)
    assert journal_file.rotate(path, now)
    assert [life.host for life in journal_file.lives(tmp_path, AGENT)] == [8]  # 7's dropped
