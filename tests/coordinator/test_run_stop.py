"""``swarm run`` in a real child process on a real Xvfb: the start banner (with the log in a
file), Ctrl+C while a delivery waits for "human active" says what it waits for, and a second
Ctrl+C stops at once saying what was left (issue 28, item 11)."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import app
from bot.app import Builder
from bot.config import Config
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import ROOT, cli_env, run_cli
from tests.pgcluster import free_port
from tests.run_child import Lines, end


@pytest.fixture
def busy_pointer(shared_xvfb: Any) -> Iterator[None]:
    """A person keeps moving the mouse: the desktop driver waits ("human active")."""
    done = threading.Event()

    def move() -> None:
        step = 0
        while not done.is_set():
            step += 1
            shared_xvfb.xdotool("mousemove", str(900 + step % 50), "500")
            time.sleep(0.05)

    mover = threading.Thread(target=move, daemon=True)
    mover.start()
    yield
    done.set()
    mover.join(10)


def _delivering(home: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "swarm.db") as conn:
        rows = conn.execute("SELECT agent_id, state FROM deliveries").fetchall()
    return [(str(a), str(s)) for a, s in rows]


@pytest.mark.timeout(120)
def test_ctrl_c_says_what_it_waits_for_and_twice_stops_at_once(
    tmp_path: Path, shared_xvfb: Any, busy_pointer: None
) -> None:
    home, log = tmp_path / "home", tmp_path / "swarm.log"
    agents = tmp_path / "agents.toml"
    agents.write_text('[[agent]]\nid = "Agent-1"\nrole = "qa"\ninput = [300, 300]\n')
    port = free_port()
    env = cli_env(home, agents) | {
        "DISPLAY": shared_xvfb.display,
        "XAUTHORITY": str(shared_xvfb.xauthority),
        "SWARM_LOG_FILE": str(log),
        "SWARM_WEB_PORT": str(port),
        "SWARM_HUMAN_WAIT": "300",  # the driver waits for the mouse far longer than the test
    }
    assert run_cli(home, "task", "add", "Review the parser", config=agents).code == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "run", "--no-discord"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out = Lines(proc)
    try:
        started = out.until("  Ctrl+C stops")
        assert started[0] == f"swarm run: started on {home} (database {home / 'swarm.db'})\n"
        assert started[1] == f"  agents:    1 (Agent-1) from {agents}\n"
        assert started[2] == f"  dashboard: http://127.0.0.1:{port}/\n"
        assert started[4] == f"  log:       {log}\n"
        give_up = time.monotonic() + 60
        while _delivering(home) != [("Agent-1", "delivering")] and time.monotonic() < give_up:
            time.sleep(0.1)
        assert _delivering(home) == [("Agent-1", "delivering")]
        proc.send_signal(signal.SIGINT)
        waiting = out.until("swarm run: stopping")[-1]
        assert waiting.startswith(
            "swarm run: stopping: waiting for the T-1 prompt to Agent-1 (delivery 1) to finish "
            "(the desktop driver may be waiting for the mouse to rest"
        )
        assert waiting.endswith("Ctrl+C again stops at once\n")
        assert proc.poll() is None  # still finishing the delivery
        proc.send_signal(signal.SIGINT)
        stopped = out.until("swarm run: stopped")[-1]
        assert stopped == (
            "swarm run: stopped at once: the T-1 prompt to Agent-1 (delivery 1) was left in "
            "flight; it is retried at the next start. Tasks keep their leases and queued "
            "deliveries wait in the database: nothing is lost\n"
        )
        assert proc.wait(30) == 130
        assert proc.stderr is not None and proc.stderr.read() == ""  # the log is in the file
        assert "coordinator started: 1 agents" in log.read_text()
    finally:
        end(proc, out)
    assert _delivering(home) == [("Agent-1", "delivering")]  # recovered at the next start
    shown = run_cli(home, "task", "show", "T-1", "--json", config=agents)
    assert '"status": "assigned"' in shown.out  # still leased to Agent-1: nothing lost


@pytest.mark.timeout(60)
def test_a_stop_with_nothing_in_flight_prints_the_stop_line(tmp_path: Path) -> None:
    home, log = tmp_path / "home", tmp_path / "swarm.log"
    env = cli_env(home) | {"SWARM_LOG_FILE": str(log), "SWARM_WEB": "off"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "run", "--no-discord"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out = Lines(proc)
    try:
        started = out.until("  Ctrl+C stops")
        assert started[2] == "  dashboard: off\n"
        proc.send_signal(signal.SIGINT)
        assert out.until("swarm run: stopping")[-1] == (
            "swarm run: stopping (Ctrl+C again stops at once)\n"
        )
        assert out.until("swarm run: stopped after ")[-1].endswith(" s\n")
        assert proc.wait(30) == 0
    finally:
        end(proc, out)


async def test_a_start_stopped_before_its_parts_are_built_closes_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl+C while ``swarm run`` starts (its database open, the hooks' files being
    rewritten) cancels the start: the database is closed, so its worker thread, which is no
    daemon, does not hold the interpreter's exit (it hung 4 times in 15 starts)."""
    rewriting = asyncio.Event()
    running: list[threading.Thread] = []

    async def rewriting_hooks(service: SwarmService) -> None:
        running.extend(threading.enumerate())
        rewriting.set()
        await asyncio.sleep(600)  # the Ctrl+C comes meanwhile

    monkeypatch.setattr(app, "_rewrite_stale_hooks", rewriting_hooks)
    settings = Settings.from_env({"SWARM_HOME": str(tmp_path / "home")})
    builder = Builder(Config({}, core=settings))
    before = set(threading.enumerate())

    async def start() -> None:
        async with builder.coordinator():
            raise AssertionError("started")

    starting = asyncio.create_task(start())
    await asyncio.wait_for(rewriting.wait(), 60)
    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting
    opened = [t for t in set(running) - before if "connection_worker" in t.name]
    assert opened, "the start opened no database"
    for thread in opened:  # aiosqlite's, no daemon: it would hold the interpreter's exit
        thread.join(10)
        assert not thread.is_alive(), thread
