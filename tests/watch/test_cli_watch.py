"""``swarm schedule|stats|export|alerts`` and the agent states, through the real CLI."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from pathlib import Path

from PIL import Image

from core.coordinator.jobs import Watcher
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import run_cli
from tests.watch.conftest import FakeFrames, assign, watch_settings


def count(home: Path, table: str) -> int:
    with sqlite3.connect(home / "swarm.db") as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_schedule_add_list_remove(home: Path) -> None:
    added = run_cli(
        home,
        "schedule",
        "add",
        "--role",
        "qa",
        "--cron",
        "0 9 * * 1-5",
        "Run the test suite",
        "--json",
    )
    assert added.code == 0, added.err
    prompt = json.loads(added.out)
    assert (prompt["id"], prompt["target"], prompt["cron"]) == ("S-1", "role:qa", "0 9 * * 1-5")
    summary = run_cli(home, "schedule", "add", "--summary", "--every", "12h", "--period", "12h")
    assert summary.code == 0 and summary.out.startswith("S-2: summary of 12h, every 12h (next ")
    listed = run_cli(home, "schedule", "list")
    assert listed.code == 0
    assert [line.split()[0] for line in listed.out.splitlines()] == ["ID", "S-1", "S-2"]
    removed = run_cli(home, "schedule", "remove", "s-1")
    assert removed.code == 0 and removed.out.startswith("S-1 removed")
    assert [s["id"] for s in json.loads(run_cli(home, "schedule", "list", "--json").out)] == ["S-2"]
    again = run_cli(home, "schedule", "remove", "S-1")
    assert again.code == 2 and again.err == "swarm: error: unknown schedule S-1\n"


def test_schedule_add_refuses_bad_input_with_one_line_and_writes_nothing(home: Path) -> None:
    bad = run_cli(home, "schedule", "add", "--all", "--cron", "0 24 * * *", "hello")
    assert bad.code == 2 and bad.out == ""
    assert bad.err == (
        "swarm: error: invalid cron expression '0 24 * * *': Error validating "
        "expression '24': the last value (24) is higher than the maximum value "
        "(23)\n"
    )
    for args in (
        ("--agent", "Agent-3", "--every", "30", "hi"),
        ("--summary", "--every", "1h", "some text"),
        ("--agent", "Agent-3", "--every", "1h"),
    ):
        refused = run_cli(home, "schedule", "add", *args)
        assert refused.code == 2 and len(refused.err.splitlines()) == 1, refused.err
    no_target = run_cli(home, "schedule", "add", "--cron", "0 9 * * *", "hi")
    assert no_target.code == 2 and "one of the arguments" in no_target.err
    assert count(home, "schedules") == 0 and count(home, "events") == 0


async def test_stats_and_export_commands(home: Path, settings: Settings, tmp_path: Path) -> None:
    clock = ManualClock(time.time() - 3600)  # the CLI counts back from the real time
    service = await SwarmService.open(settings, clock)
    try:
        task_id = await assign(service, "Agent-2")
        clock.advance(600)
        await service.tasks.complete(task_id, "Agent-2", "done")
    finally:
        await service.close()
    png = tmp_path / "stats.png"
    shown = run_cli(home, "stats", "--period", "31d", "--png", str(png), "--json")
    assert shown.code == 0, shown.err
    agents = {a["agent"]: a for a in json.loads(shown.out)["agents"]}
    counted = agents["Agent-2"].pop("counts")
    assert counted["done"] == 1 and counted["failed"] == counted["reopened"] == 0
    assert agents["Agent-2"] == {
        "agent": "Agent-2",
        "done": 1,
        "failed": 0,
        "failure_rate": 0.0,
        "median_minutes_to_done": 10.0,
        "stalls": 0,
    }
    with Image.open(png) as chart:
        assert chart.format == "PNG"
    table = run_cli(home, "stats", "--period", "31d").out.splitlines()
    assert next(line for line in table if line.startswith("Agent-2")).split() == [
        "Agent-2",
        *("1", "0", "0", "0", "0", "0", "0"),  # done, failed, cancelled, reopened, requeued,
        *("0%", "10", "0"),  # leases expired, deliveries failed; fail %, median min, stalls
    ]
    out = tmp_path / "events.json"
    written = run_cli(home, "export", "--what", "events", "--format", "json", "-o", str(out))
    assert written.code == 0 and written.out == ""
    events = json.loads(out.read_text(encoding="utf-8"))
    assert [e["kind"] for e in events][-1] == "task.done" and len(events) == count(home, "events")
    tasks = list(csv.DictReader(io.StringIO(run_cli(home, "export").out)))
    assert [(t["id"], t["status"], t["agent"]) for t in tasks] == [("T-1", "done", "Agent-2")]
    assert run_cli(home, "stats", "--period", "1y").code == 2


async def test_agents_and_alerts_show_a_stalled_agent(
    home: Path, settings: Settings, clock: ManualClock
) -> None:
    service = await SwarmService.open(settings, clock)
    try:
        await assign(service, "Agent-3")
        watcher = Watcher(service, watch_settings(), FakeFrames())
        clock.advance(700)
        assert (await watcher.tick()).stalled == ["Agent-3"]
    finally:
        await service.close()
    agents = {a["id"]: a for a in json.loads(run_cli(home, "agents", "--json").out)}
    assert (agents["Agent-3"]["state"], agents["Agent-3"]["alerts"]) == ("stalled", ["stalled"])
    assert agents["Agent-4"]["state"] == "unknown"  # no signal has seen it: never "idle"
    status = run_cli(home, "status").out
    assert any(
        line.split()[:3] == ["Agent-3", "infrastructure", "stalled"] for line in status.splitlines()
    )
    alerts = json.loads(run_cli(home, "alerts", "--json").out)
    assert [(a["agent"], a["kind"]) for a in alerts] == [("Agent-3", "stalled")]
    # no frame of its screen was taken: judged on reports and hooks
    assert "Agent-3 stalled: no report or hook for 12 min on T-1" in run_cli(home, "alerts").out
