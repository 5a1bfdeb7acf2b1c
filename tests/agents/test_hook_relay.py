"""The hooks' fast path (issue 38, item 8): the installed hook (``python -m bot.cli.hook``, a
real process) hands its event to the coordinator's socket (``bot.hook_server`` over a real
SQLite store) instead of opening the database itself; with no coordinator, a stale socket
file or one that never answers, it records through the database as before, and nothing an
agent writes stops the socket."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import hook_relay
from bot.config import Config
from bot.hook_server import HookServer
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import cli_env, write_agents

NOWHERE = "postgresql://nobody@127.0.0.1:1/nothing"  # the database path fails at once
PRE_TOOL = {"session_id": "s", "cwd": "/", "hook_event_name": "PreToolUse",
            "tool_name": "Bash", "tool_input": {"command": "make test"}}  # fmt: skip


@dataclass
class Relay:
    """A coordinator's hook socket over a real store, and the env its agents' hooks get."""

    service: SwarmService
    server: HookServer
    env: dict[str, str]


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[Relay]:
    # a short folder: a Unix socket's path is at most ~100 bytes
    home = Path(os.environ.get("TMPDIR", "/tmp")) / f"swarm-hr-{os.getpid()}-{time.time_ns()}"
    home.mkdir()
    config = write_agents(tmp_path / "agents.toml", [{"id": "A", "role": "dev",
                                                       "delivery": "inbox"}])  # fmt: skip
    env = {"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)}
    service = await SwarmService.open(Settings.from_env(env))
    server = HookServer(service, Config(env))
    assert await server.start()
    try:
        yield Relay(service, server, cli_env(home, config, env={"SWARM_CONFIG": str(config)}))
    finally:
        await server.close()
        await service.close()
        assert not server.path.exists()
        shutil.rmtree(home)


async def run_hook(env: dict[str, str], body: object) -> subprocess.CompletedProcess[str]:
    """The installed hook, as Claude Code runs it: its JSON on stdin."""
    text = body if isinstance(body, str) else json.dumps(body)
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot.cli.hook", "--agent", "A"], input=text,
        env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip


async def state_of(service: SwarmService) -> str:
    return str((await service.explain_agent("A"))["state"])


async def test_a_hook_reports_through_the_coordinators_socket(relay: Relay) -> None:
    """The hook's own database path cannot work here (SWARM_DATABASE_URL names no server):
    the state comes through the socket, and the socket is the owner's only."""
    done = await run_hook({**relay.env, "SWARM_DATABASE_URL": NOWHERE}, PRE_TOOL)
    assert done.returncode == 0 and done.stdout == "", done.stderr
    await relay.server.written()
    assert relay.server.recorded == 1
    assert await state_of(relay.service) == "working"
    assert relay.server.path.stat().st_mode & 0o777 == 0o600
    stop = {"session_id": "s", "cwd": "/", "hook_event_name": "Stop"}
    await run_hook({**relay.env, "SWARM_DATABASE_URL": NOWHERE}, stop)
    await relay.server.written()
    assert relay.server.recorded == 2 and await state_of(relay.service) == "idle"


async def test_a_busy_database_does_not_hold_the_agents_hook(relay: Relay) -> None:
    """The socket answers once it has the event and writes after, in the order the events
    came: a database busy for seconds (another writer's transaction) keeps no agent CLI
    waiting for its hook, and a turn's ``Stop`` is not overtaken by its ``PreToolUse``."""
    busy = sqlite3.connect(relay.service.settings.db_path, isolation_level=None)
    busy.execute("BEGIN IMMEDIATE")  # the write lock, held
    try:
        stop = {"session_id": "s", "cwd": "/", "hook_event_name": "Stop"}
        for body in (PRE_TOOL, stop):
            began = time.monotonic()
            done = await run_hook({**relay.env, "SWARM_DATABASE_URL": NOWHERE}, body)
            assert done.returncode == 0 and time.monotonic() - began < hook_relay.RELAY_WAIT_S
        # nothing written yet (the service's own reads would queue behind its blocked write)
        assert relay.server.recorded == 0
    finally:
        busy.execute("ROLLBACK")
        busy.close()
    await relay.server.written()
    assert relay.server.recorded == 2 and await state_of(relay.service) == "idle"


async def test_a_stop_records_what_the_socket_took(relay: Relay) -> None:
    busy = sqlite3.connect(relay.service.settings.db_path, isolation_level=None)
    busy.execute("BEGIN IMMEDIATE")
    await run_hook({**relay.env, "SWARM_DATABASE_URL": NOWHERE}, PRE_TOOL)
    closing = asyncio.create_task(relay.server.close())
    await asyncio.sleep(0.5)
    assert not closing.done()  # it waits for the event taken to be written
    busy.execute("ROLLBACK")
    busy.close()
    await closing
    assert relay.server.recorded == 1 and await state_of(relay.service) == "working"


