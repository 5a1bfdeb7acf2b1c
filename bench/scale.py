"""Scale benchmark: SQLite against PostgreSQL with delivery nodes, failover, a large fleet.

Run: ``.venv/bin/python bench/scale.py [--tasks 2000] [--fleet-nodes 100] [--skip-failover]``.
Starts a throwaway PostgreSQL cluster (``tests/pgcluster.py``: fsync off, a test setting,
unless ``--durable``),
then measures in one run, each on a fresh database:

- lifecycles/s (create → assign → deliver → done; agents report done as soon as the prompt
  arrives) on SQLite (24 agents, the coordinator delivers), on PostgreSQL without nodes (the
  same 24 agents; not with ``--skip-plain``) and on PostgreSQL with 3 in-process nodes x 8
  agents; with ``--node-processes`` also with the 3 nodes each in a process of its own, as
  each desktop runs its ``swarm node`` (``bench/pg_fleet_procs.spawn``); each row with the
  CPU per lifecycle of this process, the node processes and every process of the cluster;
  ``--pg-stats``: the server's own calls and time per statement (``pg_stat_statements``);
  ``--durable``: the cluster with PostgreSQL's default durability (fsync and
  ``synchronous_commit`` on) instead of the test settings; ``--inbox``: each prompt is
  written to its agent's inbox by the real inbox deliverer (a file, fsync'd and linked)
  before the simulated agent reports done, as the agents' ``delivery = "inbox"`` says;
- claim latency (the delivery queued at assignment → claimed by its node) p50/p99;
- the drivers: one claim round trip (BEGIN; SELECT ... FOR UPDATE SKIP LOCKED; UPDATE;
  COMMIT) with psycopg 3 (sync, from a worker thread: what swarm uses), psycopg 3 async,
  and asyncpg;
- failover: kill -9 of a real ``swarm run`` holding the scheduler lock → the standby's
  ``took over`` (SWARM_FAILOVER=5);
- failover-network: the holder's machine dies (``swarm run`` in a network namespace, its
  veth link cut silently: ``tests/netcut.py``) → the standby's ``took over``, the old
  holder's ``lost the scheduler lock``; and how long a dead machine's open transaction keeps
  the write lock (root only; skipped with a reason elsewhere);
- a simulated fleet: ``--fleet-nodes`` in-process nodes x 8 agents: throughput, claim p99,
  peak and refused connections, CPU per part (``bench/pg_load.py``); twice: the agents
  report done inside the node's delivery call, then after it (as an agent's own report).
Prints JSON lines; asserts nothing. Figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from automation.inbox.files import InboxDeliverer
from core.coordinator.changes import ChangeListener
from core.coordinator.node import DeliveryNode
from core.coordinator.scheduler import Scheduler
from core.models import Receipt, TaskSpec
from core.protocols import Parcel, Timer
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.conn import values
from tests.pgcluster import DURABLE, Cluster, cluster, pg_bin_dir

ROOT = Path(__file__).resolve().parents[1]
SOCKET = "--tcp" not in sys.argv  # the Unix socket unless --tcp
PARTS = ("lifecycles", "drivers", "failover", "failover-network", "fleet")


class CompletingAgents:
    """Simulated agents: each task prompt is finished as soon as it arrives (``later``:
    reported once the delivery has returned, as an agent's own ``swarm task done`` would,
    not inside the deliverer's call; ``inbox``: each prompt is first written to the agent's
    inbox by the real inbox deliverer, as ``delivery = "inbox"`` does, and its agent reports
    done once the file is there)."""

    time_limit_s = None  # no deadline of its own

    def close(self) -> None:
        """Nothing to release."""

    def __init__(self, service: SwarmService, later: bool = False, inbox: bool = False) -> None:
        self.service = service
        self.later = later
        self.inbox = InboxDeliverer(service.settings.inbox_dir) if inbox else None
        self._reports: set[asyncio.Task[None]] = set()

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Write the parcel's file (``inbox``), then report its task done straight away."""
        if self.inbox is not None:
            written = await self.inbox.deliver(parcel)
            if not written.ok:
                return written
        if parcel.task_id is not None:
            report = self.service.tasks.complete(parcel.task_id, parcel.agent.id, "done")
            if self.later:
                task = asyncio.create_task(report)
                self._reports.add(task)
                task.add_done_callback(self._reports.discard)
            else:
                await report
        return Receipt.delivered("inbox" if self.inbox is not None else "bench")


