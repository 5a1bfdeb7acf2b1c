"""Retention benchmark: database size, inbox and memory after N tasks, retention on vs off.

Simulated time (a manual clock): ``--per-day`` tasks a day; each is delivered as a real inbox
file and reported done; with retention on, a pass runs once per simulated day (the
coordinator runs one per hour) with ``--keep-days``.

Run: .venv/bin/python bench/retention.py [--tasks 20000] [--per-day 100] [--keep-days 90]
Prints figures; asserts nothing. Results are quoted in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from automation.inbox.files import InboxDeliverer
from bench.scheduler import write_config
from core.coordinator.retention import DAY_S, collect_garbage
from core.coordinator.scheduler import Scheduler
from core.models import Receipt, TaskSpec
from core.protocols import ManualClock, Parcel
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.conn import Conn


class InboxAgents:
    """Writes each prompt to the agent's inbox (file time on the simulated clock), then the
    agent reports the task done."""

    time_limit_s = None  # no deadline of its own

    def close(self) -> None:
        """Nothing to release."""

    def __init__(self, service: SwarmService, clock: ManualClock) -> None:
        self.service = service
        self.clock = clock
        self.inbox = InboxDeliverer(service.settings.inbox_dir, clock)

    async def deliver(self, parcel: Parcel) -> Receipt:
        path = await asyncio.to_thread(self.inbox.write, parcel)
        os.utime(path, (self.clock.now(), self.clock.now()))
        if parcel.task_id is not None:
            await self.service.tasks.complete(parcel.task_id, parcel.agent.id, "done")
        return Receipt(True, None, "inbox")


def rss_mib() -> float:
    """Resident memory of this process now."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


async def run(tasks: int, per_day: int, keep_days: float | None) -> dict[str, object]:
    """Play ``tasks`` tasks; return sizes and memory samples."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clock = ManualClock(time.time() - (tasks / per_day + 1) * DAY_S)
        settings = Settings.from_env(
            {"SWARM_HOME": str(folder / "home"), "SWARM_CONFIG": str(write_config(folder))}
        )
        service = await SwarmService.open(settings, clock)
        scheduler = Scheduler(service, InboxAgents(service, clock))
        memory, started = [], time.perf_counter()
        try:
            for day in range(tasks // per_day):
                specs = [
                    TaskSpec(f"day {day} task {n}", details="do the thing " * 20)
                    for n in range(per_day)
                ]
                await service.tasks.create_many(specs, "bench")
                await scheduler.run_burst()
                clock.advance(DAY_S)
                if keep_days is not None:
                    await collect_garbage(service, days=keep_days)
                if (day + 1) * per_day % 2000 == 0:
                    memory.append(((day + 1) * per_day, round(rss_mib(), 1)))
            counts = await service.store.read(_counts)
            await service.store.read(
                lambda c: c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            )
        finally:
            await service.close()
        home = settings.home
        return {
            "tasks": tasks,
            "seconds": time.perf_counter() - started,
            **counts,
            "db_bytes": folder_bytes(home)
            - folder_bytes(home / "inbox")
            - folder_bytes(home / "archive"),
            "inbox_bytes": folder_bytes(home / "inbox"),
            "inbox_files": sum(1 for p in (home / "inbox").rglob("*.txt")),
            "archive_bytes": folder_bytes(home / "archive"),
            "rss_mib": memory,
        }


def _counts(conn: Conn) -> dict[str, int]:
    return {
        t: conn.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"]
        for t in ("tasks", "events", "messages", "deliveries")
    }


def show(label: str, r: dict[str, Any]) -> None:
    mib = 1024 * 1024
    print(
        f"{label}: {r['tasks']} tasks in {r['seconds']:.0f} s; database "
        f"{r['db_bytes'] / mib:.1f} MiB ({r['events']} events, {r['messages']} messages, "
        f"{r['deliveries']} deliveries, {r['tasks']} task rows); inbox {r['inbox_files']} "
        f"files, {r['inbox_bytes'] / mib:.1f} MiB; archive {r['archive_bytes'] / mib:.1f} MiB"
    )
    print(f"  RSS (MiB) by tasks played: {r['rss_mib']}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--per-day", type=int, default=100)
    parser.add_argument("--keep-days", type=float, default=90.0)
    args = parser.parse_args()
    show("retention off", await run(args.tasks, args.per_day, None))
    show(
        f"retention on (keep {args.keep_days:g} days)",
        await run(args.tasks, args.per_day, args.keep_days),
    )


if __name__ == "__main__":
    asyncio.run(main())
