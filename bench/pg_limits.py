"""Where the next limit is: what each part of a PostgreSQL run costs the machine.

Run: ``.venv/bin/python bench/pg_limits.py [--tasks 2000] [--fleet-tasks 2000]``. On a
throwaway cluster (``tests/pgcluster.py``), ``bench/scale.py``'s ``lifecycles()`` with 3
nodes x 8 agents and with ``--fleet-nodes`` x 8 (all in this process, as in ``--only
fleet``), each measured by ``bench/pg_load.py``: cores used by the event loop, the
coordinator's and the nodes' store threads, the coordinator's and the nodes' PostgreSQL
backends, the LISTEN backends and the server's own processes; peak connections and refused
ones. Prints JSON lines; asserts nothing. Figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scale import emit, measured, pg_programs
from tests.pgcluster import cluster


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000, help="tasks of the 3-node run")
    parser.add_argument("--fleet-nodes", type=int, default=100)
    parser.add_argument("--fleet-tasks", type=int, default=2000)
    parser.add_argument("--turns", type=int, default=1, help="rounds of both rows")
    args = parser.parse_args()
    bin_dir = pg_programs()
    emit({"cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2)})
    with tempfile.TemporaryDirectory() as tmp, cluster(bin_dir) as server:
        for turn in range(1, args.turns + 1):
            for nodes, tasks in ((3, args.tasks), (args.fleet_nodes, args.fleet_tasks)):
                row = await measured(server, Path(tmp), nodes, tasks, f"limits_{turn}_{nodes}")
                emit({"turn": turn, **row, "load_1m": round(os.getloadavg()[0], 2)})
    emit({"load_1m_after": round(os.getloadavg()[0], 2)})


if __name__ == "__main__":
    asyncio.run(main())