class StatementCounter:
    """Counts the store's statements on PostgreSQL while it is entered: ``count``, each
    statement sent (``PgConn.execute``, each row of ``executemany``, and each multi-row
    INSERT of held event rows, whether flushed or sent with the COMMIT); ``events``, the
    event rows held for those INSERTs (``PgConn.add_event``); ``transactions`` (each pays a
    BEGIN and a COMMIT round trip). Counted before this session (``count_with_rows``): each
    held event row as a statement of its own, the INSERT carrying them not."""

    def __init__(self) -> None:
        self.count = 0
        self.events = 0
        self.transactions = 0
        self.by_sql: collections.Counter[str] = collections.Counter()  # --breakdown

    def __enter__(self) -> StatementCounter:
        from core.store.postgres import store as postgres
        from core.store.postgres.store import PgConn

        self._saved = (
            PgConn.execute,
            PgConn.executemany,
            PgConn.add_event,
            PgConn.flush_events,
            PgConn.held_events_sql,
            postgres._transaction,
        )
        execute, executemany, add_event, flush_events, held_events_sql, transaction = self._saved
        counter = self

        def counted(conn: PgConn, sql: str, params: Any = ()) -> Any:
            counter.count += 1
            counter.by_sql[sql] += 1
            return execute(conn, sql, params)

        def counted_many(conn: PgConn, sql: str, seq: Any) -> Any:
            counter.count += len(seq)
            counter.by_sql[sql] += len(seq)
            return executemany(conn, sql, seq)

        def counted_event(conn: PgConn, row: Any) -> None:
            counter.events += 1
            add_event(conn, row)

        def counted_flush(conn: PgConn) -> None:
            if conn._events:
                counter.count += 1
                counter.by_sql["INSERT INTO events (held rows)"] += 1
            flush_events(conn)

        def counted_held(conn: PgConn) -> str:
            text = held_events_sql(conn)
            if text:
                counter.count += 1
                counter.by_sql["INSERT INTO events (held rows, with the COMMIT)"] += 1
            return text

        def counted_transaction(*args: Any) -> Any:
            counter.transactions += 1
            return transaction(*args)

        PgConn.execute = counted  # type: ignore[method-assign,assignment]
        PgConn.executemany = counted_many  # type: ignore[method-assign,assignment]
        PgConn.add_event = counted_event  # type: ignore[method-assign,assignment]
        PgConn.flush_events = counted_flush  # type: ignore[method-assign,assignment]
        PgConn.held_events_sql = counted_held  # type: ignore[method-assign,assignment]
        postgres._transaction = counted_transaction  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        from core.store.postgres import store as postgres
        from core.store.postgres.store import PgConn

        (
            PgConn.execute,  # type: ignore[method-assign]
            PgConn.executemany,  # type: ignore[method-assign]
            PgConn.add_event,  # type: ignore[method-assign]
            PgConn.flush_events,  # type: ignore[method-assign]
            PgConn.held_events_sql,  # type: ignore[method-assign]
            postgres._transaction,
        ) = self._saved

    def figures(self, tasks: int) -> dict[str, float]:
        """Per lifecycle: statements, event rows, transactions, round trips (each statement
        but the INSERT sent with the COMMIT, plus a BEGIN and a COMMIT per transaction),
        and the count as it was made before (each event row a statement, their INSERT not)."""
        with_commit = self.by_sql["INSERT INTO events (held rows, with the COMMIT)"]
        return {
            "statements_per_lifecycle": round(self.count / tasks, 2),
            "event_rows_per_lifecycle": round(self.events / tasks, 2),
            "transactions_per_lifecycle": round(self.transactions / tasks, 2),
            "round_trips_per_lifecycle": round(
                (self.count - with_commit + 2 * self.transactions) / tasks, 2
            ),
            "counted_as_before": round(
                (self.count - with_commit - self.by_sql["INSERT INTO events (held rows)"]) / tasks
                + self.events / tasks,
                2,
            ),
        }


