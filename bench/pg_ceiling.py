"""How fast can PostgreSQL run swarm's lifecycles on this machine, whatever the client?

Run: ``.venv/bin/python bench/pg_ceiling.py [--seconds 8] [--clients 4] [--durable]``. On a
throwaway cluster (``tests/pgcluster.py``: fsync off unless ``--durable``) with swarm's own
schema (migrated by ``SwarmService``), it measures two bounds beside ``bench/scale.py``'s
lifecycles/s:

- ``pgbench`` (PostgreSQL's C client, prepared statements, next to no client cost) running
  the SQL swarm sends now, captured from a run of the store's own code (``Capture``): one
  node's batch of 8 tasks (the agents onboarded by a batch before it): the coordinator's
  create, its assignment pass and next-deadline read, the node's claim, the 8 dones its
  agents report inside the deliveries, the batch's receipts; each statement as sent, its
  parameters inlined, each COMMIT string's parts pipelined (one round trip, as swarm sends
  them); each client a node of its own (``n<client_id>``, 8 agents each), with 1 client and
  with 4 (a coordinator and three nodes' worth of connections). ``--unprepared`` runs it
  also with ``-M extended`` (each statement parsed and planned each time); ``--script``
  prints it. With each run, the CPU per lifecycle of pgbench and of the server, and a check
  that every lifecycle it started ended (tasks done, deliveries delivered);
- ``--session4``: session 4's scripts (15 statements, a transaction per step or one, and
  set-based steps), kept for the earlier figures;
- ``--python``: the same script replayed from Python with no domain code
  (``bench/pg_replay.py``), by psycopg and by asyncpg: the bound of any Python client;
- the client's own cost of one statement from Python (psycopg 3, the driver swarm uses): an
  INSERT into ``events`` repeated in transactions of 10, sent one by one and pipelined.
Prints JSON lines; asserts nothing. Figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bench.pg_load import server_cpu
from bench.scale import new_database, write_agents
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.pgcluster import DURABLE, Cluster, cluster, pg_bin_dir

# One lifecycle, as the store's five steps write it (agents n0-a0 .. n0-a7).
STEPS = (
    (
        "INSERT INTO tasks (title, priority, status, created_at, updated_at) "
        "VALUES ('t', 1, 'ready', 0, 0) RETURNING id AS tid \\gset",
        "INSERT INTO events (ts, kind, text, task_id, actor) "
        "VALUES (0, 'task.created', 'T created by bench', :tid, 'bench')",
    ),
    (
        "UPDATE tasks SET status = 'assigned', assignee = 'n0-a' || :a::int, "
        "attempts = attempts + 1, assigned_at = 1, lease_expires_at = 2, updated_at = 1 "
        "WHERE id = :tid AND status = 'ready'",
        "UPDATE agent_state SET last_assigned_at = 1 WHERE id = 'n0-a' || :a::int",
        "INSERT INTO messages (sender, target, text, task_id, priority, created_at) "
        "VALUES ('scheduler', 'agent-x', 'T: t', :tid, 1, 0) RETURNING id AS mid \\gset",
        "INSERT INTO deliveries (message_id, agent_id, state, created_at, updated_at) "
        "VALUES (:mid, 'n0-a' || :a::int, 'queued', 0, 0) RETURNING id AS did \\gset",
        "INSERT INTO events (ts, kind, text, task_id, agent_id, actor, data) VALUES "
        "(0, 'task.assigned', 'T assigned', :tid, 'x', 'scheduler', '{\"attempt\": 1}')",
    ),
    (
        "UPDATE deliveries SET state = 'delivering', node = 'n0', claim_until = 5, "
        "attempts = attempts + 1, updated_at = 1 WHERE id = :did",
        "INSERT INTO events (ts, kind, text, task_id, agent_id, actor) "
        "VALUES (0, 'delivery.claimed', 'T prompt claimed', :tid, 'x', 'n0')",
    ),
    (
        "SELECT status, assignee FROM tasks WHERE id = :tid",
        "UPDATE tasks SET status = 'done', finished_at = 1, lease_expires_at = NULL, "
        "updated_at = 1 WHERE id = :tid",
        "UPDATE agent_state SET score = score * 0.9 + 0.1, done_count = done_count + 1 "
        "WHERE id = 'n0-a' || :a::int",
        "INSERT INTO events (ts, kind, text, task_id, agent_id, actor) "
        "VALUES (0, 'task.done', 'T done', :tid, 'x', 'x')",
        "SELECT task_id FROM task_deps WHERE dep_id = :tid",
    ),
    (
        "UPDATE deliveries SET state = 'delivered', method = 'inbox', reason = NULL, "
        "claim_until = NULL, updated_at = 1 WHERE id = :did",
        "INSERT INTO events (ts, kind, text, task_id, agent_id, actor) "
        "VALUES (0, 'delivery.delivered', 'T prompt delivered', :tid, 'x', 'n0')",
    ),
)


def pgbench_script(one_transaction: bool) -> str:
    """The lifecycle as a pgbench script: a transaction per step, or one for all."""
    lines = ["\\set a random(0, 7)"]
    if one_transaction:
        return "\n".join(
            [
                *lines,
                "BEGIN;",
                *(f"{s};" if "\\gset" not in s else s for step in STEPS for s in step),
                "COMMIT;",
            ]
        )
    for step in STEPS:
        lines += ["BEGIN;", *(f"{s};" if "\\gset" not in s else s for s in step), "COMMIT;"]
    return "\n".join(lines) + "\n"


BATCH = 8  # lifecycles per run of the set-based script (one node's 8 agents)


def set_based_script() -> str:
    """``BATCH`` lifecycles per run with the batched steps as set-based statements (create,
    assign, claim and receipts: one statement per table for the whole batch) and each
    task's done as its own transaction, as an agent reports it (5 statements)."""
    tasks = "unnest(:ids::bigint[]) g"  # this run's own ids (other clients' interleave)
    mine = "= ANY(:ids::bigint[])"
    lines = [
        "BEGIN;",
        "WITH made AS (INSERT INTO tasks (title, priority, status, created_at, updated_at) "
        f"SELECT 't', 1, 'ready', 0, 0 FROM generate_series(1, {BATCH}) RETURNING id) "
        "SELECT array_agg(id)::text AS ids FROM made \\gset",
        "INSERT INTO events (ts, kind, text, task_id, actor) "
        f"SELECT 0, 'task.created', 'T created', g, 'bench' FROM {tasks};",
        "COMMIT;",
        "BEGIN;",
        "UPDATE tasks SET status = 'assigned', assignee = 'n0-a' || (id % 8), "
        "attempts = attempts + 1, assigned_at = 1, lease_expires_at = 2, updated_at = 1 "
        f"WHERE id {mine} AND status = 'ready';",
        "UPDATE agent_state SET last_assigned_at = 1 WHERE id LIKE 'n0-a%';",
        "WITH m AS (INSERT INTO messages (sender, target, text, task_id, priority, created_at) "
        f"SELECT 'scheduler', 'agent-x', 'T: t', g, 1, 0 FROM {tasks} RETURNING id, task_id) "
        "INSERT INTO deliveries (message_id, agent_id, state, created_at, updated_at) "
        "SELECT id, 'n0-a' || (task_id % 8), 'queued', 0, 0 FROM m;",
        "INSERT INTO events (ts, kind, text, task_id, agent_id, actor) "
        f"SELECT 0, 'task.assigned', 'T assigned', g, 'x', 'scheduler' FROM {tasks};",
        "COMMIT;",
        "BEGIN;",
        "UPDATE deliveries SET state = 'delivering', node = 'n0', claim_until = 5, "
        "attempts = attempts + 1, updated_at = 1 WHERE id IN (SELECT d.id FROM deliveries d "
        f"JOIN messages m ON m.id = d.message_id WHERE m.task_id {mine} "
        "FOR UPDATE OF d SKIP LOCKED);",
        "COMMIT;",
    ]
    for k in range(BATCH):
        task = f"(:ids::bigint[])[{k + 1}]"
        lines += ["BEGIN;", *(f"{s.replace(':tid', task)};" for s in STEPS[3]), "COMMIT;"]
    lines += [
        "BEGIN;",
        "UPDATE deliveries SET state = 'delivered', method = 'inbox', reason = NULL, "
        "claim_until = NULL, updated_at = 1 WHERE message_id IN (SELECT id FROM messages "
        f"WHERE task_id {mine});",
        "INSERT INTO events (ts, kind, text, task_id, agent_id, actor) SELECT 0, k, 'T', g, "
        f"'x', 'n0' FROM {tasks} CROSS JOIN (VALUES ('delivery.claimed'), "
        "('delivery.delivered')) AS e(k);",
        "COMMIT;",
    ]
    return "\n".join(["\\set a random(0, 7)", *lines]) + "\n"


