"""The mid-turn hold's read (``core/delivery/message_queries.not_mid_turn``) on a store with
many delivered deliveries: without the ``deliveries_given`` index (the baseline, same run)
and with it.

Run: ``.venv/bin/python bench/turn_hold.py [--delivered 200000] [--agents 32]``. SQLite in
memory; each agent has a hook reading and one queued delivery; the figure is one read of the
queued deliveries that may go, averaged over 5.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]

from core.delivery import not_mid_turn  # noqa: E402
from core.store.migrations import migrations  # noqa: E402


def store(indexed: bool, delivered: int, agents: int) -> sqlite3.Connection:
    """A store of the current schema holding the deliveries and hook readings."""
    conn = sqlite3.connect(":memory:")
    for steps in migrations("sqlite"):
        for statement in steps:
            conn.execute(statement)
    conn.execute("INSERT INTO messages (sender, target_kind, target_name, text, task_id, "
                 "priority, created_at) VALUES ('me', 'agent', 'A', 't', NULL, 1, 0)")  # fmt: skip
    insert = ("INSERT INTO deliveries (message_id, agent_id, state, created_at, updated_at) "
              "VALUES (1, ?, ?, ?, ?)")  # fmt: skip
    conn.executemany(insert, [(f"A{i % agents}", "delivered", i, i) for i in range(delivered)])
    conn.executemany(insert, [(f"A{i}", "queued", delivered, delivered) for i in range(agents)])
    conn.executemany(
        "INSERT INTO agent_signals (agent, signal, state, at, evidence) VALUES (?, 'hook', "
        "'idle', ?, 'hook: Stop')",
        [(f"A{i}", delivered * 0.9) for i in range(agents)],
    )
    if not indexed:
        conn.execute("DROP INDEX deliveries_given")
    return conn


def read_ms(conn: sqlite3.Connection, runs: int = 5) -> float:
    """One read of the queued deliveries the hold lets go, in ms."""
    sql = f"SELECT count(*) FROM deliveries q WHERE state = 'queued' AND {not_mid_turn('q', '0')}"
    began = time.perf_counter()
    for _ in range(runs):
        conn.execute(sql).fetchone()
    return (time.perf_counter() - began) / runs * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delivered", type=int, default=200_000)
    parser.add_argument("--agents", type=int, default=32)
    args = parser.parse_args()
    before = read_ms(store(False, args.delivered, args.agents))
    now = read_ms(store(True, args.delivered, args.agents))
    print(f"without the index {before:.2f} ms, with it {now:.2f} ms ({now / before:.4f}x)")


if __name__ == "__main__":
    main()
