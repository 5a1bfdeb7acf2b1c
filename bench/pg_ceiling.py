"""How fast can PostgreSQL run swarm's lifecycles on this machine, whatever the client?

Run: ``.venv/bin/python bench/pg_ceiling.py [--seconds 8]``. On a throwaway cluster
(``tests/pgcluster.py``, fsync off) with swarm's own schema (migrated by ``SwarmService``),
it measures two bounds beside ``bench/scale.py``'s lifecycles/s:

- ``pgbench`` (PostgreSQL's C client, prepared statements, next to no client cost) running
  only the minimal SQL of one task's lifecycle as swarm's five steps do it, each step its own
  transaction (create, assign, claim, done, receipt: 15 statements, as the store writes
  them), with 1 client and with 4 (a coordinator and three nodes); and the same 15
  statements as one transaction (the bound if the steps could merge, which they cannot:
  they happen in different processes at different times); and the steps a scheduler or a
  node does for many tasks at once as set-based statements (one per table for a batch of 8
  tasks), each task's done still its own transaction as an agent reports it;
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
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bench.scale import new_database, write_agents
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.pgcluster import cluster, pg_bin_dir

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


def run_pgbench(
    bin_dir: Path, url: str, script: str, clients: int, seconds: int, per_run: int = 1
) -> dict[str, Any]:
    """lifecycles/s (pgbench's tps times the lifecycles of one script run)."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run(
            [
                str(bin_dir / "pgbench"),
                "-n",
                "-M",
                "prepared",
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
    return {"clients": clients, "lifecycles_per_s": round(float(tps.group(1)) * per_run, 1)}


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


async def _migrated(folder: Path, url: str) -> None:
    """swarm's schema and 8 agents' rows (n0-a0 .. n0-a7) in the database at ``url``."""
    config = write_agents(folder, 1, 8, True)
    service = await SwarmService.open(
        Settings.from_env(
            {
                "SWARM_HOME": str(folder / f"home-{time.time_ns()}"),
                "SWARM_CONFIG": str(config),
                "SWARM_DATABASE_URL": url,
            }
        )
    )
    await service.close()


def emit(result: dict[str, Any]) -> None:
    """One JSON line."""
    print(json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="each pgbench run")
    args = parser.parse_args()
    bin_dir = pg_bin_dir()
    if bin_dir is None or not (bin_dir / "pgbench").exists():
        raise SystemExit("PostgreSQL (with pgbench) is not installed (apt-get install postgresql)")
    emit({"cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2)})
    with tempfile.TemporaryDirectory() as tmp, cluster(bin_dir) as server:
        for one in (False, True):
            for clients in (1, 4):
                url = new_database(server, f"ceiling_{int(one)}_{clients}")
                asyncio.run(_migrated(Path(tmp), url))
                row = run_pgbench(bin_dir, url, pgbench_script(one), clients, args.seconds)
                emit({"pgbench": "one transaction" if one else "a transaction per step", **row})
        for clients in (1, 4):
            url = new_database(server, f"ceiling_set_{clients}")
            asyncio.run(_migrated(Path(tmp), url))
            row = run_pgbench(bin_dir, url, set_based_script(), clients, args.seconds, BATCH)
            emit(
                {
                    "pgbench": f"set-based steps for {BATCH} tasks, each done its own transaction",
                    **row,
                }
            )
        url = new_database(server, "cost")
        asyncio.run(_migrated(Path(tmp), url))
        emit({"python_psycopg": True, **statement_cost(url)})
    emit({"load_1m_after": round(os.getloadavg()[0], 2)})


if __name__ == "__main__":
    main()
