"""The day benchmarks' audit (``bench/day_at_scale.py``, ``bench/day_alternate.py``): what
swarm's store says, read the same way on SQLite and PostgreSQL, judged against what the
agents received; the alternating run's order and its tmux/gui ratios."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.day_alternate import legs, ratios
from bench.day_at_scale import Day, judge, store_rows
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings

pytestmark = pytest.mark.both_databases


def _received(root: Path, agent: str, texts: list[tuple[str, float]]) -> None:
    folder = root / "agents"
    folder.mkdir(exist_ok=True)
    lines = [json.dumps({"text": t, "at": at}) for t, at in texts]
    (folder / f"{agent}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _header(task: int) -> str:
    return f"[swarm] from scheduler to A | task T-{task} | do it"


async def test_store_rows_reads_the_tasks_of_either_store(settings: Settings) -> None:
    service = await SwarmService.open(settings)
    try:
        ids = await service.tasks.create_many([TaskSpec(f"task {n}") for n in range(3)], "person")
        rows = await service.store.read(store_rows)
    finally:
        await service.close()
    assert set(ids) <= set(rows["status"])
    assert rows["delivered"] == [] and rows["assigned"] == {}


def test_judge_finds_lost_doubled_and_falsely_delivered(tmp_path: Path) -> None:
    day = Day(tmp_path, "", ["A", "B"], {})
    earlier = [(_header(9), 1.0), (_header(9), 2.0)]  # an earlier day's task, doubled
    _received(tmp_path, "A", [*earlier, (_header(1), 10.5), (_header(2), 11.0), (_header(2), 12.0)])
    _received(tmp_path, "B", [("broadcast 7: 42\nplease read the new guidelines", 13.0)])
    rows = {
        "assigned": {1: 10.0, 2: 10.8, 3: 11.0, 9: 0.0},
        "status": {1: "done", 2: "done", 3: "done"},
        "delivered": [
            (1, "A", _header(1)),
            (2, "B", "broadcast 7: 42\nplease read the new guidelines"),
            (3, "B", _header(3)),  # recorded delivered, never received
        ],
    }
    judged = judge(day, [1, 2, 3], rows)
    assert judged["lost"] == [3]
    assert judged["doubled"] == [2]
    assert judged["false_delivered"] == [3]
    assert sorted(round(s, 3) for s in judged["turn_start_s"]) == [0.2, 0.5]


def test_the_routes_alternate_and_ratios_are_tmux_over_gui() -> None:
    assert legs(2) == ["tmux", "gui", "tmux", "gui"]
    times = {"p50_ms": 100.0, "p99_ms": 400.0}
    tmux = {
        "broadcast_at_input": times,
        "broadcast_during_day": {},
        "assignment_to_turn_start": times,
        "cpu_pct_core_per_agent": {"idle": 0.1, "load": 0.3},
        "day_wall_s": 20.0,
    }
    gui = {
        "broadcast_at_input": {"p50_ms": 400.0, "p99_ms": 800.0},
        "broadcast_during_day": {},
        "assignment_to_turn_start": {"p50_ms": 200.0, "p99_ms": 0.0},
        "cpu_pct_core_per_agent": {"idle": 0.2, "load": 0.6},
        "day_wall_s": 40.0,
    }
    got = ratios(tmux, gui)
    assert got["broadcast_at_input_p50"] == 0.25 and got["broadcast_at_input_p99"] == 0.5
    assert got["assignment_to_turn_start_p50"] == 0.5
    assert got["assignment_to_turn_start_p99"] is None  # gui's is 0: no ratio
    assert got["broadcast_during_day_p50"] is None
    assert got["cpu_idle"] == 0.5 and got["cpu_load"] == 0.5 and got["day_wall"] == 0.5
