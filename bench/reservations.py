"""File reservations: how many reservations are checked per second, with 8 agents holding 50
globs each (400 live reservations), and what the pre-commit hook costs.

Run: .venv/bin/python bench/reservations.py [--rounds 30]

1. The pure decision (``core.reservations._patterns.overlap``): one new pattern against each of
   the 400 patterns, automata cached (as in a running process) and cold (cache cleared
   each round, as in a fresh CLI process); baseline in the same run: matching one path
   against the 400 patterns with their compiled regular expressions.
2. ``service.reservations.conflicts`` (a read: the live rows, then the decisions) and
   ``reserve`` (a read and the decisions, then one write transaction: purge, read again,
   decide only what changed, insert, event), per call and
   per reservation checked, against the 400; baseline: the same calls on an empty table.
3. The hook: ``python -m bot.cli.main reservations check-commit`` in a git repository with
   one staged file, as git runs it; baseline ``python -m bot.cli.main --version``.
Prints figures only (SQLite in a temporary home).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.reservations import _patterns as rules
from core.service.swarm import SwarmService
from core.settings import Settings

AGENTS = [f"Agent-{n}" for n in range(1, 9)]
PER_AGENT = 50
NEW = ["src/**/handlers_*.py", "docs/guide/*.md", "**/settings.toml", "lib/x[0-9]/*.c"]


def globs(agent_index: int) -> list[str]:
    """50 globs of one agent: folders, file globs, classes and leading ``**``, disjoint
    from every other agent's."""
    a = agent_index
    out = []
    for i in range(PER_AGENT):
        kind = i % 5
        out.append(
            [
                f"src/a{a}/m{i}/**",
                f"src/a{a}/f{i}_*.py",
                f"docs/a{a}/p{i}/*.md",
                f"gen/**/a{a}_{i}.txt",
                f"lib/a{a}/x[0-9]{i}/*.c",
            ][kind]
        )
    return out


def median_ms(samples: list[float]) -> float:
    """The median of seconds, in milliseconds."""
    return statistics.median(samples) * 1000


def pure(rounds: int) -> None:
    """Overlap decisions per second, warm and cold, against regex matching."""
    held = [rules.normalise(g) for a in range(len(AGENTS)) for g in globs(a)]
    new = [rules.normalise(p) for p in NEW]
    warm, cold, match = [], [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for p in new:
            for h in held:
                rules.overlap(p, h)
        warm.append(time.perf_counter() - start)
        rules._automaton.cache_clear()
        start = time.perf_counter()
        for p in new:
            for h in held:
                rules.overlap(p, h)
        cold.append(time.perf_counter() - start)
        start = time.perf_counter()
        for h in held:
            rules.matches(h, "src/a3/m7/deep/file.py")
        match.append(time.perf_counter() - start)
    pairs = len(new) * len(held)
    w, c, m = (statistics.median(s) for s in (warm, cold, match))
    print(f"pure decision, {pairs} pattern pairs per round ({len(held)} held), median of {rounds}:")
    print(f"  overlap, automata cached:  {pairs / w:,.0f} checks/s ({w / pairs * 1e6:.1f} µs each)")
    print(f"  overlap, automata rebuilt: {pairs / c:,.0f} checks/s ({c / pairs * 1e6:.1f} µs each)")
    print(
        f"  baseline, a path against {len(held)} compiled regexes: "
        f"{len(held) / m:,.0f} matches/s; overlap warm costs {w / pairs / (m / len(held)):.1f}x"
    )


async def service_calls(rounds: int) -> None:
    """conflicts() and reserve() against 400 live reservations, and on an empty table."""
    with tempfile.TemporaryDirectory() as tmp:
        for label, fill in (("empty table", False), ("8 agents x 50 globs", True)):
            home = Path(tmp) / label.replace(" ", "_")
            home.mkdir()
            service = await SwarmService.open(Settings.from_env({"SWARM_HOME": str(home)}))
            try:
                if fill:
                    for index, agent in enumerate(AGENTS):
                        await service.reservations.reserve(agent, globs(index))
                rows = len(await service.reservations.held())
                asks, takes = [], []
                for n in range(rounds):
                    start = time.perf_counter()
                    await service.reservations.conflicts(NEW)
                    asks.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    await service.reservations.reserve("Agent-1", [f"new/r{n}/**"])
                    takes.append(time.perf_counter() - start)
                ask, take = median_ms(asks), median_ms(takes)
                checks = len(NEW) * rows
                rate = f" = {checks / (ask / 1000):,.0f} reservations checked/s" if rows else ""
                print(
                    f"{label} ({rows} live): conflicts({len(NEW)} patterns) {ask:.2f} ms"
                    f"{rate}; reserve(1 pattern) {take:.2f} ms (a read, then one write transaction)"
                )
            finally:
                await service.close()


def hook(rounds: int) -> None:
    """The pre-commit hook's check against ``swarm --version``."""
    with tempfile.TemporaryDirectory() as tmp:
        home, repo = Path(tmp) / "home", Path(tmp) / "repo"
        home.mkdir()
        asyncio.run(_fill(home))
        env = {**os.environ, "SWARM_HOME": str(home), "XDG_CONFIG_HOME": f"{tmp}/none"}
        env.pop("SWARM_DATABASE_URL", None)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        (repo / "a.py").write_text("x\n")
        subprocess.run(["git", "add", "a.py"], cwd=repo, check=True)
        program = [sys.executable, "-m", "bot.cli.main"]
        for label, args in (
            ("swarm --version (baseline)", ["--version"]),
            ("reservations check-commit", ["reservations", "check-commit", "--agent", "Agent-8"]),
        ):
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                done = subprocess.run([*program, *args], cwd=repo, env=env, capture_output=True)
                times.append(time.perf_counter() - start)
                assert done.returncode == 0, done.stderr
            print(f"hook: {label}: median {median_ms(times):.0f} ms")


async def _fill(home: Path) -> None:
    service = await SwarmService.open(Settings.from_env({"SWARM_HOME": str(home)}))
    try:
        for index, agent in enumerate(AGENTS):
            await service.reservations.reserve(agent, globs(index))
    finally:
        await service.close()


def main() -> None:
    """Run the three parts and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    pure(args.rounds)
    asyncio.run(service_calls(args.rounds))
    hook(max(5, args.rounds // 3))


if __name__ == "__main__":
    main()
