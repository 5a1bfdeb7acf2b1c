"""SQLite lifecycles of several commits, run alternately: lifecycles/s and CPU per lifecycle.

Run: .venv/bin/python bench/sqlite_baseline.py [--rounds 4] [--tasks 5000] [REV ...]
(default revisions: fe7050e, main, HEAD; ``.`` is the work tree as it is). Each revision is
exported with ``git archive`` and runs its own ``bench/scheduler.py`` ``lifecycles`` (create
the random DAG, run it to done) in a process of its own, with this venv; the revisions take
turns, round after round (each round starting with the next revision, so none always runs
after the same one), and each round's runs see about the same machine. Prints, per run,
lifecycles/s (create + run, as ``bench/scheduler.py`` prints it) and the process's user +
sys CPU per lifecycle over ``lifecycles`` (steadier than wall time on a shared machine),
with the 1-minute load; then the median and best of each revision and its ratio to the
first. Asserts nothing. Results are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs in the child, with the exported tree first on sys.path: its own bench and code.
CHILD = """
import asyncio, importlib.util, json, os, resource, sys
tree, tasks = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, tree)
path = os.path.join(tree, "bench", "scheduler.py")
spec = importlib.util.spec_from_file_location("tree_bench", path)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
before = cpu()
life = asyncio.run(bench.lifecycles(tasks, 1))
print(json.dumps({"per_s": life["per_s"], "run_per_s": life["run_per_s"],
                  "cpu_s": cpu() - before, "load": os.getloadavg()[0]}))
"""


def export(rev: str, into: Path) -> Path:
    """The tree of ``rev`` (``.``: the work tree itself) as a folder."""
    if rev == ".":
        return ROOT
    folder = into / rev.replace("/", "_")
    folder.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def run(tree: Path, tasks: int) -> dict[str, float]:
    """One lifecycles run of ``tree`` in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(tree), str(tasks)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    """Run the rounds and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revs", nargs="*", default=["fe7050e", "main", "HEAD"])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {rev: [] for rev in args.revs}
    with tempfile.TemporaryDirectory() as tmp:
        trees = {rev: export(rev, Path(tmp)) for rev in args.revs}
        for number in range(1, args.rounds + 1):
            turn = (number - 1) % len(args.revs)  # each round starts with the next one
            for rev in args.revs[turn:] + args.revs[:turn]:
                got = run(trees[rev], args.tasks)
                results[rev].append(got)
                print(
                    f"round {number} {rev:>10}: {got['per_s']:7.0f} lifecycles/s, "
                    f"CPU {got['cpu_s']:.2f} s = {got['cpu_s'] / args.tasks * 1000:.3f} ms "
                    f"per lifecycle, load {got['load']:.1f}",
                    flush=True,
                )
    first = args.revs[0]
    base_rate = statistics.median(r["per_s"] for r in results[first])
    base_cpu = statistics.median(r["cpu_s"] for r in results[first])
    for rev, runs in results.items():
        rate = statistics.median(r["per_s"] for r in runs)
        cpu = statistics.median(r["cpu_s"] for r in runs)
        pairs = zip(runs, results[first], strict=True)
        ratios = [mine["per_s"] / theirs["per_s"] for mine, theirs in pairs]
        print(
            f"{rev:>10}: median {rate:.0f} lifecycles/s "
            f"(best {max(r['per_s'] for r in runs):.0f}), "
            f"{rate / base_rate:.2f}x {first}; per-round ratio median "
            f"{statistics.median(ratios):.2f}; CPU median {cpu / args.tasks * 1000:.3f} ms per "
            f"lifecycle (best {min(r['cpu_s'] for r in runs) / args.tasks * 1000:.3f}), "
            f"{cpu / base_cpu:.2f}x {first}"
        )
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
