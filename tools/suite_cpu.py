"""Where the suite's time goes: each test's wall time and an estimate of the CPU it used.

As a pytest plugin it writes one line per test to ``$SUITE_CPU_FILE`` (the worker and its
pid, the test's start and end, the machine's busy time from ``/proc/stat`` at both, the
runner's own CPU in it):

    SUITE_CPU_FILE=/tmp/suite.tsv PYTEST_ADDOPTS="-p tools.suite_cpu" make test

Run on that file it estimates each test's CPU: between any two test boundaries (of any
worker) the machine's busy cores are the sum of the rates of the tests running then, one per
worker; the rates are the least-squares fit of all those intervals (pulled gently toward
0.7 core, so a test seen in few intervals stays sane), solved by coordinate descent. Prints
the totals, the tests with the most wall time not spent on CPU (waits: timers, retries,
sleeps), and the modules by CPU:

    python tools/suite_cpu.py /tmp/suite.tsv [--top 40]

The estimate counts everything the machine ran (the CLIs a test started, PostgreSQL, the
type check beside the suite) to the tests running at the time. Asserts nothing.

Machines differ (the same code's suite took 880-930 s on one and 1,300-1,400 s on the next),
so each runner also writes the machine's pace at its start and end: the least time of
three runs of a fixed Python loop (``PACE_STEPS`` steps), printed with the totals; a suite's
time compares across machines only beside it.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

PRIOR = 0.7  # the rate a test is pulled toward (cores)
PACE_STEPS = 1_000_000  # of the loop a runner times at its start and end
PACE = "#pace"  # the first field of a pace line
PULL = 0.25  # how hard (an interval's weight is its length in seconds)
Spans = list[tuple[list[int], float, float]]  # the tests running, seconds, busy cores


def _busy() -> int:
    """The machine's busy time so far, in clock ticks (user, nice, system, irq, softirq)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = stat.readline().split()
    return sum(int(fields[i]) for i in (1, 2, 3, 6, 7))


def _own() -> float:
    """The CPU seconds this process (the runner, not what it started) has used so far."""
    times = os.times()
    return times.user + times.system


def pace() -> float:
    """The least of three timings (seconds) of ``PACE_STEPS`` steps of a Python loop."""
    best = float("inf")
    for _ in range(3):
        start, total = time.perf_counter(), 0
        for step in range(PACE_STEPS):
            total += step
        best = min(best, time.perf_counter() - start)
    return best


def _write_pace(when: str) -> None:
    path = os.environ.get("SUITE_CPU_FILE")
    if path:
        runner = f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}"
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{PACE}\t{runner}\t{when}\t{time.time():.3f}\t{pace():.4f}\n")


def pytest_sessionstart(session: pytest.Session) -> None:
    """The machine's pace as this runner starts."""
    _write_pace("start")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The machine's pace as this runner ends."""
    _write_pace("end")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    """The test's line, once its setup, call and teardown are over, where it ran (a worker,
    not the controller that reports it)."""
    path = os.environ.get("SUITE_CPU_FILE")
    start, busy, own = time.time(), _busy(), _own()
    try:
        return (yield)
    finally:
        if path:
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            runner = f"{worker}-{os.getpid()}"  # a pytest a test runs is a runner too
            line = (f"{runner}\t{start:.3f}\t{time.time():.3f}\t{busy}\t{_busy()}"
                    f"\t{_own() - own:.3f}\t{item.nodeid}\n")  # fmt: skip
            with open(path, "a", encoding="utf-8") as out:
                out.write(line)


@dataclass(frozen=True)
class Test:
    """One test's line."""

    worker: str
    start: float
    end: float
    busy_start: int
    busy_end: int
    nodeid: str
    own: float | None = None  # the runner's own CPU in the test (lines since it was written)

    @property
    def wall(self) -> float:
        return self.end - self.start


