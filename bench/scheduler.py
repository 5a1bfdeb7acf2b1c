"""Scheduler benchmark: task lifecycles per second and the cost of one assignment decision.

Run: .venv/bin/python bench/scheduler.py [--tasks 10000] [--decisions 1000]
Prints figures; asserts nothing. Results are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import Builder
from bot.config import Config
from core.assignment import Assignment, assign_next
from core.context import Ctx
from core.models import Receipt, TaskSpec
from core.protocols import Parcel
from core.service.swarm import SwarmService
from core.store.conn import Conn, SqliteConn

ROLES = [
    "integration",
    "architecture",
    "infrastructure",
    "qa",
    "data",
    "coordination",
    "web",
    "operations",
]


class CompletingAgents:
    """Eight simulated agents: each prompt is acknowledged and finished at once."""

    time_limit_s = None  # no deadline of its own

    def close(self) -> None:
        """Nothing to release."""

    def __init__(self, service: SwarmService) -> None:
        self.service = service
        self.done = 0

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Finish the parcel's task straight away (a plain message needs nothing)."""
        if parcel.task_id is not None:
            await self.service.tasks.complete(parcel.task_id, parcel.agent.id, "done")
            self.done += 1
        return Receipt.delivered("bench")


def write_config(folder: Path) -> Path:
    """Eight agents, one per default role."""
    path = folder / "agents.toml"
    path.write_text(
        "\n".join(
            f'[[agent]]\nid = "Agent-{i + 1}"\nrole = "{role}"\ndelivery = "inbox"\n'
            for i, role in enumerate(ROLES)
        )
    )
    return path


def builder(folder: Path) -> Builder:
    """The composition root over a fresh home in ``folder``, agents that finish at once."""
    config = Config({"SWARM_HOME": str(folder / "home"), "SWARM_CONFIG": str(write_config(folder))})
    return Builder(config, deliverer=CompletingAgents)


def random_graph(count: int, rng: random.Random) -> list[TaskSpec]:
    """Tasks with up to 3 dependencies on earlier ones, mixed priorities and roles."""
    specs = []
    for i in range(count):
        deps = rng.sample(range(max(0, i - 200), i), min(i, rng.randint(0, 3)))
        specs.append(
            TaskSpec(
                f"task {i}",
                priority=rng.randrange(4),
                role=rng.choice([None, *ROLES]),
                after=tuple(f"T-{d + 1}" for d in deps),
                ref=f"T-{i + 1}",
            )
        )
    return specs


class StatementCounter:
    """Counts the SQL statements SQLite runs (its trace callback), BEGIN/COMMIT apart."""

    def __init__(self) -> None:
        self.statements = 0
        self.transactions = 0

    def __call__(self, sql: str) -> None:
        head = sql.lstrip()[:6].upper()
        if head.startswith("BEGIN"):
            self.transactions += 1
        elif not head.startswith(("COMMIT", "ROLLBA")):
            self.statements += 1


async def lifecycles(
    count: int, seed: int, counter: StatementCounter | None = None
) -> dict[str, float]:
    """Create ``count`` tasks, then run them all to done through the real store
    (``counter``: count the run's statements, which slows it)."""
    with tempfile.TemporaryDirectory() as tmp:
        async with builder(Path(tmp)).coordinator() as parts:
            service = parts.service
            specs = random_graph(count, random.Random(seed))
            start = time.perf_counter()
            for i in range(0, count, 500):
                await service.tasks.create_many(specs[i : i + 500], "bench")
            created = time.perf_counter() - start
            if counter is not None:
                await service.store.read(lambda c: cast(SqliteConn, c).set_trace_callback(counter))
            run_start = time.perf_counter()
            await parts.scheduler.run_burst()
            ran = time.perf_counter() - run_start
            if counter is not None:
                await service.store.read(lambda c: cast(SqliteConn, c).set_trace_callback(None))
            status = (await service.status())["tasks"]
    assert status["done"] == count, status
    return {
        "tasks": count,
        "create_s": created,
        "run_s": ran,
        "per_s": count / (created + ran),
        "run_per_s": count / ran,
    }


async def statements_per_lifecycle(count: int, seed: int) -> dict[str, float]:
    """Statements and transactions per lifecycle of the run (assign, deliver, done), counted
    in a run of their own."""
    counter = StatementCounter()
    await lifecycles(count, seed, counter)
    return {
        "statements": counter.statements / count,
        "transactions": counter.transactions / count,
    }


