"""The lifecycle bench with the database a network round trip away (issue 25).

Run: ``.venv/bin/python bench/pg_latency.py [--tasks 1000] [--rtt-ms 1]``. This machine's
kernel has no ``netem`` qdisc (``tc qdisc add dev X root netem delay 1ms``: "Specified qdisc
kind is unknown"), so the delay is made by a TCP relay instead: a process of its own
(``--relay``, threads, not asyncio: its sleeps are not rounded up to the event loop's 1 ms)
between the clients and PostgreSQL's TCP port that holds each chunk ``rtt/2`` in each
direction, in order. The relay also counts, per connection, the client's request phases (the
client sends, then waits for an answer: one round trip, however many messages it pipelines),
so "round trips per lifecycle" is counted on the wire (BEGIN, COMMIT and every statement
sent on its own are round trips; the bench's own poll for the end is left out).

In one run, on a throwaway cluster (``tests/pgcluster.py``): ``SELECT 1`` ping-pong direct
(TCP), through the relay with no delay and with the delay (the relay's own cost, and the
round trip it adds, measured); then ``bench/scale.py``'s ``lifecycles()`` (the coordinator
delivering to 24 agents; 3 nodes x 8 agents) direct and through the relay. Prints JSON lines;
asserts nothing. Figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bench.scale import _POLL, emit, lifecycles, pg_programs
from tests.pgcluster import Cluster, cluster, free_port

POLL = _POLL.encode()  # the bench's poll for the end of a run: not the lifecycle's


class Counts:
    """Round trips and bytes seen by the relay (all connections)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.round_trips = 0
        self.polls = 0
        self.up_bytes = 0
        self.down_bytes = 0
        self.connections = 0

    def take(self) -> dict[str, int]:
        """The counts so far, and start again from 0."""
        with self.lock:
            out = {
                "round_trips": self.round_trips,
                "poll_round_trips": self.polls,
                "bytes_to_server": self.up_bytes,
                "bytes_to_client": self.down_bytes,
                "connections": self.connections,
            }
            self.round_trips = self.polls = self.up_bytes = self.down_bytes = 0
            self.connections = 0
        return out


def _pump(src: socket.socket, dst: socket.socket, delay_s: float, seen: Any) -> None:
    """Forward ``src`` → ``dst``, each chunk ``delay_s`` after it arrived, in order."""
    held: queue.SimpleQueue[tuple[float, bytes] | None] = queue.SimpleQueue()

    def write() -> None:
        try:
            while (item := held.get()) is not None:
                wait = item[0] - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                dst.sendall(item[1])
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        while data := src.recv(65536):
            held.put((time.perf_counter() + delay_s, data))
            seen(data)
    except OSError:
        pass
    held.put(None)
    writer.join()


def _serve(port: int, upstream: int, delay_s: float, counts: Counts) -> None:
    """Accept clients on ``port`` and relay each to PostgreSQL on ``upstream``."""
    server = socket.create_server(("127.0.0.1", port), backlog=512)
    while True:
        client, _ = server.accept()
        threading.Thread(
            target=_connection, args=(client, upstream, delay_s, counts), daemon=True
        ).start()


def _connection(client: socket.socket, upstream: int, delay_s: float, counts: Counts) -> None:
    db = socket.create_connection(("127.0.0.1", upstream))
    for sock in (client, db):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    state = {"asking": False}  # the client is in a request phase
    with counts.lock:
        counts.connections += 1

    def up(data: bytes) -> None:
        with counts.lock:
            counts.up_bytes += len(data)
            if not state["asking"]:
                counts.round_trips += 1
                counts.polls += POLL in data
            state["asking"] = True

    def down(data: bytes) -> None:
        with counts.lock:
            counts.down_bytes += len(data)
            state["asking"] = False

    other = threading.Thread(target=_pump, args=(db, client, delay_s / 2, down), daemon=True)
    other.start()
    _pump(client, db, delay_s / 2, up)
    other.join()
    client.close()
    db.close()


