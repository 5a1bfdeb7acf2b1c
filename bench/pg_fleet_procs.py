"""The simulated fleet with its nodes in processes of their own (not one Python process).

Run: ``.venv/bin/python bench/pg_fleet_procs.py [--nodes 100] [--processes 4] [--tasks 2000]``.
As ``bench/scale.py --only fleet`` (``--nodes`` x 8 inbox agents whose simulated agents
report done as soon as a prompt arrives, 2,000 tasks), but the coordinator (scheduler,
task creation, the poll for the end) runs in this process and the nodes in ``--processes``
child processes, each serving its share of the nodes as ``swarm node`` would (its own
store with no reader pool, its LISTEN). Prints lifecycles/s, claim p50/p99, and the CPU of
each process and of PostgreSQL per lifecycle, so it can be set beside the one-process
fleet. Prints JSON lines; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pg_load import Load, _cpu
from bench.scale import (
    CompletingAgents,
    _claim_latencies,
    _done_count,
    _percentiles,
    emit,
    new_database,
    pg_programs,
    write_agents,
)
from core.coordinator.changes import ChangeListener
from core.coordinator.node import DeliveryNode
from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.pgcluster import cluster


def _settings(url: str, config: Path, home: Path) -> Settings:
    return Settings.from_env(
        {"SWARM_HOME": str(home), "SWARM_CONFIG": str(config), "SWARM_DATABASE_URL": url}
    )


async def child(
    url: str, config: Path, home: Path, first: int, last: int, inbox: bool = False
) -> None:
    """Serve nodes ``first`` .. ``last - 1`` until stdin closes (``inbox``: the prompts
    written to the agents' inboxes first)."""
    settings = _settings(url, config, home)
    services = [await SwarmService.open(settings, readers=0) for _ in range(first, last)]
    nodes = [
        DeliveryNode(s, CompletingAgents(s, inbox=inbox), f"n{k}", lease_s=60)
        for k, s in zip(range(first, last), services, strict=True)
    ]
    stop = asyncio.Event()
    runners = [asyncio.create_task(node.run(stop)) for node in nodes]
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    stop.set()
    await asyncio.gather(*runners)
    for service in services:
        await service.close()


def spawn(
    url: str, config: Path, home: Path, first: int, last: int, inbox: bool = False
) -> subprocess.Popen[str]:
    """A child process serving nodes ``first`` .. ``last - 1`` (as ``swarm node`` would:
    ``bench/scale.py --node-processes`` starts one per node); it prints ``ready`` once its
    nodes run, and stops them when its stdin closes (``inbox``: ``child``'s)."""
    cmd = [sys.executable, __file__, "--child", url, str(config), str(home), str(first), str(last)]
    cmd += ["--inbox"] if inbox else []
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """One run: the coordinator here, the nodes in child processes."""
    bin_dir = pg_programs()
    with tempfile.TemporaryDirectory() as tmp, cluster(bin_dir) as server:
        folder = Path(tmp)
        url = new_database(server, "fleet")
        config = write_agents(folder, args.nodes, 8, True)
        coordinator = await SwarmService.open(_settings(url, config, folder / "coord"))
        share = -(-args.nodes // args.processes)
        children = [
            spawn(url, config, folder / f"c{i}", i * share, min(args.nodes, (i + 1) * share))
            for i in range(args.processes)
        ]
        for proc in children:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        listener = ChangeListener(coordinator)
        scheduler = Scheduler(coordinator, CompletingAgents(coordinator), timers=[listener])
        listener.on_change = scheduler.wake
        stop = asyncio.Event()
        with Load(server) as load:
            load.watch(coordinator, [])
            cpu_children = [_cpu(f"/proc/{p.pid}/stat") or 0.0 for p in children]
            own = resource.getrusage(resource.RUSAGE_SELF)
            runner = asyncio.create_task(scheduler.run(stop))
            start = time.perf_counter()
            for i in range(0, args.tasks, 500):
                specs = [TaskSpec(f"t{k}") for k in range(i, min(args.tasks, i + 500))]
                await coordinator.tasks.create_many(specs, "bench")
            while await coordinator.store.read(_done_count) < args.tasks:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - start
            after = [_cpu(f"/proc/{p.pid}/stat") or 0.0 for p in children]
            mine = resource.getrusage(resource.RUSAGE_SELF)
            stop.set()
            await runner
        latency = await coordinator.store.read(_claim_latencies)
        for proc in children:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(60)
        await coordinator.close()
    cost = load.result()
    per = 1000 / args.tasks
    coordinator_cpu = (mine.ru_utime + mine.ru_stime) - (own.ru_utime + own.ru_stime)
    node_cpu = [a - b for a, b in zip(after, cpu_children, strict=True)]
    return {
        "nodes": args.nodes,
        "processes": args.processes,
        "tasks": args.tasks,
        "seconds": round(elapsed, 2),
        "lifecycles_per_s": round(args.tasks / elapsed, 1),
        **_percentiles("claim", latency),
        "cpu_ms_per_lifecycle": {
            "coordinator process": round(coordinator_cpu * per, 2),
            "node processes": round(sum(node_cpu) * per, 2),
            "postgres": round(cost["cores_postgres"] * cost["window_s"] * per, 2),
        },
        "busiest_node_process_cores": round(max(node_cpu) / elapsed, 3),
        "peak_client_connections": cost["peak_client_connections"],
        "refused_too_many_clients": cost["refused_too_many_clients"],
        "load_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    if len(sys.argv) in (7, 8) and sys.argv[1] == "--child":
        url, config, home, first, last = sys.argv[2:7]
        inbox = sys.argv[7:] == ["--inbox"]
        asyncio.run(child(url, Path(config), Path(home), int(first), int(last), inbox))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=2000)
    args = parser.parse_args()
    emit({"cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2)})
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
