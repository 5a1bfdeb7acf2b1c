"""What judging agents costs on PostgreSQL: a node's take-in of protocol journal batches and
the coordinator's watch tick, in statements, round trips to the server and CPU of this
process, for N agents.

Run: ``.venv/bin/python bench/judge_cost.py [--agents 32] [--rounds 20] [--tree DIR]``.
``--tree``: the swarm tree to measure (another revision: ``git worktree add --detach DIR
REV``), default this one; run it for both trees in turn for a baseline in the same run.

Three parts, each on a fresh database of a throwaway cluster (``tests/pgcluster.py``):
- ``stream``: each agent's batches of three answer chunks (a stream's updates);
- ``turns``: each agent's batches in turn: the prompt taken, two chunks, a tool call, the
  turn's end;
- ``tick``: the watch tick (``core.watch.stalls.tick``) over the agents, half of them
  working, half idle.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the swarm tree to measure")
    return parser.parse_args()


ARGS = _arguments()
sys.path[:0] = [str(ARGS.tree.resolve()), str(ROOT)]

import psycopg  # noqa: E402

from core.agents import Freshness, protocol_events  # noqa: E402
from core.delivery import task_of_delivery  # noqa: E402
from core.hosts.entries import read  # noqa: E402
from core.service.swarm import SwarmService  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.store.postgres import store as pg_store  # noqa: E402
from core.watch import stalls  # noqa: E402
from core.watch.settings import WatchSettings  # noqa: E402
from tests.helpers import write_agents  # noqa: E402
from tests.pgcluster import Cluster, cluster, pg_bin_dir  # noqa: E402

CHUNK: dict[str, Any] = {"type": "update", "kind": "agent_message_chunk", "text": "some words "}
TOOL: dict[str, Any] = {
    "type": "update", "kind": "tool_call", "title": "touch x", "status": "pending",
    "tool_call_id": "call-1",
}  # fmt: skip
TURN: list[list[dict[str, Any]]] = [
    [{"type": "turn", "delivery": 1, "text": "do it"}], [CHUNK, CHUNK], [TOOL],
    [{"type": "turn_end", "delivery": 1, "stop_reason": "end_turn"}],
]  # fmt: skip


class Counted:
    """The statements run through the store's PostgreSQL connections from now on, and the
    round trips to the server they took (a statement sent alone, or a pipeline of them)."""

    def __init__(self) -> None:
        self.count = 0
        self.trips = 0
        for name in ("execute", "write_later"):  # (a tree before write_later has none)
            if hasattr(pg_store.PgConn, name):
                setattr(pg_store.PgConn, name, self._counting(getattr(pg_store.PgConn, name)))
        sent, piped = psycopg.Connection.execute, psycopg.Connection.pipeline

        def execute(conn: Any, *args: Any, **kwargs: Any) -> Any:
            self.trips += conn._pipeline is None  # in a pipeline: counted at its end
            return sent(conn, *args, **kwargs)

        @contextlib.contextmanager
        def pipeline(conn: Any) -> Iterator[Any]:
            with piped(conn) as pipe:
                yield pipe
            self.trips += 1

        setattr(psycopg.Connection, "execute", execute)  # noqa: B010 (a method, replaced)
        setattr(psycopg.Connection, "pipeline", pipeline)  # noqa: B010

    def _counting(self, real: Any) -> Any:
        def counted(conn: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(conn, *args, **kwargs)

        return counted

    def reset(self) -> None:
        """Count from zero."""
        self.count = self.trips = 0


async def _service(server: Cluster, folder: Path, name: str, agents: list[str]) -> SwarmService:
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    rows: list[dict[str, object]] = [{"id": a, "role": "w", "delivery": "inbox"} for a in agents]
    config = write_agents(folder / f"{name}.toml", rows)
    return await SwarmService.open(Settings.from_env({
        "SWARM_HOME": str(folder / name), "SWARM_CONFIG": str(config),
        "SWARM_DATABASE_URL": server.url(name),
    }))  # fmt: skip


class Journals:
    """Each agent's journal entries, numbered on."""

    def __init__(self, agents: list[str]) -> None:
        self.seq = dict.fromkeys(agents, 0)

    def batch(self, agent: str, kinds: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for kind in kinds:
            self.seq[agent] += 1
            out.append({"seq": self.seq[agent], "at": time.time(), **kind})
        return out

    async def take_in(self, service: SwarmService, agent: str, kinds: list[dict[str, Any]]) -> None:
        entries = self.batch(agent, kinds)
        await service.store.write(
            agent, protocol_events.record, agent, 100, [read(e) for e in entries], Freshness(),
            task_of_delivery,
        )  # fmt: skip


async def _journal_part(
    server: Cluster, folder: Path, name: str, agents: list[str], counted: Counted
) -> dict[str, float]:
    service = await _service(server, folder, name, agents)
    try:
        journals = Journals(agents)
        for agent in agents:
            await journals.take_in(service, agent, [{"type": "session", "session": "s-1"}])
        counted.reset()
        cpu = time.process_time()
        for n in range(ARGS.rounds):
            for agent in agents:
                kinds = [CHUNK] * 3 if name == "stream" else TURN[n % len(TURN)]
                await journals.take_in(service, agent, kinds)
        batches = ARGS.rounds * len(agents)
        return _per(counted, time.process_time() - cpu, batches, "batch")
    finally:
        await service.close()


async def _tick_part(
    server: Cluster, folder: Path, agents: list[str], counted: Counted
) -> dict[str, float]:
    service = await _service(server, folder, "tick", agents)
    try:
        journals = Journals(agents)
        for n, agent in enumerate(agents):
            working: list[dict[str, Any]] = (
                [{"type": "turn", "delivery": 1}, CHUNK] if n % 2 else []
            )
            await journals.take_in(service, agent, [{"type": "session", "session": "s"}, *working])
        watch, since = WatchSettings(), time.time()
        await service.store.write("watch", stalls.tick, watch, [], since, {})
        counted.reset()
        cpu = time.process_time()
        for _ in range(ARGS.rounds):
            await service.store.write("watch", stalls.tick, watch, [], since, {})
        return _per(counted, time.process_time() - cpu, ARGS.rounds, "tick")
    finally:
        await service.close()


def _per(counted: Counted, cpu_s: float, count: int, each: str) -> dict[str, float]:
    return {
        f"statements_per_{each}": round(counted.count / count, 1),
        f"round_trips_per_{each}": round(counted.trips / count, 1),
        f"cpu_ms_per_{each}": round(cpu_s * 1000 / count, 2),
    }


async def _run(server: Cluster, folder: Path) -> dict[str, Any]:
    agents = [f"Agent-{n + 1}" for n in range(ARGS.agents)]
    counted = Counted()
    return {
        "tree": str(ARGS.tree.resolve()),
        "agents": ARGS.agents,
        "stream": await _journal_part(server, folder, "stream", agents, counted),
        "turns": await _journal_part(server, folder, "turns", agents, counted),
        "tick": await _tick_part(server, folder, agents, counted),
    }


def main() -> None:
    programs = pg_bin_dir()
    if programs is None:
        raise SystemExit("no PostgreSQL programs found (see tests/pgcluster.py)")
    with tempfile.TemporaryDirectory() as tmp, cluster(programs) as server:
        print(json.dumps(asyncio.run(_run(server, Path(tmp))), indent=2))


if __name__ == "__main__":
    main()
