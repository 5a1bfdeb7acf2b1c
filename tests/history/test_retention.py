"""Retention: old history archived then deleted, space given back, leftovers swept, logs
rotated, ``swarm gc``."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from automation.inbox.files import InboxDeliverer
from core.coordinator.retention import DAY_S, collect_garbage
from core.coordinator.scheduler import Scheduler
from core.logs.setup import configure_logging
from core.models import TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import query, read_archive, run_cli

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


async def _finished_and_active(service: SwarmService, clock: ManualClock) -> tuple[int, int]:
    """Two tasks done (prompts delivered to inbox files), one still in progress."""
    scheduler = Scheduler(service, InboxDeliverer(service.settings.inbox_dir, clock))
    done = [await service.tasks.create(TaskSpec(f"old {n}"), "cli") for n in range(2)]
    await scheduler.run_burst()
    for task in done:
        await service.tasks.complete(task.ref, (await service.tasks.get(task.ref)).agent or "")
    await service.messages.send("Agent-3", "an old message", "cli")
    await scheduler.run_burst()
    clock.advance(100 * DAY_S)
    active = await service.tasks.create(TaskSpec("still going", agent="Agent-8"), "cli")
    await scheduler.run_burst()
    return len(done), active.id


def _rows(settings: Settings, table: str) -> list[tuple[object, ...]]:
    return query(settings, f"SELECT * FROM {table} ORDER BY id")


async def test_old_history_is_archived_then_deleted(
    service: SwarmService, clock: ManualClock, home: Path
) -> None:
    await _finished_and_active(service, clock)
    files = sorted((home / "inbox").rglob("*.txt"))
    old_files = [p for p in files if "T-3" not in p.read_text()]
    texts = sorted(p.read_text() for p in old_files)
    for path in files:  # file times on the manual clock: the active task's prompt is new
        when = clock.now() - (100 * DAY_S if path in old_files else 0)
        os.utime(path, (when, when))
    events_before = _rows(service.settings, "events")
    dry = await collect_garbage(service, dry_run=True)
    assert _rows(service.settings, "events") == events_before
    report = await collect_garbage(service)
    assert (report.events, report.messages, report.deliveries, report.inbox_files) == (
        dry.events,
        dry.messages,
        dry.deliveries,
        dry.inbox_files,
    )
    assert report.events > 10 and report.messages == 3 and report.inbox_files == 3
    kept = await service.history.events()
    assert kept and all(e.task_id in (None, 3) for e in kept)  # the active task keeps all
    assert not any(e.task_id is None and e.ts < clock.now() - DAY_S for e in kept)
    archived = read_archive(report.archive)  # type: ignore[arg-type]
    by_table = {
        t: [r for r in archived if r["table"] == t]
        for t in ("events", "messages", "deliveries", "inbox")
    }
    gone = [r for r in events_before if r[0] not in {e.id for e in kept}]
    assert [r["id"] for r in by_table["events"]] == [r[0] for r in gone]
    assert [r["text"] for r in by_table["events"]] == [r[3] for r in gone]
    # every column of each event, as stored and in the table's order
    assert [tuple(r.values())[1:] for r in by_table["events"]] == gone
    assert sorted(r["text"] for r in by_table["inbox"]) == texts
    assert not any(p.exists() for p in old_files)
    assert [p for p in files if p.exists()] == [p for p in files if p not in old_files]
    assert any("an old message" in r["text"] for r in by_table["messages"])
    again = await collect_garbage(service)
    assert (again.events, again.messages, again.inbox_files) == (0, 0, 0)


async def test_leftover_temp_files_older_than_a_minute_are_removed(
    service: SwarmService, home: Path
) -> None:
    folder = home / "inbox" / "Agent-1"
    folder.mkdir(parents=True)
    stale, fresh = folder / ".tmp-stale", folder / ".tmp-fresh"
    stale.write_text("half")
    fresh.write_text("being written")
    os.utime(stale, (stale.stat().st_mtime - 120,) * 2)
    report = await collect_garbage(service, dry_run=True)
    assert report.temp_files == 1 and stale.exists()
    report = await collect_garbage(service)
    assert report.temp_files == 1 and not stale.exists() and fresh.exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SQLite's own file
async def test_an_old_database_is_converted_once_then_vacuumed_incrementally(
    settings: Settings, clock: ManualClock
) -> None:
    service = await SwarmService.open(settings, clock)
    try:
        await service.store.read(
            lambda c: cast(sqlite3.Connection, c).executescript(
                "PRAGMA auto_vacuum = NONE; VACUUM;"
            )
        )  # as files made before retention were
        for n in range(300):
            await service.tasks.create(TaskSpec(f"task {n}", details="x" * 2000), "cli")
        for task in await service.tasks.newest(limit=1000):
            await service.tasks.cancel(task.ref, "cli")
        clock.advance(100 * DAY_S)
        first = await collect_garbage(service)
        assert first.vacuumed == "database converted to incremental auto-vacuum (VACUUM)"
        assert (
            await service.store.read(lambda c: c.execute("PRAGMA auto_vacuum").fetchone()[0]) == 2
        )
        second = await collect_garbage(service)
        assert "converted" not in second.vacuumed
    finally:
        await service.close()


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
            root.removeHandler(handler)
    root.setLevel(level)


def test_log_file_is_rotated(tmp_path: Path, root_logging: None) -> None:
    log = tmp_path / "swarm.log"
    configure_logging(
        env={"SWARM_LOG_FILE": str(log), "SWARM_LOG_MAX_BYTES": "10000", "SWARM_LOG_BACKUPS": "2"}
    )
    for n in range(500):
        logging.getLogger("tests.rotation").warning("line %d to fill the log %s", n, "x" * 40)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["swarm.log", "swarm.log.1", "swarm.log.2"]
    assert all(p.stat().st_size <= 10_000 for p in tmp_path.iterdir())
    assert "line 499 " in log.read_text()


def test_gc_command(home: Path) -> None:
    assert run_cli(home, "task", "add", "x").code == 0
    assert run_cli(home, "task", "cancel", "T-1").code == 0
    dry = run_cli(home, "gc", "--dry-run", "--keep-days", "0")
    assert dry.code == 0 and dry.out.startswith("would remove 3 events, 0 messages"), dry
    done = run_cli(home, "gc", "--keep-days", "0")
    assert done.code == 0 and done.out.startswith("removed 3 events"), done
    assert "archived to " in done.out and (home / "archive").is_dir()
    refused = run_cli(home, "gc", "--keep-days", "-1")
    assert refused.code == 2 and refused.err.count("\n") == 1


async def test_the_running_coordinator_runs_a_pass_at_start(settings: Settings) -> None:
    """Wired in bot/app.py: a leftover temp file and old history go while it runs."""
    from tests.helpers import headless_run, recording_builder

    leftover = settings.home / "inbox" / "Agent-1" / ".tmp-crashed"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("half a prompt")
    os.utime(leftover, (time.time() - 3600,) * 2)
    service = await SwarmService.open(settings)  # on the real clock
    old = await service.tasks.create(TaskSpec("long ago"), "cli")
    await service.tasks.cancel(old.ref, "cli")
    await service.store.update(lambda c: c.execute("UPDATE events SET ts = ts - 100 * 86400"))
    await service.store.update(lambda c: c.execute("UPDATE tasks SET finished_at = 1"))
    try:
        async with headless_run(recording_builder(settings)) as runner:
            for _ in range(500):
                if not leftover.exists() and not await service.history.events(task=old.ref):
                    break
                assert not runner.done()
                await asyncio.sleep(0.02)
            assert not leftover.exists() and await service.history.events(task=old.ref) == []
            assert list((settings.home / "archive").glob("*.jsonl.gz"))
    finally:
        await service.close()