class ClaimTrace:
    """Splits each node claim's latency (``--only lifecycles`` with nodes): when its task's
    assignment committed (the scheduler's pass returned), when its node was last free to
    claim (its previous step, the batch it was delivering, had ended), when the claim
    returned. ``path``: from the later of the first two to the claim, i.e. the claim path
    itself (the notification, the node's wake-up, its claim statement); the rest of a
    claim's latency is the node finishing the batch in flight (here: the agents' own done
    reports, made inside each delivery)."""

    def __init__(self) -> None:
        self.committed: dict[int, float] = {}  # task id -> its assignment's commit
        self.claims: list[tuple[int, float, float]] = []  # task id, node free since, claimed

    def queue(self, queue: Any) -> None:
        """Note when each assignment pass returns (its transaction committed)."""
        for name in ("expire_then_assign", "assign_batch"):
            call = getattr(queue, name)

            async def timed(*args: Any, _call: Any = call, **kw: Any) -> Any:
                result = await _call(*args, **kw)
                made = result[1] if isinstance(result, tuple) else result
                now = time.perf_counter()
                self.committed.update((a.task_id, now) for a in made)
                return result

            setattr(queue, name, timed)

    def node(self, node: DeliveryNode) -> None:
        """Note when ``node`` was free to claim and when each claim returned."""
        step, claim = node.step, node.claim
        free = [time.perf_counter()]

        async def timed_step() -> int:
            try:
                return await step()
            finally:
                free[0] = time.perf_counter()

        async def timed_claim(agents: list[str] | None = None, limit: int | None = None) -> Any:
            since = free[0]
            claimed = await claim(agents, limit)
            now = time.perf_counter()
            self.claims += [(h.delivery.task_id or 0, since, now) for h, _ in claimed]
            return claimed

        node.step = timed_step  # type: ignore[method-assign]
        node.claim = timed_claim  # type: ignore[method-assign]

    def figures(self) -> dict[str, float]:
        """The claim path's p50/p99 and how much of a claim's latency waited for its node."""
        path = [
            done - max(self.committed[task], since)
            for task, since, done in self.claims
            if task in self.committed
        ]
        waited = [since > self.committed[t] for t, since, _ in self.claims if t in self.committed]
        return {
            **_percentiles("claim_path", path),
            "claims_waiting_for_their_node": round(sum(waited) / max(len(waited), 1), 2),
        }


def write_agents(folder: Path, nodes: int, per_node: int, with_nodes: bool) -> Path:
    """``nodes`` x ``per_node`` inbox agents (``node = "n<k>"`` when ``with_nodes``)."""
    lines = []
    for n in range(nodes):
        for i in range(per_node):
            lines += (
                ["[[agent]]", f'id = "n{n}-a{i}"', 'role = "worker"', 'delivery = "inbox"']
                + ([f'node = "n{n}"'] if with_nodes else [])
                + [""]
            )
    path = folder / f"agents-{nodes}x{per_node}-{with_nodes}.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def new_database(server: Cluster, name: str) -> str:
    """A fresh empty database's URL."""
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return server.socket_url(name) if SOCKET else server.url(name)


BREAKDOWN = False  # --breakdown: each statement's count per lifecycle, most frequent first


