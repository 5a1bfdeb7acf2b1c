"""A ``swarm node`` that types into real chat windows, killed with kill -9 at random moments.

Beside two inbox nodes and two coordinators on one database, node ``desk-gui`` delivers with
the desktop driver into three windows of the session's desktop on the shared Xvfb
(``apps_desktop``: a Chromium chat page, the prompt_toolkit chat in an xterm, a Tk chat), with
the applications' default keys. What the windows recorded decides: every prompt arrived whole,
alone (never glued to another), once, or again only as a marked retry.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest

from automation.desktop.virtual_desktop import kill_display_clients
from core.models import DeliveryState, TaskSpec, TaskStatus
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import write_agents
from tests.pg.fleet import Fleet, inbox_texts, play_agents

COORDINATORS = ("coord-1", "coord-2")
INBOX_NODES = ("desk-1", "desk-2")
PER_NODE = 3
GUI_NODE = "desk-gui"
WINDOWS = ("Agent-1", "Agent-3", "Agent-5")  # Chromium, xterm, Tk
PER_WINDOW = 4
INBOX_TASKS = 24
# The driver's deadline (1 + 2 * 0.5 + 5 = 7 s) under the node's lease, so a killed node's
# claims go out again within seconds (the test waits out one lease after the GUI node's
# first kill); the pointer the killed driver left (no one moves it) rests 0.2 s.
GUI_TUNING = {
    "SWARM_INPUT_LOCK_TIMEOUT": "1",
    "SWARM_HUMAN_WAIT": "0.5",
    "SWARM_HUMAN_IDLE": "0.2",
    "SWARM_DELIVERY_STEPS": "5",
}
GUI_LEASE_S = 8.0
MIN_KILLS, MAX_KILLS, MAX_GUI_KILLS = 3, 5, 2  # the first two: the GUI node, the scheduler
JOB = re.compile(r"\bjob \d{3}\b")
FIRST_TASK_END = re.compile(r"T-\d+: job \d{3}")
DRIVER = " automation.desktop."  # the logger names of the driver's lines


def _agents_file(path: Path, desktop: Any) -> Path:
    """Inbox agents on desk-1 and desk-2 (role worker), the windows on desk-gui."""
    write_agents(
        path,
        [
            {"id": f"{node}-a{i}", "role": "worker", "delivery": "inbox", "node": node}
            for node in INBOX_NODES
            for i in range(1, PER_NODE + 1)
        ],
    )
    windows = "".join(
        f'\n{desktop.window(name).toml()}node = "{GUI_NODE}"\ndelivery = "gui"\n'
        for name in WINDOWS
    )
    path.write_text(path.read_text(encoding="utf-8") + windows, encoding="utf-8")
    return path


def _tasks() -> list[TaskSpec]:
    """Jobs 000-011 pinned to the windows, 012-035 for the inbox agents' role."""
    pinned = [
        TaskSpec(f"job {k:03d}", agent=WINDOWS[k % len(WINDOWS)])
        for k in range(PER_WINDOW * len(WINDOWS))
    ]
    return pinned + [
        TaskSpec(f"job {k:03d}", role="worker")
        for k in range(len(pinned), len(pinned) + INBOX_TASKS)
    ]


class Kills:
    """kill -9 at random moments: the GUI node first, within 0.5 s of the first prompt a window
    records, then the scheduler's holder, then any process; ``MAX_KILLS`` in all at most,
    ``MAX_GUI_KILLS`` of the GUI node."""

    def __init__(self, fleet: Fleet, rng: random.Random) -> None:
        self.fleet, self.rng = fleet, rng
        self.next_at: float | None = None

    def step(self, typed: int) -> None:
        kills = self.fleet.kills
        if self.next_at is None:
            if typed:
                self.next_at = time.monotonic() + self.rng.uniform(0.0, 0.5)
            return
        if time.monotonic() < self.next_at or len(kills) >= MAX_KILLS:
            return
        self.fleet.kill_and_restart(self._victim())
        self.next_at = time.monotonic() + self.rng.uniform(0.5, 2.0)

    def _victim(self) -> str:
        kills = self.fleet.kills
        if not kills:
            return GUI_NODE
        if len(kills) == 1:
            holders = [
                name
                for name in COORDINATORS
                if "coordinator started" in self.fleet.procs[name].text()
            ]
            return self.rng.choice(holders or list(COORDINATORS))
        names = [*COORDINATORS, *INBOX_NODES]
        if kills.count(GUI_NODE) < MAX_GUI_KILLS:
            names.append(GUI_NODE)
        return self.rng.choice(names)


