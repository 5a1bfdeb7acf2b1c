"""The same work under two or more Python interpreters: how much faster a distribution's
optimized build runs the suite's kind of work than a plain source build.

Run: ``.venv/bin/python bench/python_speed.py PYTHON... [--rounds 5]``, e.g. two venvs' Pythons
(one made from pyenv's build, one from Debian's ``/usr/bin/python3``). Each workload is a new
process, the interpreters alternating round by round; prints each one's CPU (user + system,
from ``wait4``) p50 per workload, and each as a ratio of the first interpreter's in the same
run. Workloads: **pure Python** (loops, objects, JSON: the standard library only) and, for an
interpreter that can import swarm's dependencies (a venv's), **swarm's start** (the
coordinator's and the CLI's imports) and **an ACP host's import** (the SDK's pydantic models).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bench.host_start import HOST_WAY, run  # noqa: E402

PURE = """
import json
def spin(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total
class Point:
    def __init__(self, x):
        self.x = x
spin(3_000_000)
json.loads(json.dumps([{"a": i, "b": [str(i)] * 5} for i in range(100_000)]))
[Point(i).x for i in range(500_000)]
"""
WORKLOADS = {
    "pure Python": PURE,
    "swarm's start": "import bot.cli.main, bot.app",
    "an ACP host's import": HOST_WAY,
}


def cpu(python: str, code: str) -> float | None:
    """CPU seconds of one ``PYTHON -c CODE`` (None: it failed, e.g. no swarm there)."""
    took = run(python, code)
    return None if took is None else took[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pythons", nargs="+", metavar="PYTHON")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for python in args.pythons:  # once each first: byte code written, caches warm
        for code in WORKLOADS.values():
            cpu(python, code)
    samples: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name, code in WORKLOADS.items():
            for python in args.pythons:
                took = cpu(python, code)
                if took is not None:
                    samples.setdefault((name, python), []).append(took)
    for name in WORKLOADS:
        base = samples.get((name, args.pythons[0]))
        for python in args.pythons:
            got = samples.get((name, python))
            if got is None:
                print(f"{name:22} {python}: cannot run it")
                continue
            p50 = statistics.median(got)
            ratio = f", {p50 / statistics.median(base):.2f} of the first" if base else ""
            print(f"{name:22} {python}: CPU p50 {p50:.2f} s{ratio}")
    print(f"({args.rounds} rounds)")


if __name__ == "__main__":
    main()
