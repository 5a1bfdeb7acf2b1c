"""What one hook call costs the agent: the installed hook (``python -m bot.cli.hook``, a real
process per call, as Claude Code runs it on every tool call) through the coordinator's
socket (``bot.hook_server``) against the same hook writing to the database itself.

Run: ``.venv/bin/python bench/hook_cost.py [--calls 30] [--rounds 4] [--pg] [--busy 2]``.
The two ways alternate round by round on one store (SQLite, or with ``--pg`` a throwaway
PostgreSQL cluster); ``--busy N`` keeps N processes spinning meanwhile (a loaded machine).
Prints, per way, the hook's wall time p50/p99 and its CPU (user + system, from ``wait4``)
p50/p99, and the socket's figures as ratios of the database's from the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bot.config import Config  # noqa: E402
from bot.hook_server import HookServer  # noqa: E402
from core.service.swarm import SwarmService  # noqa: E402
from core.settings import Settings  # noqa: E402

EVENT = {"session_id": "bench", "cwd": "/", "hook_event_name": "PreToolUse",
         "tool_name": "Bash", "tool_input": {"command": "make test"}}  # fmt: skip


def one_call(env: dict[str, str]) -> tuple[float, float]:
    """One hook process: its wall and CPU seconds."""
    began = time.monotonic()
    argv = [sys.executable, "-m", "bot.cli.hook", "--agent", "A"]
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, env=env, text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    assert process.stdin is not None
    process.stdin.write(json.dumps(EVENT))
    process.stdin.close()
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    return time.monotonic() - began, usage.ru_utime + usage.ru_stime


def spin() -> None:
    while True:
        pass


@contextlib.contextmanager
def busy(count: int) -> Iterator[None]:
    """``count`` processes spinning a core each while inside."""
    workers = [multiprocessing.Process(target=spin, daemon=True) for _ in range(count)]
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        for worker in workers:
            worker.terminate()


def figures(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[max(0, int(len(ordered) * 0.99 + 0.5) - 1)]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p99_ms": round(p99 * 1000, 1)}


def ratio(samples: dict[str, list[float]]) -> float:
    """The socket's median as a share of the database's."""
    return round(statistics.median(samples["socket"]) / statistics.median(samples["database"]), 2)


async def measure(env: dict[str, str], args: argparse.Namespace) -> dict[str, object]:
    service = await SwarmService.open(Settings.from_env(env))
    server = HookServer(service, Config(env))
    hook_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    walls: dict[str, list[float]] = {"socket": [], "database": []}
    cpus: dict[str, list[float]] = {"socket": [], "database": []}
    try:
        with busy(args.busy):
            for _ in range(args.rounds):
                for way in ("socket", "database"):
                    if way == "socket" and not await server.start():
                        raise SystemExit(f"the hook socket {server.path} could not be served")
                    for _ in range(args.calls):
                        wall, cpu = await asyncio.to_thread(one_call, hook_env)
                        walls[way].append(wall)
                        cpus[way].append(cpu)
                    await server.close()
    finally:
        await server.close()
        await service.close()
    shown: dict[str, object] = {
        way: {"wall": figures(walls[way]), "cpu": figures(cpus[way])} for way in walls
    }
    shown["socket/database"] = {"wall_p50": ratio(walls), "cpu_p50": ratio(cpus)}
    shown["recorded_through_socket"] = server.recorded
    return shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=30, help="hook calls per way and round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--busy", type=int, default=0, help="processes spinning meanwhile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="swarm-hc-") as tmp:
        home = Path(tmp) / "h"
        home.mkdir()
        config = Path(tmp) / "agents.toml"
        config.write_text('[[agent]]\nid = "A"\nrole = "dev"\ndelivery = "inbox"\n')
        env = {"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)}
        if not args.pg:
            result = asyncio.run(measure(env, args))
        else:
            from bench.scale import new_database, pg_programs
            from tests.pgcluster import cluster

            with cluster(pg_programs()) as server:
                env["SWARM_DATABASE_URL"] = new_database(server, "hooks")
                result = asyncio.run(measure(env, args))
    store = "PostgreSQL" if args.pg else "SQLite"
    print(json.dumps({"store": store, "busy": args.busy, **result}, indent=2))


if __name__ == "__main__":
    main()
