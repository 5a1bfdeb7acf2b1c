"""Another process's write seen by the scheduler on SQLite: from a message's commit on a
second connection (a person's ``swarm send``, ``task cancel``) to its delivery, with the
scheduler's change poll as it is (``CHANGE_POLL_S``) and at the loop's own 0.5 s poll (the
baseline: how it was before), alternating, in one run; and the loop's CPU while idle.

Run: .venv/bin/python bench/change_seen.py [--sends 20] [--idle 20]
Prints figures; asserts nothing. Results are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.coordinator import scheduler as scheduler_module
from core.coordinator.scheduler import Scheduler
from core.models import Receipt
from core.protocols import Parcel
from core.service.swarm import SwarmService
from core.settings import Settings

BASELINE_S = 0.5  # the loop's poll_s: what another process's write waited for before


class Arrivals:
    """A deliverer that notes when each parcel arrived."""

    time_limit_s = None

    def __init__(self) -> None:
        self.at: list[float] = []
        self.arrived = asyncio.Event()

    async def deliver(self, parcel: Parcel) -> Receipt:
        self.at.append(time.monotonic())
        self.arrived.set()
        return Receipt.delivered("bench")

    def close(self) -> None:
        """Nothing to release."""


def home_in(folder: Path) -> Settings:
    """A fresh home in ``folder`` with one inbox agent."""
    folder.mkdir(parents=True)
    (folder / "agents.toml").write_text('[[agent]]\nid = "I-1"\nrole = "dev"\ndelivery = "inbox"\n')
    return Settings(home=folder / "home", config_path=folder / "agents.toml")


async def latencies(settings: Settings, poll_s: float, sends: int) -> tuple[list[float], float]:
    """Seconds from each commit on another connection to its delivery, and the process's
    CPU-s over ``IDLE_S`` of nothing to do after them."""
    scheduler_module.CHANGE_POLL_S = poll_s
    service = await SwarmService.open(settings)
    other = await SwarmService.open(settings)
    arrivals = Arrivals()
    stop = asyncio.Event()
    runner = asyncio.create_task(Scheduler(service, arrivals).run(stop))
    found = []
    try:
        await asyncio.sleep(1.0)
        for n in range(sends):
            await asyncio.sleep(0.37 + 0.11 * (n % 5))  # a person's pace, off the poll's beat
            arrivals.arrived.clear()
            sent = time.monotonic()
            await other.messages.send("I-1", f"hello {n}", "me")
            await asyncio.wait_for(arrivals.arrived.wait(), 10.0)
            found.append(arrivals.at[n] - sent)
        cpu = time.process_time()
        await asyncio.sleep(IDLE_S)
        idle = time.process_time() - cpu
    finally:
        stop.set()
        await runner
        await other.close()
        await service.close()
    return found, idle


IDLE_S = 20.0


async def main() -> None:
    global IDLE_S
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=20)
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle CPU measured")
    args = parser.parse_args()
    IDLE_S = args.idle
    now = scheduler_module.CHANGE_POLL_S
    results: dict[float, tuple[list[float], float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_, poll in enumerate((BASELINE_S, now, BASELINE_S, now)):
            found, idle = await latencies(home_in(Path(tmp) / f"r{round_}"), poll, args.sends)
            seen, cpu = results.get(poll, ([], 0.0))
            results[poll] = (seen + found, cpu + idle)
    base, cur = results[BASELINE_S], results[now]
    for label, (seen, cpu) in (("baseline 0.5 s", base), (f"now {now:g} s", cur)):
        print(f"{label}: commit to delivery median {statistics.median(seen) * 1000:.0f} ms, "
              f"max {max(seen) * 1000:.0f} ms ({len(seen)} sends); idle loop "
              f"{cpu / (2 * IDLE_S) * 100:.2f}% of a core")  # fmt: skip
    ratio = statistics.median(cur[0]) / statistics.median(base[0])
    print(f"ratio (now / baseline): median {ratio:.2f}, "
          f"idle CPU {cur[1] / max(base[1], 1e-9):.2f}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
