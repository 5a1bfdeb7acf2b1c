"""Workflow benchmark: a run that fans out N items creates its tasks in one transaction.

Run: .venv/bin/python bench/workflows.py [--items 200] [--runs 20]
Times ``WorkflowBook.run`` (the one write transaction: the campaign, the tasks, their
dependencies and events) on a real SQLite file; planning (variables, expansion, the
rolled-back check) is timed apart. Prints figures; asserts nothing (target: <= 50 ms for 200).
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

from core.service.swarm import SwarmService
from core.settings import Settings
from core.workflows import Workflow, WorkflowBook


def fan_out() -> Workflow:
    """One step per item, a review of each, and a summary after all of them."""
    return (
        Workflow("bench")
        .var("items", "list", required=True)
        .step("prepare", "Prepare the batch", role="integration")
        .step("each", "Handle ${item}", for_each="items", needs=["prepare"])
        .step("summary", "Sum up", needs=["each"], role="coordination")
        .check()
    )


async def measure(items: int, runs: int) -> tuple[list[float], list[float]]:
    """Milliseconds per plan and per run."""
    plans, writes = [], []
    with tempfile.TemporaryDirectory() as tmp:
        service = await SwarmService.open(Settings.from_env({"SWARM_HOME": tmp}))
        try:
            flows = WorkflowBook(service.store)
            given = {"items": ",".join(f"item-{n}" for n in range(items))}
            for _ in range(runs):
                start = time.perf_counter()
                plan = await flows.plan(fan_out(), given)
                planned = time.perf_counter()
                await flows.run(plan, "bench")
                written = time.perf_counter()
                plans.append((planned - start) * 1000)
                writes.append((written - planned) * 1000)
        finally:
            await service.close()
    return plans, writes


def main() -> None:
    """Parse the arguments, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    plans, writes = asyncio.run(measure(args.items, args.runs))
    tasks = args.items + 2
    print(
        f"workflow run with {args.items} fanned-out items ({tasks} tasks, "
        f"{2 * args.items} dependencies), {args.runs} runs:"
    )
    print(
        f"  create (one transaction): median {statistics.median(writes):.1f} ms, "
        f"max {max(writes):.1f} ms"
    )
    print(
        f"  plan (vars, expansion, rolled-back check): median "
        f"{statistics.median(plans):.1f} ms, max {max(plans):.1f} ms"
    )


if __name__ == "__main__":
    main()
