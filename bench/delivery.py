"""Benchmark of the desktop driver on a private Xvfb with the eight Tk test windows.

Run: ``.venv/bin/python bench/delivery.py [--count 400] [--broadcasts 10]``. Needs Xvfb, xsel
and xdotool (the same as ``tests/automation``, whose desktop helpers it reuses).
Prints the time per verified delivery, the time to broadcast one message to all 8 agents,
the ratio to the predecessors' fixed sleeps, and the lost / misrouted message counts.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "automation")]

from messages import make_texts, parcel  # noqa: E402

from automation import virtual_desktop as desktop_env  # noqa: E402
from automation.gui import GuiDriver  # noqa: E402
from core.killswitch import KillSwitch  # noqa: E402
from core.models import Agent  # noqa: E402

PREDECESSOR_S_PER_AGENT = 4.4  # click, clear, paste, Enter with 0.2-1.0 s sleeps between


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of the sorted values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def one_by_one(driver: GuiDriver, agents: list[Agent], texts: list[str]) -> list[float]:
    """Deliver ``texts`` round-robin, one at a time; seconds per verified delivery."""
    times = []
    for n, text in enumerate(texts):
        started = time.perf_counter()
        receipt = await driver.deliver(parcel(n, agents[n % 8], text))
        if receipt.ok:
            times.append(time.perf_counter() - started)
        else:
            print(f"  delivery {n} failed: {receipt.reason}")
    return times


async def broadcasts(
    driver: GuiDriver, agents: list[Agent], runs: int
) -> tuple[list[float], list[list[str]]]:
    """Send one message to all 8 agents at once, ``runs`` times; seconds per broadcast."""
    times, sent = [], []
    for run in range(runs):
        texts = [f"broadcast {run} to {a.id} 📣\nplease pull main and rebase" for a in agents]
        started = time.perf_counter()
        jobs = [
            driver.deliver(parcel(10_000 + run * 8 + i, a, texts[i])) for i, a in enumerate(agents)
        ]
        receipts = await asyncio.gather(*jobs)
        times.append(time.perf_counter() - started)
        sent.append([t for t, r in zip(texts, receipts, strict=True) if r.ok])
    return times, sent


def audit(windows: desktop_env.AgentWindows, expected: dict[int, list[str]]) -> dict[str, int]:
    """Count lost, misrouted, corrupted and duplicated messages in the windows' records."""
    owner = {text: i for i, texts in expected.items() for text in texts}
    received = {i: windows.wait_for(i, len(expected[i]), timeout=10) for i in range(8)}
    counts = Counter(text for texts in received.values() for text in texts)
    misrouted = sum(1 for i, texts in received.items() for t in texts if owner.get(t, i) != i)
    return {
        "lost": sum(1 for text in owner if counts[text] == 0),
        "misrouted": misrouted,
        "corrupted": sum(1 for texts in received.values() for t in texts if t not in owner),
        "duplicated": sum(n - 1 for text, n in counts.items() if n > 1),
    }


async def run(count: int, runs: int, workdir: Path) -> int:
    """Start the desktop, measure, print; the exit status (1 if any message went astray)."""
    server = desktop_env.start_xvfb(workdir / "xvfb")
    try:
        with desktop_env.display_env(server):
            windows = desktop_env.open_windows(server, workdir / "windows")
            try:
                return await measure(windows, count, runs, workdir / "home")
            finally:
                windows.stop()
    finally:
        server.stop()


async def measure(windows: desktop_env.AgentWindows, count: int, runs: int, home: Path) -> int:
    """The measurements proper, on running windows."""
    agents = [
        Agent(id=f"Agent-{i + 1}", role="bench", input=desktop_env.input_point(i)) for i in range(8)
    ]
    driver = GuiDriver(home, KillSwitch(home))
    try:
        warm = [f"warm-up for Agent-{i + 1}" for i in range(8)]
        await one_by_one(driver, agents, warm)  # imports, first human-idle wait
        texts = make_texts(count)
        times = await one_by_one(driver, agents, texts)
        broadcast_times, broadcast_sent = await broadcasts(driver, agents, runs)
    finally:
        driver.close()
    expected = {i: [warm[i], *texts[i::8]] for i in range(8)}
    for sent in broadcast_sent:
        for i, text in enumerate(sent):
            expected[i].append(text)
    errors = audit(windows, expected)
    report(count, times, broadcast_times, errors)
    return 0 if len(times) == count and not any(errors.values()) else 1


def report(count: int, times: list[float], broadcast: list[float], errors: dict[str, int]) -> None:
    """Print the figures."""
    p50, p99 = percentile(times, 0.50) * 1000, percentile(times, 0.99) * 1000
    b50 = statistics.median(broadcast)
    old8 = PREDECESSOR_S_PER_AGENT * 8
    print(f"desktop delivery benchmark: Xvfb 1920x1080, 8 Tk windows, {count} messages")
    print(f"per verified delivery: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({len(times)}/{count} ok)")
    print(
        f"broadcast to 8 agents: p50 {b50:.3f} s over {len(broadcast)} runs "
        f"(min {min(broadcast):.3f} s, max {max(broadcast):.3f} s)"
    )
    print(
        f"predecessors' fixed sleeps: {PREDECESSOR_S_PER_AGENT} s per agent, {old8:.1f} s for 8 "
        f"-> {PREDECESSOR_S_PER_AGENT * 1000 / p50:.0f}x faster per delivery, "
        f"{old8 / b50:.0f}x per broadcast"
    )
    print(", ".join(f"{name} {value}" for name, value in errors.items()))


def main() -> None:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=400, help="messages one by one")
    parser.add_argument("--broadcasts", type=int, default=10, help="broadcasts to all 8")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="swarm-bench-") as tmp:
        sys.exit(asyncio.run(run(args.count, args.broadcasts, Path(tmp))))


if __name__ == "__main__":
    main()