def read(path: Path) -> list[Test]:
    """The tests' lines of a run."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(PACE):
            continue
        worker, start, end, b0, b1, *own, nodeid = line.split("\t")
        found.append(Test(worker, float(start), float(end), int(b0), int(b1), nodeid,
                          float(own[0]) if own else None))  # fmt: skip
    return found


def intervals(tests: list[Test], hz: float) -> Spans:
    """Between consecutive boundaries: the tests running (by index), the length in seconds,
    the busy cores measured."""
    samples = sorted(
        [(t.start, t.busy_start) for t in tests] + [(t.end, t.busy_end) for t in tests]
    )
    by_worker: dict[str, list[int]] = collections.defaultdict(list)
    for i, test in enumerate(tests):
        by_worker[test.worker].append(i)
    for indexes in by_worker.values():
        indexes.sort(key=lambda i: tests[i].start)
    at = dict.fromkeys(by_worker, 0)
    found = []
    for (t0, b0), (t1, b1) in itertools.pairwise(samples):
        if t1 - t0 < 0.05:
            continue
        middle, running = (t0 + t1) / 2, []
        for worker, indexes in by_worker.items():
            while at[worker] < len(indexes) and tests[indexes[at[worker]]].end < middle:
                at[worker] += 1
            if at[worker] < len(indexes) and tests[indexes[at[worker]]].start <= middle:
                running.append(indexes[at[worker]])
        found.append((running, t1 - t0, (b1 - b0) / hz / (t1 - t0)))
    return found


def rates(
    count: int, spans: list[tuple[list[int], float, float]], rounds: int = 200
) -> list[float]:
    """Each test's CPU rate (cores): coordinate descent on the weighted least squares."""
    rate = [PRIOR] * count
    rows: list[list[int]] = [[] for _ in range(count)]
    for n, (running, _, _) in enumerate(spans):
        for i in running:
            rows[i].append(n)
    for _ in range(rounds):
        for i in range(count):
            top, weight = PULL * PRIOR, PULL
            for n in rows[i]:
                running, length, cores = spans[n]
                others = sum(rate[j] for j in running if j != i)
                top += length * (cores - others)
                weight += length
            rate[i] = min(2.0, max(0.0, top / weight))
    return rate


def read_paces(path: Path) -> list[float]:
    """The paces the runners wrote (seconds), in the order written."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [float(line.split("\t")[4]) for line in lines if line.startswith(PACE)]


def report(tests: list[Test], rate: list[float], top: int, hz: float) -> None:
    """The totals, the most waiting tests, the modules by CPU."""
    cpu = [r * t.wall for r, t in zip(rate, tests, strict=True)]
    busy = (max(t.busy_end for t in tests) - min(t.busy_start for t in tests)) / hz
    span = max(t.end for t in tests) - min(t.start for t in tests)
    wall = sum(t.wall for t in tests)
    print(f"{len(tests)} tests, {span:.0f} s from the first start to the last end, "
          f"{busy:.0f} core-seconds busy ({busy / span:.2f} cores)")  # fmt: skip
    print(
        f"the tests' wall time {wall:.0f} s: CPU {sum(cpu):.0f} s, waiting {wall - sum(cpu):.0f} s"
    )
    waits = sorted(range(len(tests)), key=lambda i: cpu[i] - tests[i].wall)
    print(f"\nthe {top} tests waiting most (wall, CPU rate):")
    for i in waits[:top]:
        print(f"  {tests[i].wall:6.1f} s  {rate[i]:4.2f}  {tests[i].nodeid[:110]}")
    modules: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0])
    for test, used in zip(tests, cpu, strict=True):
        module = modules[test.nodeid.split("::")[0]]
        module[0] += test.wall
        module[1] += used
    print(f"\nthe {top} modules by CPU (wall, CPU, waiting):")
    for name, (spent, used) in sorted(modules.items(), key=lambda m: -m[1][1])[:top]:
        print(f"  {spent:7.1f} {used:7.1f} {spent - used:7.1f}  {name}")


def report_runners(tests: list[Test], top: int) -> None:
    """The runners' own CPU (the in-process work of the tests): its total, the tests and the
    modules using most."""
    mine = [t for t in tests if t.own is not None]
    if not mine:
        return
    total = sum(t.own or 0.0 for t in mine)
    print(f"\nthe runners' own CPU {total:.0f} s; the {top} tests using most:")
    for test in sorted(mine, key=lambda t: -(t.own or 0.0))[:top]:
        print(f"  {test.own:6.1f} s of {test.wall:6.1f} s  {test.nodeid[:110]}")
    modules: dict[str, float] = collections.defaultdict(float)
    for test in mine:
        modules[test.nodeid.split("::")[0]] += test.own or 0.0
    print(f"\nthe {top} modules by the runner's own CPU:")
    for name, used in sorted(modules.items(), key=lambda m: -m[1])[:top]:
        print(f"  {used:7.1f}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    tests, hz = read(args.file), float(os.sysconf("SC_CLK_TCK"))
    spans = intervals(tests, hz)
    paces = read_paces(args.file)
    if paces:
        shown = ", ".join(f"{p * 1000:.0f}" for p in paces)
        print(
            f"the machine's pace (ms for {PACE_STEPS:,} loop steps, each runner's start "
            f"and end): {shown}"
        )
    report(tests, rates(len(tests), spans), args.top, hz)
    report_runners(tests, args.top)


if __name__ == "__main__":
    main()