def relay_main(port: int, upstream: int, rtt_ms: float) -> None:
    """The relay process: serve until stdin closes; ``stats`` on stdin prints the counts
    (and this process's CPU seconds) as one JSON line and resets them."""
    counts = Counts()
    threading.Thread(
        target=_serve, args=(port, upstream, rtt_ms / 1000, counts), daemon=True
    ).start()
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            use = resource.getrusage(resource.RUSAGE_SELF)
            print(json.dumps({**counts.take(), "cpu_s": use.ru_utime + use.ru_stime}), flush=True)


class RelayProcess:
    """A relay (``--relay``) in a process of its own, in front of ``server``."""

    def __init__(self, server: Cluster, rtt_ms: float) -> None:
        self.server, self.rtt_ms = server, rtt_ms
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--relay", str(self.port), str(server.port), str(rtt_ms)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"
        self._cpu = 0.0

    def url(self, dbname: str) -> str:
        """``dbname`` through the relay."""
        return f"postgresql://{self.server.user}@127.0.0.1:{self.port}/{dbname}"

    def stats(self) -> dict[str, Any]:
        """The counts since the last call, and the relay's CPU seconds in that time."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        found: dict[str, Any] = json.loads(self.proc.stdout.readline())
        cpu = found.pop("cpu_s")
        found["relay_cpu_s"], self._cpu = round(cpu - self._cpu, 2), cpu
        return found

    def close(self) -> None:
        """Stop it."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)


def ping(url: str, rounds: int) -> dict[str, float]:
    """``SELECT 1`` ``rounds`` times on one connection: round trip p50 / p99 (ms)."""
    with psycopg.connect(url, autocommit=True) as conn:
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            times.append(time.perf_counter() - start)
    times.sort()
    return {
        "ping_p50_ms": round(statistics.median(times) * 1000, 3),
        "ping_p99_ms": round(times[int(len(times) * 0.99) - 1] * 1000, 3),
    }


def database(server: Cluster, name: str) -> str:
    """A fresh empty database; its name."""
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return name


async def lifecycle_rows(
    server: Cluster, folder: Path, relays: dict[str, RelayProcess | None], tasks: int, turn: int
) -> None:
    """Each way of reaching the database, both shapes (coordinator delivers; 3 nodes)."""
    for with_nodes in (False, True):
        for k, (way, relay) in enumerate(relays.items()):
            name = database(server, f"l{turn}_{int(with_nodes)}_{k}")
            url = server.url(name) if relay is None else relay.url(name)
            if relay is not None:
                relay.stats()  # from here on
            row = await lifecycles(folder, url, 3, 8, tasks, with_nodes)
            wire: dict[str, Any] = {}
            if relay is not None:
                wire = relay.stats()
                trips = wire["round_trips"] - wire["poll_round_trips"]
                wire["round_trips_per_lifecycle"] = round(trips / tasks, 2)
                wire["bytes_per_lifecycle"] = round(
                    (wire["bytes_to_server"] + wire["bytes_to_client"]) / tasks
                )
            emit({"way": way, "turn": turn, **row, **wire, "load_1m": os.getloadavg()[0]})


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--rtt-ms", type=float, default=1.0, help="round trip the relay adds")
    parser.add_argument("--pings", type=int, default=2000)
    parser.add_argument("--turns", type=int, default=1, help="rounds of all the rows")
    args = parser.parse_args()
    bin_dir = pg_programs()
    emit({"cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2)})
    with tempfile.TemporaryDirectory() as tmp, cluster(bin_dir) as server:
        relays: dict[str, RelayProcess | None] = {"direct": None}
        try:
            relays["relay-0ms"] = RelayProcess(server, 0.0)
            relays[f"relay-{args.rtt_ms:g}ms"] = RelayProcess(server, args.rtt_ms)
            for way, relay in relays.items():
                url = server.url() if relay is None else relay.url("postgres")
                emit({"way": way, **ping(url, args.pings)})
            for turn in range(1, args.turns + 1):
                await lifecycle_rows(server, Path(tmp), relays, args.tasks, turn)
        finally:
            for relay in relays.values():
                if relay is not None:
                    relay.close()
    emit({"load_1m_after": round(os.getloadavg()[0], 2)})


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--relay":
        relay_main(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        asyncio.run(main())
