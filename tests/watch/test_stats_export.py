"""Stats (numbers, text table, PNG chart) and exports (CSV and JSON round trips)."""

from __future__ import annotations

import csv
import io
import json
import statistics
from pathlib import Path

import pytest
from PIL import Image

from core.agents._alerts import STALLED, open_alert
from core.errors import InvalidInput
from core.formats.jsonshape import shaped
from core.models import TaskSpec
from core.protocols import ManualClock
from core.reports import export, stats
from core.service.swarm import SwarmService
from core.store.conn import values

pytestmark = pytest.mark.both_databases

DAY = 86_400.0


async def work(
    service: SwarmService, clock: ManualClock, agent: str, minutes: float, ok: bool = True
) -> int:
    """One task pinned to ``agent``: assigned now, finished ``minutes`` later."""
    task = await service.tasks.create(TaskSpec(f"job for {agent}", agent=agent), "test")
    await service.queue.assign_batch()
    clock.advance(minutes * 60)
    if ok:
        await service.tasks.complete(task.id, agent, "ok")
    else:
        await service.tasks.fail(task.id, agent, "broken")
    return task.id


@pytest.fixture
async def history(service: SwarmService, clock: ManualClock) -> SwarmService:
    """Seven days and a bit of work: the first task falls outside ``7d``."""
    await work(service, clock, "Agent-1", 5)  # out of the window
    clock.advance(6 * DAY)
    for minutes in (10, 20, 60):
        await work(service, clock, "Agent-1", minutes)
    await work(service, clock, "Agent-2", 30)
    await work(service, clock, "Agent-2", 5, ok=False)
    await work(service, clock, "Agent-3", 1, ok=False)
    await service.store.update(
        lambda conn: open_alert(conn, service.ctx("watch"), "Agent-2", STALLED, "Agent-2 stalled")
    )
    clock.advance(DAY)
    return service


def expected(conn, since: float) -> dict[str, tuple[int, int, float | None]]:
    """Per agent (done, failed, median minutes) straight from the tasks table."""
    found: dict[str, tuple[int, int, float | None]] = {}
    rows = conn.execute(
        "SELECT assignee, status, finished_at - assigned_at FROM tasks WHERE finished_at >= $1",
        (since,),
    ).fetchall()
    rows = [values(r) for r in rows]
    for agent in {r[0] for r in rows}:
        spans = [r[2] / 60 for r in rows if r[0] == agent and r[1] == "done"]
        failed = sum(1 for r in rows if r[0] == agent and r[1] == "failed")
        found[agent] = (len(spans), failed, round(statistics.median(spans), 1) if spans else None)
    return found


async def test_stats_match_the_database(history: SwarmService, clock: ManualClock) -> None:
    found = await stats.collect(history.store, "7d")
    truth = await history.store.read(expected, clock.now() - 7 * DAY)
    assert truth == {"Agent-1": (3, 0, 20.0), "Agent-2": (1, 1, 30.0), "Agent-3": (0, 1, None)}
    rows = {a.agent: a for a in found.agents}
    assert list(rows) == [f"Agent-{i}" for i in range(1, 9)]
    for agent, (done, failed, median) in truth.items():
        assert (rows[agent].done, rows[agent].failed, rows[agent].median_minutes) == (
            done,
            failed,
            median,
        )
    assert rows["Agent-2"].failure_rate == 0.5 and rows["Agent-2"].stalls == 1
    assert rows["Agent-4"].failure_rate is None and found.done == 4 and found.failed == 2
    table = stats.render_table(found).splitlines()
    assert table[0].startswith("Swarm stats, last 7d (")
    cells = {line.split()[0]: line.split()[1:] for line in table[2:-2]}
    quiet = ["0"] * 5  # cancelled, reopened, requeued, leases expired, deliveries failed
    assert cells["Agent-1"] == ["3", "0", *quiet, "0%", "20", "0"]
    assert cells["Agent-2"] == ["1", "1", *quiet, "50%", "30", "1"]
    assert cells["Agent-3"] == ["0", "1", *quiet, "100%", "-", "0"]
    assert cells["total"] == ["4", "2", *quiet, "33%", "1"]
    assert table[-2].startswith("tasks: 4 done, 2 failed, 0 cancelled")
    assert table[-1].startswith("deliveries: ")
    wider = await stats.collect(history.store, "2w")
    assert {a.agent: a.done for a in wider.agents}["Agent-1"] == 4
    with pytest.raises(InvalidInput, match="invalid period"):
        await stats.collect(history.store, "yesterday")


async def test_stats_chart_is_a_png_whose_bars_follow_the_numbers(history: SwarmService) -> None:
    found = await stats.collect(history.store, "7d")
    png = Image.open(io.BytesIO(stats.render_png(found)))
    assert png.format == "PNG" and png.width == stats.WIDTH
    image = png.convert("RGB")
    lengths = {}
    for row, agent in enumerate(found.agents):
        y = stats._row_top(row) + stats.ROW // 2
        green = [x for x in range(image.width) if image.getpixel((x, y)) == (87, 242, 135)]
        red = [x for x in range(image.width) if image.getpixel((x, y)) == (237, 66, 69)]
        lengths[agent.agent] = (len(green), len(red))
    one, two, three = lengths["Agent-1"], lengths["Agent-2"], lengths["Agent-3"]
    assert one[0] > 0 and abs(one[0] - 3 * two[0]) <= 3 and three[0] == 0
    assert one[1] == 0 and abs(three[1] - 2 * two[1]) <= 3 and two[1] > 0
    assert lengths["Agent-8"] == (0, 0)


