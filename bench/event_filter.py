"""The event log's filter on SQLite, this tree against another revision, run alternately.

Run: .venv/bin/python bench/event_filter.py [--events 200000] [--rounds 3] [REV]
(default revision: HEAD~1). One events table of ``--events`` rows (kinds drawn from eight,
a task of 5,000 each) is written once; then, round after round, each tree (``REV`` exported
with ``git archive``, and this work tree) times its own ``swarm events`` reads on it in a
process of its own, with this venv: counts of a family, of two kinds, of a grep and of all,
the newest 100 of a family, the first 100 of a kind, the next one after a cursor (the
poster's read) and a task's newest 20. Prints each read's best of 5 in milliseconds per
run, then each read's median over the rounds and its ratio to ``REV``'s. Asserts nothing.
Results are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("task.created", "task.ready", "task.assigned", "agent.state", "message.sent",
         "task.done", "github.ci_decided", "agent.nudged")  # fmt: skip

# Runs in the child, with the tree first on sys.path: its own code.
CHILD = """
import json, sqlite3, sys, time
from core.history import event_queries, events
from core.history.events import EventFilter, find_events
from core.store.conn import SqliteConn
count = getattr(events, "count_events", None) or getattr(event_queries, "count_events")
conn = sqlite3.connect(sys.argv[1], factory=SqliteConn)
conn.row_factory = sqlite3.Row
last = conn.execute("SELECT max(id) FROM events").fetchone()[0]
F = EventFilter
reads = {
    "count of a family": lambda: count(conn, F(kinds=("task",))),
    "count of two kinds": lambda: count(conn, F(kinds=("task.done", "agent"))),
    "count of a grep": lambda: count(conn, F(grep="199")),
    "count of all": lambda: count(conn, F()),
    "newest 100 of a family": lambda: find_events(conn, F(kinds=("github",)), 0, 100, True),
    "first 100 of a kind": lambda: find_events(conn, F(kinds=("task.done",)), 0, 100),
    "next after a cursor": lambda: find_events(conn, F(kinds=("agent.nudged",)), last - 1000, 1),
    "a task's newest 20": lambda: find_events(conn, F(kinds=("task.x",), task_id=77), 0, 20, True),
}
best = {}
for name, read in reads.items():
    times = []
    for _ in range(5):
        start = time.perf_counter()
        read()
        times.append(time.perf_counter() - start)
    best[name] = min(times) * 1000
print(json.dumps(best))
"""


def made_database(path: Path, rows: int) -> None:
    """An events table of ``rows`` rows, as the schema has it (the columns the reads use)."""
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, ts REAL NOT NULL, kind TEXT NOT NULL, "
        "text TEXT NOT NULL DEFAULT '', task_id INTEGER, agent_id TEXT, actor TEXT, data TEXT, "
        "txid INTEGER)"
    )
    conn.execute("CREATE INDEX events_by_task ON events(task_id) WHERE task_id IS NOT NULL")
    draw = random.Random(1)
    conn.executemany(
        "INSERT INTO events (ts, kind, text, task_id, agent_id) VALUES (?, ?, ?, ?, ?)",
        [(float(i), draw.choice(KINDS), f"text {i} of something", draw.randint(1, 5000), "A")
         for i in range(rows)],
    )  # fmt: skip
    conn.commit()
    conn.close()


def timed(tree: Path, database: Path) -> dict[str, float]:
    """Each read's best time (ms) in ``tree``'s code, in a process of its own."""
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tree)!r})\n" + CHILD,
         str(database)],
        cwd=tree, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", nargs="?", default="HEAD~1")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch) / "base"
        base.mkdir()
        archive = subprocess.run(["git", "archive", args.rev], cwd=ROOT, capture_output=True,
                                 check=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        database = Path(scratch) / "events.db"
        made_database(database, args.events)
        runs: dict[str, list[dict[str, float]]] = {args.rev: [], "this tree": []}
        for n in range(args.rounds):
            order = [(args.rev, base), ("this tree", ROOT)]
            for name, tree in order if n % 2 == 0 else order[::-1]:
                runs[name].append(timed(tree, database))
                print(name, json.dumps({k: round(v, 2) for k, v in runs[name][-1].items()}))
    print(f"median ms over {args.rounds} rounds: {args.rev} / this tree (ratio)")
    for read in runs[args.rev][0]:
        before = statistics.median(r[read] for r in runs[args.rev])
        after = statistics.median(r[read] for r in runs["this tree"])
        print(f"  {read:24s} {before:8.2f} / {after:8.2f}  ({after / before:.2f}x)")


if __name__ == "__main__":
    main()