# --- swarm's own SQL, as it sends it now (captured from a run of the store's code) ---

BASES = {"tasks": 1_000_001, "messages": 2_000_001, "deliveries": 3_000_001}
IDS = {"tasks": "tids", "messages": "mids", "deliveries": "dids"}  # pgbench array variables
_VARIABLE = re.compile(r":[A-Za-z_]")  # what pgbench would take for a variable


class Capture:
    """Everything this process sends to PostgreSQL while entered (``psycopg.Connection
    .execute``: each statement with its parameters, BEGIN, the COMMIT string), and the event
    rows each COMMIT carries (``PgConn.held_events_sql``), in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...]]] = []
        self.held: dict[str, list[Sequence[Any]]] = {}  # the events' INSERT text -> rows

    def __enter__(self) -> Capture:
        from core.store.postgres.store import PgConn

        self._saved = (psycopg.Connection.execute, PgConn.held_events_sql)
        execute, held_events_sql = self._saved
        capture = self

        def sent(conn: Any, query: Any, params: Any = None, **kw: Any) -> Any:
            if isinstance(query, str) and query.strip() and not query.startswith("SET "):
                capture.sent.append((query, tuple(params or ())))
            return execute(conn, query, params, **kw)

        def held(conn: PgConn) -> str:
            rows = list(conn._events or [])
            text = held_events_sql(conn)
            if text:
                capture.held[text] = rows
            return text

        psycopg.Connection.execute = sent  # type: ignore[method-assign,assignment]
        PgConn.held_events_sql = held  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        from core.store.postgres.store import PgConn

        psycopg.Connection.execute, PgConn.held_events_sql = self._saved  # type: ignore[method-assign]


async def capture_lifecycles(folder: Path, url: str, tasks: int = BATCH) -> Capture:
    """One node's batch as swarm runs it (``tasks`` tasks for its 8 agents): the
    coordinator creates them, its scheduler assigns them in one pass and reads its next
    deadline, the node claims them, its agents report each done inside the delivery (as
    ``bench/scale.py``'s ``CompletingAgents``) and it stores the receipts. The ids start at
    ``BASES`` so the script can tell them from other numbers."""
    from bench.scale import CompletingAgents
    from core.coordinator.node import DeliveryNode
    from core.coordinator.scheduler import Scheduler

    settings = _settings(folder, url, 1)  # node n0's 8 agents take the whole batch
    coordinator = await SwarmService.open(settings)
    node_service = await SwarmService.open(settings, readers=0)
    try:
        scheduler = Scheduler(coordinator, CompletingAgents(coordinator))
        coordinator.store.notify_changes(False)  # as in the scheduler's process (ChangeListener)
        node = DeliveryNode(node_service, CompletingAgents(node_service), "n0", lease_s=60)
        await _batch(coordinator, scheduler, node, tasks)  # onboards the agents: not captured
        with psycopg.connect(url, autocommit=True) as admin:
            for table, base in BASES.items():
                admin.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {base - 1})")
        with Capture() as capture:
            claimed = await _batch(coordinator, scheduler, node, tasks)
    finally:
        await coordinator.close()
        await node_service.close()
    if claimed != tasks:
        raise SystemExit(f"capture: the node claimed {claimed} of {tasks} tasks")
    return capture


async def _batch(coordinator: SwarmService, scheduler: Any, node: Any, tasks: int) -> int:
    """One batch: created, assigned, claimed, done, received; how many the node claimed."""
    from core.models import TaskSpec

    await coordinator.tasks.create_many([TaskSpec(f"t{k}") for k in range(tasks)], "bench")
    await scheduler.schedule_once()
    await scheduler.next_deadline()
    return int(await node.step())


def _literal(value: Any, nested: bool = False) -> str:
    """``value`` as SQL text for the script: ids as their place in this run's arrays, the
    agents' and the node's names as this client's own, text safe from pgbench's variables."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        for table, base in BASES.items():
            if base <= value < base + 1000:
                return f"(:{IDS[table]}::bigint[])[{value - base + 1}]"
        return f"{value}::bigint" if not nested else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        kind = "bigint[]" if value and isinstance(value[0], int) else "text[]"
        return f"ARRAY[{', '.join(_literal(v, True) for v in value)}]::{kind}"
    text = str(value)
    name = re.fullmatch(r"n0(-a\d+)?", text)
    if name:  # each client is a node of its own with its own 8 agents
        return f"('n' || :client_id{' || ' + repr(name.group(1)) if name.group(1) else ''})"
    quoted = "'" + text.replace("'", "''") + "'"
    return re.sub(r":(?=[A-Za-z_])", "' || chr(58) || '", quoted)  # not a pgbench variable


def _inline(sql: str, params: tuple[Any, ...]) -> str:
    """The statement with its ``$n`` placeholders replaced by ``_literal`` values."""
    text = re.sub(r"\$(\d+)", lambda m: _literal(params[int(m.group(1)) - 1]), sql)
    return " ".join(text.split())


def _events_insert(rows: list[Sequence[Any]]) -> str:
    from core.store.conn import EVENT_COLUMNS

    groups = ", ".join("(" + ", ".join(_literal(v) for v in r) + ")" for r in rows)
    return f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES {groups}"


def swarm_script(capture: Capture) -> str:
    """The captured SQL as a pgbench script: statements as sent, each COMMIT string's parts
    pipelined (one round trip, as swarm sends them in one string); the create returns its
    task ids and the assignment its message and delivery ids (``\\gset``: later statements
    name them by place), each client runs its own node ``n<client_id>``."""
    lines = []
    for sql, params in capture.sent:
        if sql == "COMMIT" or "; COMMIT" in sql:
            lines += _commit(sql, capture.held)
            continue
        text = _inline(sql, params)
        if text.startswith("INSERT INTO tasks ") and text.endswith("RETURNING id"):
            text = f"WITH made AS ({text}) SELECT array_agg(id ORDER BY id)::text AS tids FROM made"
            lines.append(text + " \\gset")
            continue
        if text.startswith("WITH t AS (") and "INSERT INTO deliveries" in text:
            lines.append(_assignment(text) + " \\gset")
            continue
        lines.append(text + ";")
    return "\n".join(lines) + "\n"


def _assignment(text: str) -> str:
    """The assignment's statement returning its message and delivery ids as two arrays."""
    tail = "FROM m ORDER BY id) SELECT id, task_id FROM m"  # the deliveries' CTE, then m's ids
    if not text.endswith(tail):
        raise SystemExit("capture: the assignment's statement is not the one this script knows")
    return (
        text[: -len(tail)]
        + "FROM m ORDER BY id RETURNING id) "
        + (
            "SELECT (SELECT array_agg(id ORDER BY id) FROM m)::text AS mids, "
            "(SELECT array_agg(id ORDER BY id) FROM d)::text AS dids"
        )
    )


def _commit(sql: str, held: dict[str, list[Sequence[Any]]]) -> list[str]:
    """A COMMIT string (held events' INSERT, the change's notification and data version,
    COMMIT) as pipelined statements."""
    events = next((e for e in held if sql.startswith(e)), "")
    parts = [p.strip() for p in sql[len(events) :].split(";") if p.strip()]
    body = ([_events_insert(held[events]) + ";"] if events else []) + [f"{p};" for p in parts]
    return ["\\startpipeline", *body, "\\endpipeline"] if len(body) > 1 else body


def run_pgbench(
    bin_dir: Path,
    url: str,
    script: str,
    clients: int,
    seconds: int,
    per_run: int = 1,
    server: Cluster | None = None,
    protocol: str = "prepared",
) -> dict[str, Any]:
    """lifecycles/s (pgbench's tps times the lifecycles of one script run); with ``server``,
    the CPU per lifecycle of its processes and of pgbench (``per_run`` lifecycles a run)."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    pg_before = server_cpu(server) if server is not None else {}
    own_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        out = subprocess.run(
            [
                str(bin_dir / "pgbench"),
                "-n",
                "-M",
                protocol,
                "-f",
                f.name,
                "-c",
                str(clients),
                "-j",
                str(min(clients, 2)),
                "-T",
                str(seconds),
                url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(f.name)
    tps = re.search(r"tps = ([\d.]+)", out.stdout)
    if out.returncode or tps is None:
        raise SystemExit(f"pgbench failed: {(out.stderr or out.stdout).strip()[-300:]}")
    done = re.search(r"number of transactions actually processed: (\d+)", out.stdout)
    row: dict[str, Any] = {
        "clients": clients,
        "protocol": protocol,
        "lifecycles_per_s": round(float(tps.group(1)) * per_run, 1),
    }
    if server is not None and done is not None:
        lifecycles = int(done.group(1)) * per_run
        pg = sum(c - pg_before.get(pid, 0.0) for pid, c in server_cpu(server).items())
        own = resource.getrusage(resource.RUSAGE_CHILDREN)
        bench = own.ru_utime + own.ru_stime - own_before.ru_utime - own_before.ru_stime
        row["cpu_ms_per_lifecycle"] = {
            "pgbench": round(bench * 1000 / lifecycles, 3),
            "postgres": round(pg * 1000 / lifecycles, 3),
        }
    return row


def statement_cost(url: str, transactions: int = 400, per_txn: int = 10) -> dict[str, Any]:
    """Microseconds of one INSERT from Python (psycopg 3, sync), one by one and pipelined."""
    sql = (
        "INSERT INTO events (ts, kind, text, task_id, agent_id, actor, data) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)"
    )
    args = (1.0, "bench", "a line of text", 1, "n0-a0", "bench", None)
    result: dict[str, Any] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for label in ("one_by_one", "pipelined"):
            start = time.perf_counter()
            for _ in range(transactions):
                if label == "pipelined":
                    with conn.pipeline():
                        _transaction(conn, sql, args, per_txn)
                else:
                    _transaction(conn, sql, args, per_txn)
            elapsed = time.perf_counter() - start
            result[f"{label}_us_per_statement"] = round(
                elapsed / (transactions * (per_txn + 2)) * 1e6, 1
            )
    return result


def _transaction(conn: psycopg.Connection[Any], sql: str, args: tuple[Any, ...], n: int) -> None:
    conn.execute("BEGIN")
    for _ in range(n):
        conn.execute(sql, args)
    conn.execute("COMMIT")


NODES = 4  # agents n<k>-a0 .. n<k>-a7 for k < NODES: one node per pgbench client


def _settings(folder: Path, url: str, nodes: int = NODES) -> Settings:
    return Settings.from_env(
        {
            "SWARM_HOME": str(folder / f"home-{time.time_ns()}"),
            "SWARM_CONFIG": str(write_agents(folder, nodes, 8, True)),
            "SWARM_DATABASE_URL": url,
        }
    )


async def _migrated(folder: Path, url: str) -> None:
    """swarm's schema and the rows of ``NODES`` x 8 agents in the database at ``url``."""
    service = await SwarmService.open(_settings(folder, url))
    await service.close()


def emit(result: dict[str, Any]) -> None:
    """One JSON line."""
    print(json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="each pgbench run")
    parser.add_argument(
        "--clients", type=int, action="append", help="pgbench clients (repeatable; 1 and 4)"
    )
    parser.add_argument(
        "--session4", action="store_true", help="also session 4's scripts (15 statements)"
    )
    parser.add_argument("--script", action="store_true", help="print swarm's script and stop")
    parser.add_argument(
        "--against",
        type=Path,
        help="a script printed by --script in another tree: both run alternately, --turns times",
    )
    parser.add_argument("--turns", type=int, default=4, help="rounds of --against")
    parser.add_argument(
        "--unprepared",
        action="store_true",
        help="also run swarm's script unprepared (-M extended: each statement parsed, planned)",
    )
    parser.add_argument(
        "--python",
        action="store_true",
        help="also replay the script from Python (psycopg, asyncpg), no domain code (pg_replay.py)",
    )
    parser.add_argument(
        "--durable",
        action="store_true",
        help="the cluster with PostgreSQL's default durability (fsync, synchronous_commit on)",
    )
    args = parser.parse_args()
    bin_dir = pg_bin_dir()
    if bin_dir is None or not (bin_dir / "pgbench").exists():
        raise SystemExit("PostgreSQL (with pgbench) is not installed (apt-get install postgresql)")
    emit({"cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2)})
    options = DURABLE if args.durable else ""
    with tempfile.TemporaryDirectory() as tmp, cluster(bin_dir, options=options) as server:
        url = new_database(server, "capture")
        script = swarm_script(asyncio.run(capture_lifecycles(Path(tmp), url)))
        if args.script:
            print(script, end="")
            return
        if args.against is not None:
            _against(bin_dir, server, Path(tmp), args, script)
            return
        for clients in args.clients or (1, 4):
            for protocol in ("prepared", "extended") if args.unprepared else ("prepared",):
                url = new_database(server, f"swarm_{clients}_{protocol}")
                asyncio.run(_migrated(Path(tmp), url))
                row = run_pgbench(
                    bin_dir, url, script, clients, args.seconds, BATCH, server, protocol
                )
                emit({"pgbench": "swarm's SQL as it sends it", **row, **_left_undone(url)})
            if args.python:
                for driver in ("psycopg", "asyncpg"):
                    url = new_database(server, f"replay_{clients}_{driver}")
                    asyncio.run(_migrated(Path(tmp), url))
                    emit(python_replay(server, url, script, clients, args.seconds, driver))
        if args.session4:
            _session4(bin_dir, server, Path(tmp), args.seconds)
        url = new_database(server, "cost")
        asyncio.run(_migrated(Path(tmp), url))
        emit({"python_psycopg": True, **statement_cost(url)})
    emit({"load_1m_after": round(os.getloadavg()[0], 2)})


def python_replay(
    server: Cluster, url: str, script: str, clients: int, seconds: int, driver: str
) -> dict[str, Any]:
    """``bench/pg_replay.py``'s row for ``script``, with the server's CPU per lifecycle."""
    from bench.pg_replay import replay

    before = server_cpu(server)
    row = replay(url, script, clients, seconds, BATCH, driver)
    lifecycles = row["lifecycles"]
    pg = sum(c - before.get(pid, 0.0) for pid, c in server_cpu(server).items())
    return {
        "python_replay": "swarm's SQL as it sends it, no domain code",
        **row,
        "postgres_cpu_ms_per_lifecycle": round(pg * 1000 / max(lifecycles, 1), 3),
        **_left_undone(url),
    }


def _against(
    bin_dir: Path, server: Cluster, folder: Path, args: argparse.Namespace, script: str
) -> None:
    """This tree's script and ``args.against``'s, alternately, each on a fresh database of
    this tree's schema (4 clients unless ``--clients``)."""
    scripts = {"this tree": script, str(args.against): args.against.read_text()}
    for turn in range(args.turns):
        for k, (name, text) in enumerate(scripts.items()):
            for clients in args.clients or (4,):
                url = new_database(server, f"against_{turn}_{k}_{clients}")
                asyncio.run(_migrated(folder, url))
                row = run_pgbench(bin_dir, url, text, clients, args.seconds, BATCH, server)
                load = round(os.getloadavg()[0], 2)
                emit({"script": name, "turn": turn, **row, "load_1m": load, **_left_undone(url)})


def _left_undone(url: str) -> dict[str, int]:
    """After a run: tasks not done and deliveries not delivered (0 and 0: the script ran
    every lifecycle it started to its end; pgbench's last runs may be cut by its timer)."""
    with psycopg.connect(url, autocommit=True) as conn:
        tasks = conn.execute("SELECT count(*) FROM tasks WHERE status <> 'done'").fetchone()
        done = conn.execute("SELECT count(*) FROM tasks WHERE status = 'done'").fetchone()
        left = conn.execute("SELECT count(*) FROM deliveries WHERE state <> 'delivered'").fetchone()
    assert tasks is not None and done is not None and left is not None
    return {"tasks_done": done[0], "tasks_not_done": tasks[0], "deliveries_not_delivered": left[0]}


def _session4(bin_dir: Path, server: Any, folder: Path, seconds: int) -> None:
    """Session 4's scripts (``STEPS``: 15 statements, a transaction per step or one), and
    the set-based one."""
    for one in (False, True):
        for clients in (1, 4):
            url = new_database(server, f"ceiling_{int(one)}_{clients}")
            asyncio.run(_migrated(folder, url))
            row = run_pgbench(bin_dir, url, pgbench_script(one), clients, seconds)
            emit({"pgbench": "one transaction" if one else "a transaction per step", **row})
    for clients in (1, 4):
        url = new_database(server, f"ceiling_set_{clients}")
        asyncio.run(_migrated(folder, url))
        row = run_pgbench(bin_dir, url, set_based_script(), clients, seconds, BATCH)
        emit(
            {"pgbench": f"set-based steps for {BATCH} tasks, each done its own transaction", **row}
        )


if __name__ == "__main__":
    main()