async def test_csv_and_json_exports_round_trip(history: SwarmService) -> None:
    await history.tasks.create(
        TaskSpec('Quote "this", then, a comma', details="line 1\nline 2 é", after=("T-1",)), "test"
    )
    tasks = shaped(
        sorted((t.to_json() for t in await history.tasks.newest()), key=lambda t: t["id"])
    )  # times as ISO text, like --json
    events = shaped([e.to_json() for e in await history.history.events(limit=100_000)])
    assert json.loads(await export.export_bytes(history.store, "tasks", "json")) == tasks
    assert json.loads(await export.export_bytes(history.store, "events", "json")) == events
    assert tuple(tasks[0]) == export.TASK_FIELDS and tuple(events[0]) == export.EVENT_FIELDS
    for what, rows in (("tasks", tasks), ("events", events)):
        text = (await export.export_bytes(history.store, what, "csv")).decode()
        parsed = list(csv.DictReader(io.StringIO(text)))
        assert parsed == [{k: export._cell(v) for k, v in row.items()} for row in rows]
        paged = "".join([c async for c in export.chunks(history.store, what, "csv", page=2)])
        assert paged == text
    last = list(
        csv.DictReader(
            io.StringIO((await export.export_bytes(history.store, "tasks", "csv")).decode())
        )
    )[-1]
    assert last["title"] == 'Quote "this", then, a comma' and last["details"] == "line 1\nline 2 é"
    assert json.loads(last["after"]) == ["T-1"] and last["agent"] == ""


async def test_exports_of_an_empty_database_and_bad_requests(service: SwarmService) -> None:
    assert json.loads(await export.export_bytes(service.store, "tasks", "json")) == []
    assert (await export.export_bytes(service.store, "tasks", "csv")).decode().splitlines() == [
        ",".join(export.TASK_FIELDS)
    ]
    with pytest.raises(InvalidInput, match="choose tasks, events, turns, budgets"):
        await export.export_bytes(service.store, "plans", "csv")
    with pytest.raises(InvalidInput, match="choose csv or json"):
        await export.export_bytes(service.store, "tasks", "xml")
    assert export.filename("tasks", "csv", 1_800_000_000) == "swarm-tasks-20270115-0800.csv"


async def test_the_turns_and_budgets_export_round_trips(
    service: SwarmService, tmp_path: Path
) -> None:
    """Issue 51, item 4: the cost ledger's turns (unknown cost empty in CSV, null in JSON)
    and the budgets set, in the export's CSV and JSON, paged like the rest."""
    from tests.costs.test_ledger import ACP, CLAUDE, Journal, assigned, with_agents

    await with_agents(service, tmp_path)
    task_id = await assigned(service, "work", "P1")
    await Journal(service, "P1").turn(usage=CLAUDE, cost_usd=0.5)
    p2 = Journal(service, "P2")
    await p2.turn(usage=ACP)
    await p2.turn(usage=ACP, meta={"model": "local-model"})
    await service.costs.set_task_budget(task_id, 2.0, "alice")
    campaign = await service.costs.create_campaign("c", [f"T-{task_id}"], "bob", 9.5)
    turns = json.loads(await export.export_bytes(service.store, "turns", "json"))
    assert [tuple(t) for t in turns] == [export.TURN_FIELDS] * 3
    first = turns[0]
    assert (first["task"], first["agent"], first["account"], first["cli"]) == (
        f"T-{task_id}",
        "P1",
        "team",
        "claude-code",
    )
    assert (first["input_tokens"], first["cache_write_tokens"]) == (1200, 700)
    assert (first["cost_usd"], first["cost_from"]) == (0.5, "cli")
    assert first["recorded_at"].endswith("Z")  # a time, as ISO text
    assert (turns[1]["task"], turns[1]["cost_usd"], turns[1]["cost_from"]) == (None, None, None)
    assert turns[2]["cost_from"] == "price"
    by_id = (await service.costs.spend())["task"]
    assert sum(t["cost_usd"] or 0 for t in turns) == pytest.approx(sum(s.cost_usd for s in by_id))
    budgets = json.loads(await export.export_bytes(service.store, "budgets", "json"))
    assert [(b["scope"], b["subject"], b["dollars"], b["set_by"]) for b in budgets] == [
        ("campaign", f"C-{campaign}", 9.5, "bob"),
        ("task", f"T-{task_id}", 2.0, "alice"),
    ]
    for what, rows in (("turns", turns), ("budgets", budgets)):
        text = (await export.export_bytes(service.store, what, "csv")).decode()
        parsed = list(csv.DictReader(io.StringIO(text)))
        assert parsed == [{k: export._cell(v) for k, v in row.items()} for row in rows]
        paged = "".join([c async for c in export.chunks(service.store, what, "csv", page=2)])
        assert paged == text
    unknown = list(
        csv.DictReader(
            io.StringIO((await export.export_bytes(service.store, "turns", "csv")).decode())
        )
    )[1]
    assert (unknown["cost_usd"], unknown["task"]) == ("", "")  # unknown: empty, not 0