def _typed(desktop: Any, before: dict[str, int]) -> dict[str, list[str]]:
    """What each window received since the test began."""
    return {name: desktop.texts(name)[before[name] :] for name in WINDOWS}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_gui_node_beside_inbox_nodes_kill_9_at_random_nothing_lost_or_doubled(
    tmp_path: Path, database_url: str, apps_desktop: Any
) -> None:
    config = _agents_file(tmp_path / "agents.toml", apps_desktop)
    server = apps_desktop.xserver
    display = {"DISPLAY": server.display, "XAUTHORITY": str(server.xauthority)}
    server.xdotool("mousemove", "960", "540")  # out of a corner another test left it in
    fleet = Fleet(
        tmp_path,
        database_url,
        config,
        extra_env={GUI_NODE: display | GUI_TUNING},
        leases={GUI_NODE: GUI_LEASE_S},
        verbose=(GUI_NODE,),  # the driver's steps, for a failure to be read
    )
    settings = Settings.from_env(
        {
            "SWARM_HOME": str(tmp_path / "cli"),
            "SWARM_CONFIG": str(config),
            "SWARM_DATABASE_URL": database_url,
        }
    )
    before = {name: len(apps_desktop.texts(name)) for name in WINDOWS}
    tasks = _tasks()
    kills = Kills(fleet, random.Random())
    service = await SwarmService.open(settings)
    try:
        for name in ("coord-1", *INBOX_NODES, GUI_NODE):
            fleet.launch(name)
        fleet.procs["coord-1"].wait_for("coordinator started")
        fleet.launch("coord-2")
        await service.tasks.create_many(tasks, "test")
        done: set[int] = set()
        deadline = time.monotonic() + 90
        while len(done) < len(tasks) or len(fleet.kills) < MIN_KILLS:
            assert time.monotonic() < deadline, (
                f"{len(done)} of {len(tasks)} done; kills {fleet.kills}; "
                f"windows got {_counts(apps_desktop, before)}; "
                f"{GUI_NODE} logged:\n{_gui_log(tmp_path)}"
            )
            await play_agents(service, done)
            kills.step(sum(map(len, _typed(apps_desktop, before).values())))
            await asyncio.sleep(0.1)
        finished = await service.tasks.newest(status="done", limit=1000)
        deliveries = await service.messages.deliveries(limit=10_000)
    finally:
        await service.close()
        fleet.stop()
        kill_display_clients(server.display, "xsel")  # the stopped drivers' clipboards
    assert len(finished) == len(tasks) and all(t.status is TaskStatus.done for t in finished)
    assert all(d.state is DeliveryState.delivered for d in deliveries), fleet.kills
    typed = _typed(apps_desktop, before)
    try:
        _check_windows(typed, fleet.kills)
        _check_copies(tasks, typed, inbox_texts(tmp_path), fleet.kills)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{GUI_NODE} logged:\n{_gui_log(tmp_path)}") from None


def _counts(desktop: Any, before: dict[str, int]) -> dict[str, int]:
    """How many texts each window received since the test began."""
    return {name: len(texts) for name, texts in _typed(desktop, before).items()}


def _gui_log(folder: Path, lines: int = 80) -> str:
    """The last lines of the desktop driver every run of the GUI node logged (what a window
    was sent, how each step showed)."""
    logs = sorted(folder.glob(f"{GUI_NODE}.*.log"), key=lambda p: int(p.stem.split(".")[-1]))
    text = "".join(f"--- {p.name}\n{p.read_text(errors='replace')}" for p in logs)
    kept = [line for line in text.splitlines() if line.startswith("---") or DRIVER in line]
    return "\n".join(kept[-lines:])


def _check_windows(typed: dict[str, list[str]], kills: list[str]) -> None:
    """Each text a window received is one whole prompt of one of its own jobs."""
    for name, texts in typed.items():
        assert texts, f"{name} received nothing (kills: {kills})"
        for text in texts:
            assert text.count("[swarm] from ") == 1, (name, text, kills)  # never glued
            assert f" to {name} | task " in text, (name, text, kills)
            last = text.rstrip().splitlines()[-1]  # whole: the report line, or a first
            # task's own line (its role text above lists the commands: no report line)
            whole = last.endswith('--reason "why")') or FIRST_TASK_END.fullmatch(last)
            assert whole, (name, text, kills)
            assert len(JOB.findall(text)) == 1, (name, text, kills)


def _check_copies(
    tasks: list[TaskSpec], typed: dict[str, list[str]], files: list[str], kills: list[str]
) -> None:
    """Every job reached its agent: one first copy at most, any other marked as a retry."""
    received = [text for texts in typed.values() for text in texts] + files
    for spec in tasks:
        copies = [text for text in received if spec.title in text]
        assert copies, f"{spec.title} never reached its agent (kills: {kills})"
        assert sum("RETRY" not in _header(text) for text in copies) <= 1, (
            spec.title,
            copies,
            kills,
        )
        if spec.agent is not None:
            assert any(spec.title in text for text in typed[spec.agent]), (spec.title, kills)


def _header(text: str) -> str:
    """The envelope's first line (after the onboarding, on an agent's first task)."""
    return next((line for line in text.splitlines() if line.startswith("[swarm] from ")), text)