async def lifecycles(
    folder: Path,
    url: str | None,
    nodes: int,
    per_node: int,
    tasks: int,
    with_nodes: bool,
    watch: Callable[[SwarmService, list[SwarmService]], None] | None = None,
    done_later: bool = False,
    server: Cluster | None = None,
    node_processes: bool = False,
    inbox: bool = False,
) -> dict[str, Any]:
    """Run ``tasks`` independent tasks to done; lifecycles/s and claim latency (``watch``:
    called with the coordinator's and the nodes' services once they are open;
    ``done_later``: the nodes' agents report done after the delivery, ``CompletingAgents``;
    ``server``: the cluster whose processes' CPU is counted; ``node_processes``: each node
    in a process of its own, as ``swarm node`` runs on each desktop, ``bench/pg_fleet_procs``;
    its statements are then not counted here, only the server's ``--pg-stats`` count them;
    ``inbox``: each prompt is written to its agent's inbox before the agent reports done)."""
    config = write_agents(folder, nodes, per_node, with_nodes)
    settings = Settings.from_env(
        {
            "SWARM_HOME": str(folder / f"home-{time.time_ns()}"),
            "SWARM_CONFIG": str(config),
            "SWARM_DATABASE_URL": url or "",
        }
    )
    coordinator = await SwarmService.open(settings)
    in_process = with_nodes and not node_processes
    node_services = [  # as `swarm node` opens it: reads on its write connection
        await SwarmService.open(settings, readers=0) for _ in range(nodes if in_process else 0)
    ]
    children = (
        _node_processes(url, config, folder, nodes, inbox)
        if url and with_nodes and not in_process
        else []
    )
    if watch is not None:
        watch(coordinator, node_services)
    timers: list[Timer] = []
    listener = None
    if url:
        listener = ChangeListener(coordinator)
        timers.append(listener)
    scheduler = Scheduler(coordinator, CompletingAgents(coordinator, inbox=inbox), timers=timers)
    if listener is not None:
        listener.on_change = scheduler.wake
    fleet = [
        DeliveryNode(s, CompletingAgents(s, done_later, inbox), f"n{k}", lease_s=60)
        for k, s in enumerate(node_services)
    ]
    trace = ClaimTrace()
    trace.queue(coordinator.queue)
    for node in fleet:
        trace.node(node)
    stop = asyncio.Event()
    counter = StatementCounter()  # the bench's own poll (one count) is left out
    stats = PgStats(url) if url and PG_STATS else None
    try:
        with counter:
            runners = [asyncio.create_task(scheduler.run(stop))]
            runners += [asyncio.create_task(node.run(stop)) for node in fleet]
            if stats is not None:
                stats.reset()
            cpu = CpuWindow(server, children)
            start = time.perf_counter()
            for i in range(0, tasks, 500):
                await coordinator.tasks.create_many(
                    [TaskSpec(f"t{k}") for k in range(i, min(tasks, i + 500))], "bench"
                )
            created = time.time()  # the events' clock
            while await coordinator.store.read(_done_count) < tasks:  # noqa: ASYNC110 (polls the store)
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - start
            cpu_ms = cpu.per_lifecycle(tasks)
            stop.set()
            await asyncio.gather(*runners)
        per_statement = stats.read(tasks) if stats is not None else None
        claims = await coordinator.store.read(_claims)
        latency = [seconds for _, seconds in claims]
        retries = sum(
            getattr(getattr(s.store._db, "_conn", None), "retries", 0)  # the store's own count
            for s in [coordinator, *node_services]
        )  # write transactions run again after a conflict (none before there were any)
    finally:
        _stop_processes(children)
        for service in [coordinator, *node_services]:
            await service.close()
    return {
        "store": "postgresql" if url else "sqlite",
        "agents": nodes * per_node,
        "nodes": len(fleet) or len(children),
        "node_processes": len(children),
        "tasks": tasks,
        "inbox": inbox,
        "seconds": round(elapsed, 2),
        "lifecycles_per_s": round(tasks / elapsed, 1),
        "cpu_ms_per_lifecycle": cpu_ms,
        "load_1m": round(os.getloadavg()[0], 2),
        **_percentiles("claim", latency),
        **_percentiles("steady_claim", _steady(claims, created)),
        **(trace.figures() if fleet else {}),
        **(
            {**counter.figures(tasks), "retries_per_lifecycle": round(retries / tasks, 2)}
            if url and not children
            else {}
        ),
        **({"server_statements": per_statement} if per_statement is not None else {}),
        **(
            {
                "per_lifecycle": {
                    " ".join(sql.split())[:160]: round(n / tasks, 2)
                    for sql, n in counter.by_sql.most_common(40)
                }
            }
            if url and BREAKDOWN
            else {}
        ),
    }


_POLL = "SELECT count(*) FROM tasks WHERE status = 'done'"  # not counted as the lifecycle's
PG_STATS = False  # --pg-stats: the server's own count and time of each statement


def _node_processes(url: str, config: Path, folder: Path, nodes: int, inbox: bool) -> list[Any]:
    """One process per node (``bench/pg_fleet_procs.spawn``), each running once it said
    ``ready`` (``inbox``: its agents' prompts written to their inboxes)."""
    from bench.pg_fleet_procs import spawn

    children = []
    try:
        for k in range(nodes):
            home = folder / f"node-{time.time_ns()}"
            children.append(spawn(url, config, home, k, k + 1, inbox))
        for proc in children:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    except BaseException:
        _stop_processes(children)
        raise
    return children


def _stop_processes(children: list[Any]) -> None:
    """Close each node process's stdin (it stops its nodes) and wait for it."""
    for proc in children:
        if proc.stdin is not None and not proc.stdin.closed:
            proc.stdin.close()
    for proc in children:
        proc.wait(60)