async def decision_times(stored: int, decisions: int, seed: int) -> dict[str, float]:
    """p50/p99 of one ``assign_next`` with ``stored`` tasks in the table."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        service = await builder(Path(tmp)).service()
        try:
            return await _decisions(service, stored, decisions, rng)
        finally:
            await service.close()


async def _decisions(
    service: SwarmService, stored: int, decisions: int, rng: random.Random
) -> dict[str, float]:
    await service.store.update(_bulk_done, stored - decisions)
    await service.store.read(lambda c: c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())
    specs = [
        TaskSpec(f"ready {i}", priority=rng.randrange(4), role=rng.choice([None, *ROLES]))
        for i in range(decisions)
    ]
    for i in range(0, decisions, 500):
        await service.tasks.create_many(specs[i : i + 500], "bench")
    calls, inside = [], []
    for _ in range(decisions):
        start = time.perf_counter()
        assignment, seconds = await service.store.update(_timed_decision, service.ctx("bench"))
        calls.append(time.perf_counter() - start)
        inside.append(seconds)
        assert assignment is not None
        await service.tasks.complete(assignment.task_id, assignment.agent)
    return {"stored": stored, **_percentiles("call", calls), **_percentiles("sql", inside)}


def _timed_decision(conn: Conn, ctx: Ctx) -> tuple[Assignment | None, float]:
    """One decision, timed inside the database thread (queries and writes, no commit)."""
    start = time.perf_counter()
    chosen = assign_next(conn, ctx)
    return chosen, time.perf_counter() - start


def _percentiles(name: str, seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        f"{name}_p50_ms": statistics.median(ordered) * 1000,
        f"{name}_p99_ms": ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000,
    }


def _bulk_done(conn: Conn, count: int) -> None:
    """Insert finished tasks quickly (history the hot queries must not scan)."""
    rows = [
        (f"old {i}", i % 4, ROLES[i % 8], "done", "bench", 0.0, 0.0, f"Agent-{i % 8 + 1}")
        for i in range(count)
    ]
    conn.executemany(
        "INSERT INTO tasks (title, priority, role, status, created_by, created_at, updated_at, "
        "assignee) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        rows,
    )


async def main() -> None:
    """Run every measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--lifecycles-only", action="store_true", help="skip the assignment decision timings"
    )
    args = parser.parse_args()
    life = await lifecycles(args.tasks, args.seed)
    print(
        f"lifecycles: {life['tasks']} tasks (random DAG, up to 3 deps) created in "
        f"{life['create_s']:.2f} s, run to done in {life['run_s']:.2f} s"
    )
    print(
        f"  {life['per_s']:.0f} task lifecycles/s overall "
        f"(create+assign+deliver+done); {life['run_per_s']:.0f}/s assign+deliver+done"
    )
    counted = await statements_per_lifecycle(min(args.tasks, 2000), args.seed)
    print(
        f"  per lifecycle (assign+deliver+done, counted in a run of its own): "
        f"{counted['statements']:.2f} SQL statements in {counted['transactions']:.2f} transactions"
    )
    decisions = []
    for stored in () if args.lifecycles_only else (100, 10_000, 100_000):
        result = await decision_times(stored, min(args.decisions, stored), args.seed)
        decisions.append(result)
        print(
            f"assignment decision with {stored:>7} tasks stored: decision "
            f"p50 {result['sql_p50_ms']:.3f} ms, p99 {result['sql_p99_ms']:.3f} ms; "
            f"whole call incl. commit p50 {result['call_p50_ms']:.3f} ms, "
            f"p99 {result['call_p99_ms']:.3f} ms"
        )
    if decisions:
        first, last = decisions[0], decisions[-1]
        print(
            f"  decision p99 ratio 100k/100 stored: "
            f"{last['sql_p99_ms'] / first['sql_p99_ms']:.2f}x (1.0 = flat)"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:.0f} MiB")
    if args.json:
        print(
            json.dumps(
                {
                    "lifecycles": life,
                    "per_lifecycle": counted,
                    "decisions": decisions,
                    "peak_rss_mib": rss,
                }
            )
        )


if __name__ == "__main__":
    asyncio.run(main())