async def test_a_permission_request_waits_for_the_events_taken_before_it(relay: Relay) -> None:
    """The PermissionRequest hook opens its prompt through the database: first the socket
    writes what it took of the turn, so the turn's own UserPromptSubmit, written late, never
    closes the prompt as "the agent moved on" (it did, twice in 54, in a day with 32 real
    CLIs before this)."""
    busy = sqlite3.connect(relay.service.settings.db_path, isolation_level=None)
    busy.execute("BEGIN IMMEDIATE")
    try:
        submit = {"session_id": "s", "cwd": "/", "hook_event_name": "UserPromptSubmit",
                  "prompt": "do it"}  # fmt: skip
        await run_hook({**relay.env, "SWARM_DATABASE_URL": NOWHERE}, submit)
        flushing = asyncio.create_task(asyncio.to_thread(hook_relay.flush, relay.env))
        await asyncio.sleep(1.0)
        assert not flushing.done() and relay.server.recorded == 0
    finally:
        busy.execute("ROLLBACK")
        busy.close()
    assert await flushing and relay.server.recorded == 1
    assert await state_of(relay.service) == "working"


async def test_a_probe_of_the_socket_is_no_message(
    relay: Relay, caplog: pytest.LogCaptureFixture
) -> None:
    # what another swarm process's start does to see whether this one serves
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.connect(str(relay.server.path))
    await asyncio.sleep(0.3)
    assert "not taken" not in caplog.text


async def test_what_the_socket_does_not_take_goes_to_the_database(relay: Relay) -> None:
    """A permission prompt (it waits for its answer) and a hook of another agents file are
    not the socket's: the hook takes its database path."""
    asks = {**PRE_TOOL, "hook_event_name": "PermissionRequest"}
    assert not await asyncio.to_thread(hook_relay.send, json.dumps(asks), "A", relay.env)
    other = {**relay.env, "SWARM_CONFIG": str(Path(relay.env["SWARM_CONFIG"]).parent / "x")}
    assert not await asyncio.to_thread(hook_relay.send, json.dumps(PRE_TOOL), "A", other)
    assert relay.server.recorded == 0
    assert await asyncio.to_thread(hook_relay.send, json.dumps(PRE_TOOL), "A", relay.env)


async def test_hostile_lines_never_stop_the_socket(relay: Relay) -> None:
    """Lines that are no relay message, an event that is no hook's, a name that is no
    agent's: each ends its own connection; the next hook is recorded."""

    def exchange(data: bytes) -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(relay.server.path))
            try:
                sock.sendall(data)
                return sock.makefile("rb").readline()
            except (BrokenPipeError, ConnectionResetError):
                return b""  # cut off (a line past the limit)

    for data in (b"\xff\xfe not json\n", b"[1, 2]\n", b'{"payload": 7}\n', b"x" * 2_000_000,
                 json.dumps({"payload": "{\"hook_event_name\": \"Nope\"}"}).encode() + b"\n",
                 json.dumps({"payload": json.dumps(PRE_TOOL), "agent": "Mallory\n"}).encode()
                 + b"\n"):  # fmt: skip
        reply = await asyncio.to_thread(exchange, data)
        assert reply in (b"", b'{"done": false}\n', b'{"done": true}\n'), reply
    assert relay.server.recorded == 0
    done = await run_hook({**relay.env, "SWARM_DATABASE_URL": NOWHERE}, PRE_TOOL)
    await relay.server.written()
    assert done.returncode == 0 and relay.server.recorded == 1


async def test_a_dead_or_silent_socket_sends_the_hook_to_the_database(
    relay: Relay, tmp_path: Path
) -> None:
    """A socket file no process serves (a coordinator killed) and one whose process never
    answers: the hook records through the database, the silent one within its bound."""
    await relay.server.close()
    path = relay.server.path
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody listens
    assert path.exists()
    await run_hook(relay.env, PRE_TOOL)
    assert await state_of(relay.service) == "working"
    path.unlink()
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.bind(str(path))
    silent.listen()
    try:
        began = time.monotonic()
        await run_hook(relay.env, {"session_id": "s", "cwd": "/", "hook_event_name": "Stop"})
        took = time.monotonic() - began
    finally:
        silent.close()
        path.unlink()
    assert await state_of(relay.service) == "idle"
    assert took >= hook_relay.RELAY_WAIT_S  # it waited for the socket, then went on


async def test_a_second_coordinator_leaves_a_served_socket_alone(relay: Relay) -> None:
    second = HookServer(relay.service, Config(relay.env))
    assert not await second.start()
    assert relay.server.path.exists()
    assert await asyncio.to_thread(hook_relay.send, json.dumps(PRE_TOOL), "A", relay.env)