class CpuWindow:
    """CPU (user + system) from its creation to ``per_lifecycle()`` of this process (the
    coordinator, and the nodes when they run here), the node processes, and the cluster's
    processes (every backend, the LISTENs and the background ones included; a backend born
    during the window counts whole)."""

    def __init__(self, server: Cluster | None, children: list[Any]) -> None:
        from bench.pg_load import _cpu, server_cpu

        self._cpu, self._server_cpu = _cpu, server_cpu
        self.server = server
        self.children = children
        self._own = self._self_cpu()
        self._kids = [self._cpu(f"/proc/{p.pid}/stat") or 0.0 for p in children]
        self._pg = server_cpu(server) if server is not None else {}

    @staticmethod
    def _self_cpu() -> float:
        import resource

        used = resource.getrusage(resource.RUSAGE_SELF)
        return used.ru_utime + used.ru_stime

    def per_lifecycle(self, tasks: int) -> dict[str, float]:
        """ms of CPU per lifecycle: this process, the node processes, PostgreSQL, all."""
        own = self._self_cpu() - self._own
        kids = sum(
            (self._cpu(f"/proc/{p.pid}/stat") or 0.0) - before
            for p, before in zip(self.children, self._kids, strict=True)
        )
        pg = 0.0
        if self.server is not None:
            pg = sum(c - self._pg.get(pid, 0.0) for pid, c in self._server_cpu(self.server).items())
        parts = {"bench process": own, "node processes": kids, "postgres": pg}
        parts["all"] = own + kids + pg
        return {k: round(v * 1000 / tasks, 3) for k, v in parts.items()}


class PgStats:
    """The server's own figures of a run (``pg_stat_statements``, ``--pg-stats``): per
    statement, calls and execution time per lifecycle, the bench's own poll left out."""

    def __init__(self, url: str) -> None:
        self.url = url
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def reset(self) -> None:
        """Forget what was counted so far (the whole cluster's)."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SELECT pg_stat_statements_reset()")

    def read(self, tasks: int, top: int = 25) -> dict[str, Any]:
        """Calls, exec and plan ms per lifecycle of the ``top`` statements by time, and all
        statements' totals."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT query, calls, total_exec_time, total_plan_time, rows "
                "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                "WHERE d.datname = current_database() AND query NOT LIKE '%pg_stat_statements%' "
                "AND query NOT LIKE 'SELECT count(*) FROM tasks WHERE status%' "
                "ORDER BY total_exec_time + total_plan_time DESC"
            ).fetchall()
        per = 1 / tasks
        return {
            "calls_per_lifecycle": round(sum(r[1] for r in rows) * per, 2),
            "exec_ms_per_lifecycle": round(sum(r[2] for r in rows) * per, 3),
            "plan_ms_per_lifecycle": round(sum(r[3] for r in rows) * per, 3),
            "top": [
                {
                    "sql": " ".join(str(r[0]).split())[:140],
                    "calls": round(r[1] * per, 3),
                    "exec_ms": round(r[2] * per, 4),
                    "plan_ms": round(r[3] * per, 4),
                    "rows": round(r[4] * per, 2),
                }
                for r in rows[:top]
            ],
        }


def _done_count(conn: Any) -> int:
    """How many tasks are done (the bench's poll: one statement, left out of the counts: on
    PostgreSQL it goes to the driver's connection, past ``PgConn.execute``)."""
    run = conn.raw.execute if hasattr(conn, "raw") else conn.execute
    return int(values(run(_POLL).fetchone())[0])


def _claim_latencies(conn: Any) -> list[float]:
    """Per task prompt: its ``task.assigned`` event (the delivery is queued) → the first
    ``delivery.claimed`` of that task."""
    return [latency for _, latency in _claims(conn)]


def _steady(claims: list[tuple[float, float]], created: float) -> list[float]:
    """The claim latencies of prompts assigned after the first assignment pass (its tasks
    share one ``task.assigned`` time) and after the last of the bench's ``create_tasks``
    returned (``created``, wall clock): the steady state, start-up left out."""
    first = min((at for at, _ in claims), default=0.0)
    return [latency for at, latency in claims if at > first and at > created]


def _claims(conn: Any) -> list[tuple[float, float]]:
    """Per task prompt: when it was assigned, and the latency ``_claim_latencies`` gives."""
    assigned: dict[int, float] = {}
    latency = []
    for kind, task_id, ts in map(
        values,
        conn.execute(
            "SELECT kind, task_id, ts FROM events WHERE kind IN ('task.assigned', "
            "'delivery.claimed') AND task_id IS NOT NULL ORDER BY id"
        ),
    ):
        if kind == "task.assigned":
            assigned[task_id] = ts
        elif task_id in assigned:
            at = assigned.pop(task_id)
            latency.append((at, ts - at))
    return latency


def _percentiles(name: str, seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {}
    ordered = sorted(seconds)
    return {
        f"{name}_p50_ms": round(statistics.median(ordered) * 1000, 2),
        f"{name}_p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 2),
    }


CLAIM_SQL = (
    "SELECT id FROM deliveries WHERE state = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
)
MARK_SQL = "UPDATE deliveries SET state = 'delivering', attempts = attempts + 1 WHERE id = {}"


async def drivers(server: Cluster, claims: int) -> list[dict[str, Any]]:
    """One claim round trip per driver, ``claims`` times, each driver on a fresh database
    holding the same queued rows; the drivers run in the order A B C, then C B A."""
    order = [
        ("psycopg (sync, worker thread)", _psycopg_sync),
        ("psycopg (async)", _psycopg_async),
        ("asyncpg", _asyncpg),
    ]
    times: dict[str, list[float]] = {name: [] for name, _ in order}
    for turn, (name, run) in enumerate(order + order[::-1]):
        url = new_database(server, f"drivers_{turn}")
        await _queue_rows(url, claims)
        times[name] += await run(url, claims)
    return [
        {
            "driver": name,
            "claims": len(t),
            "claims_per_s": round(len(t) / sum(t), 1),
            **_percentiles("round_trip", t),
        }
        for name, t in times.items()
    ]


async def _queue_rows(url: str, claims: int) -> None:
    settings = Settings.from_env({"SWARM_HOME": tempfile.mkdtemp(), "SWARM_DATABASE_URL": url})
    service = await SwarmService.open(settings)  # migrates; queues the rows to claim
    try:
        for _ in range(claims // len(service.agents) + 1):
            await service.messages.broadcast("x" * 50, "bench", None)
    finally:
        await service.close()


async def _psycopg_sync(url: str, claims: int) -> list[float]:
    conn = psycopg.connect(url, autocommit=True)

    def one() -> float:
        start = time.perf_counter()
        conn.execute("BEGIN")
        row = conn.execute(CLAIM_SQL).fetchone()
        assert row is not None
        conn.execute(MARK_SQL.format(int(row[0])))
        conn.execute("COMMIT")
        return time.perf_counter() - start

    loop = asyncio.get_running_loop()
    try:
        return [await loop.run_in_executor(None, one) for _ in range(claims)]
    finally:
        conn.close()


async def _psycopg_async(url: str, claims: int) -> list[float]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        times = []
        for _ in range(claims):
            start = time.perf_counter()
            async with conn.transaction():
                row = await (await conn.execute(CLAIM_SQL)).fetchone()
                assert row is not None
                await conn.execute(MARK_SQL.format(int(row[0])))
            times.append(time.perf_counter() - start)
        return times


async def _asyncpg(url: str, claims: int) -> list[float]:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(url)
    try:
        times = []
        for _ in range(claims):
            start = time.perf_counter()
            async with conn.transaction():
                row = await conn.fetchrow(CLAIM_SQL)
                await conn.execute(MARK_SQL.format(int(row["id"])))
            times.append(time.perf_counter() - start)
        return times
    finally:
        await conn.close()


def failover(folder: Path, url: str, rounds: int) -> dict[str, Any]:
    """kill -9 of the scheduler holder → the standby logs ``took over``, ``rounds`` times."""
    config = write_agents(folder, 1, 8, False)
    base = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
    env = {
        **base,
        "SWARM_CONFIG": str(config),
        "SWARM_DATABASE_URL": url,
        "SWARM_FAILOVER": "5",
        "XDG_CONFIG_HOME": str(folder / "xdg"),
        "SWARM_WEB": "off",
    }  # two coordinators on one machine: no dashboard port to share
    times = []
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def launch(k: int) -> tuple[subprocess.Popen[bytes], Path]:
        log = folder / f"failover-{k}.log"
        with log.open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli.main", "run", "--no-discord"],
                cwd=ROOT,
                env={**env, "SWARM_HOME": str(folder / f"f{k}")},
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        procs.append((proc, log))
        return proc, log

    def wait_log(log: Path, needle: str, limit: float = 60) -> float:
        deadline = time.monotonic() + limit
        while needle not in log.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise SystemExit(f"no {needle!r} in {log}")
            time.sleep(0.01)
        return time.monotonic()

    try:
        holder, log = launch(0)
        wait_log(log, "coordinator started")
        for k in range(1, rounds + 1):
            standby, standby_log = launch(k)
            wait_log(standby_log, "standby:")
            killed = time.monotonic()
            holder.kill()
            holder.wait()
            times.append(wait_log(standby_log, "took over") - killed)
            holder = standby
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return {
        "failover_rounds": rounds,
        "failover_s": [round(t, 2) for t in times],
        "failover_max_s": round(max(times), 2),
    }


def failover_network(folder: Path, bin_dir: Path, rounds: int) -> dict[str, Any]:
    """The holder's machine dies: a ``swarm run`` in a network namespace holds the lock, its
    link is cut silently (``tests/netcut.py``) → the standby on the host logs ``took over``;
    then the link comes back and the old holder's fate is read from its log."""
    from tests.netcut import namespace_link, unavailable

    reason = unavailable()
    if reason is not None:
        return {"part": "failover-network", "skipped": reason}
    config = write_agents(folder, 1, 8, False)
    rows = []
    with (
        namespace_link("swnet") as link,
        cluster(bin_dir, also_listen=link.host_ip, trust=link.network) as server,
    ):
        new_database(server, "netdeath")
        url = server.url("netdeath").replace("127.0.0.1", link.host_ip)  # TCP over the veth
        for k in range(rounds):
            rows.append(_network_round(folder / f"net{k}", link, url, config))
        freed = [_write_lock_freed(link, url, server.url("netdeath")) for _ in range(rounds)]
    times = [r["took_over_s"] for r in rows]
    return {
        "part": "failover-network",
        "failover_s": 5,
        "load_1m": round(os.getloadavg()[0], 2),
        "rounds": rows,
        "took_over_s": times,
        "took_over_max_s": max(times),
        "write_lock_freed_s": freed,
    }


HOLD_MIGRATE_LOCK = """
import sys, time
from core.store.postgres.store import MIGRATE_LOCK, connect
conn = connect(sys.argv[1])
conn.raw.execute(f"BEGIN; SELECT pg_advisory_xact_lock({MIGRATE_LOCK})")
print("held", flush=True)
time.sleep(600)
"""


def _write_lock_freed(link: Any, url: str, host_url: str) -> float:
    """A store connection on the dead machine holds the write lock in an open transaction
    (a scheduler cut mid-write): cut → a writer on the host gets the lock (s)."""
    from core.store.postgres.store import MIGRATE_LOCK

    holder = subprocess.Popen(
        link.inside(sys.executable, "-c", HOLD_MIGRATE_LOCK, url),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with psycopg.connect(host_url, autocommit=True) as conn:
            link.cut()
            cut = time.monotonic()
            conn.execute(f"SELECT pg_advisory_lock({MIGRATE_LOCK})")
            return round(time.monotonic() - cut, 2)
    finally:
        link.restore()
        holder.kill()
        holder.wait()


def _network_round(folder: Path, link: Any, url: str, config: Path) -> dict[str, Any]:
    """One cut, timed from the processes' own log lines: cut → the standby's ``took over``,
    cut → the old holder's ``lost the scheduler lock``; and whether it was back in standby
    before the link came back (10 s after the cut at the latest)."""
    from tests.pg.procs import start

    folder.mkdir()
    env = {"SWARM_CONFIG": str(config), "SWARM_DATABASE_URL": url, "SWARM_FAILOVER": "5"}
    holder = start(
        "holder",
        folder,
        {**env, "SWARM_HOME": str(folder / "a")},
        "run",
        "--no-discord",
        prefix=link.inside(),
    )
    procs = [holder]
    try:
        holder.wait_for("coordinator started", 60)
        standby = start(
            "standby", folder, {**env, "SWARM_HOME": str(folder / "b")}, "run", "--no-discord"
        )
        procs.append(standby)
        standby.wait_for("is the scheduler", 60)
        cut = time.time()
        link.cut()
        standby.wait_for("took over", 60)
        with contextlib.suppress(AssertionError):
            holder.wait_for("back to standby", max(0.1, cut + 10 - time.time()))
        in_standby = "back to standby" in holder.text()
        link.restore()
        return {
            "took_over_s": round(_logged_at(standby, "took over") - cut, 2),
            "holder_stopped_s": round(_logged_at(holder, "lost the scheduler lock") - cut, 2)
            if "lost the scheduler" in holder.text()
            else None,
            "holder_in_standby_before_restore": in_standby,
        }
    finally:
        link.restore()
        for proc in procs:
            proc.stop()


def _logged_at(proc: Any, needle: str) -> float:
    """The time (epoch seconds) of ``proc``'s first log line holding ``needle``."""
    from datetime import datetime

    line = next(line for line in proc.text().splitlines() if needle in line)
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


async def measured(
    server: Cluster, folder: Path, nodes: int, tasks: int, name: str, done_later: bool = False
) -> dict[str, Any]:
    """``lifecycles()`` with ``nodes`` x 8 agents on a fresh database, with what the run
    cost (``bench/pg_load.py``: CPU per part, peak connections, refused connections)."""
    from bench.pg_load import Load

    url = new_database(server, name)
    with Load(server) as load:
        row = await lifecycles(
            folder, url, nodes, 8, tasks, True, watch=load.watch, done_later=done_later
        )
    cost = load.result()
    cpu_ms = {k: round(v * 1000 / tasks, 2) for k, v in cost.pop("cpu_s").items()}
    return {**row, "done_later": done_later, **cost, "cpu_ms_per_lifecycle": cpu_ms}


def emit(result: dict[str, Any]) -> None:
    """One JSON line."""
    print(json.dumps(result), flush=True)


def pg_programs() -> Path:
    """The folder of PostgreSQL's programs (``tests.pgcluster.pg_bin_dir``); without them the
    bench exits saying how to install them."""
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    return bin_dir


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--fleet-nodes", type=int, default=100)
    parser.add_argument("--fleet-tasks", type=int, default=4000)
    parser.add_argument("--failover-rounds", type=int, default=3)
    parser.add_argument("--skip-failover", action="store_true")
    parser.add_argument("--tcp", action="store_true", help="TCP to 127.0.0.1, not the socket")
    parser.add_argument(
        "--breakdown", action="store_true", help="print each statement's count per lifecycle"
    )
    parser.add_argument(
        "--node-processes",
        action="store_true",
        help="lifecycles: also run the 3 nodes each in a process of its own (as deployed)",
    )
    parser.add_argument(
        "--skip-plain", action="store_true", help="lifecycles: no PostgreSQL run without nodes"
    )
    parser.add_argument(
        "--inbox",
        action="store_true",
        help="lifecycles: write each prompt to its agent's inbox (the real inbox deliverer) "
        "before the simulated agent reports done",
    )
    parser.add_argument(
        "--pg-stats",
        action="store_true",
        help="the server's calls and time per statement (pg_stat_statements) of each run",
    )
    parser.add_argument(
        "--durable",
        action="store_true",
        help="the cluster with PostgreSQL's default durability (fsync, synchronous_commit on)",
    )
    parser.add_argument(
        "--only",
        choices=PARTS,
        action="append",
        help="run only these parts (repeatable; default: all)",
    )
    args = parser.parse_args()
    global BREAKDOWN, PG_STATS
    BREAKDOWN = args.breakdown
    PG_STATS = args.pg_stats
    bin_dir = pg_programs()
    emit({"cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2)})
    parts = set(args.only or PARTS) - (
        {"failover", "failover-network"} if args.skip_failover else set()
    )
    parts -= set() if args.fleet_nodes else {"fleet"}
    options = " ".join(
        ([DURABLE] if args.durable else [])
        + (
            [
                "-c shared_preload_libraries=pg_stat_statements",
                "-c pg_stat_statements.track=all",  # a trigger's statements too
                "-c pg_stat_statements.track_planning=on",
            ]
            if args.pg_stats
            else []
        )
    )
    with tempfile.TemporaryDirectory() as tmp, cluster(bin_dir, options=options) as server:
        folder = Path(tmp)
        if "lifecycles" in parts:
            inbox = args.inbox
            emit(await lifecycles(folder, None, 3, 8, args.tasks, False, inbox=inbox))
            if not args.skip_plain:
                plain = new_database(server, "plain")
                emit(
                    await lifecycles(
                        folder, plain, 3, 8, args.tasks, False, server=server, inbox=inbox
                    )
                )
            nodes = new_database(server, "nodes")
            emit(
                await lifecycles(folder, nodes, 3, 8, args.tasks, True, server=server, inbox=inbox)
            )
            if args.node_processes:
                url = new_database(server, "node_procs")
                row = await lifecycles(
                    folder,
                    url,
                    3,
                    8,
                    args.tasks,
                    True,
                    server=server,
                    node_processes=True,
                    inbox=inbox,
                )
                emit(row)
        if "drivers" in parts:
            for row in await drivers(server, args.claims):
                emit(row)
        if "failover" in parts:
            emit(failover(folder, new_database(server, "failover"), args.failover_rounds))
        if "failover-network" in parts:
            emit(failover_network(folder, bin_dir, args.failover_rounds))
        if "fleet" in parts:
            for later in (False, True):
                emit(
                    await measured(
                        server,
                        folder,
                        args.fleet_nodes,
                        args.fleet_tasks,
                        f"fleet{int(later)}",
                        later,
                    )
                )
    emit({"load_1m_after": round(os.getloadavg()[0], 2)})


if __name__ == "__main__":
    asyncio.run(main())
