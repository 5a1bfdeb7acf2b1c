"""Benchmark of the desktop driver on real applications on a private Xvfb.

Run: ``.venv/bin/python bench/delivery.py [--apps chat,terminal,tk] [--count 400]
[--broadcasts 10] [--wm] [--json]``. ``chat`` is a Chromium ``--app`` window with a chat
composer (the engine of Cursor and VS Code), ``terminal`` an xterm running a prompt_toolkit
chat prompt (like Claude Code or Aider), ``tk`` a Tk window with Tk's default bindings. The
eight windows are shared out among the kinds in order (``chat,terminal``: 4 Chromium and 4
xterm). ``--wm`` runs openbox as the window manager. Needs Xvfb, xsel, xdotool, chromium and
xterm (the same as ``tests/apps``, whose desktop it reuses).

Prints, per application kind, the time per verified delivery (p50, p99), the time to
broadcast one message to all 8 agents, the ratio to the predecessors' fixed sleeps, and the
lost / misrouted / corrupted / duplicated / empty message counts (all must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "automation")]

from messages import make_texts, parcel  # noqa: E402

from automation.desktop.gui import GuiDriver, GuiOptions  # noqa: E402
from automation.desktop.virtual_desktop import display_env  # noqa: E402
from core.agents_file import load_agents  # noqa: E402
from core.delivery import KillSwitch  # noqa: E402
from core.models import Agent  # noqa: E402
from tests.apps.desktop import MixedDesktop  # noqa: E402

PREDECESSOR_S_PER_AGENT = 4.4  # click, clear, paste, Enter with 0.2-1.0 s sleeps between
KIND_OF_APP = {"chat": "chrome", "terminal": "xterm", "tk": "tk"}


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of the sorted values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def desktop_spec(apps: list[str], windows: int = 8) -> list[str]:
    """Eight windows shared out among the kinds in order (same kinds next to each other)."""
    kinds = [KIND_OF_APP[app] for app in apps]
    share, extra = divmod(windows, len(kinds))
    return [k for i, k in enumerate(kinds) for _ in range(share + (1 if i < extra else 0))]


async def one_by_one(
    driver: GuiDriver, agents: list[Agent], texts: list[str]
) -> tuple[dict[str, list[float]], list[str]]:
    """Deliver ``texts`` round-robin, one at a time; seconds per verified delivery by agent."""
    times: dict[str, list[float]] = {a.id: [] for a in agents}
    failures = []
    for n, text in enumerate(texts):
        agent = agents[n % len(agents)]
        started = time.perf_counter()
        receipt = await driver.deliver(parcel(n, agent, text))
        if receipt.ok:
            times[agent.id].append(time.perf_counter() - started)
        else:
            failures.append(f"delivery {n} to {agent.id}: {receipt.reason}")
    return times, failures


async def broadcasts(
    driver: GuiDriver, agents: list[Agent], runs: int
) -> tuple[list[float], list[list[str]]]:
    """Send one message to all agents at once, ``runs`` times; seconds per broadcast."""
    times, sent = [], []
    for run in range(runs):
        texts = [f"broadcast {run} to {a.id} 📣\nplease pull main and rebase" for a in agents]
        started = time.perf_counter()
        jobs = [
            driver.deliver(parcel(10_000 + run * 8 + i, a, texts[i])) for i, a in enumerate(agents)
        ]
        receipts = await asyncio.gather(*jobs)
        times.append(time.perf_counter() - started)
        sent.append([t if r.ok else "" for t, r in zip(texts, receipts, strict=True)])
    return times, sent


def audit(desktop: MixedDesktop, expected: dict[str, list[str]]) -> dict[str, int]:
    """Count lost, misrouted, corrupted, duplicated and empty messages in what arrived."""
    owner = {text: name for name, texts in expected.items() for text in texts}
    received = {
        name: desktop.wait_for(name, len(texts), timeout=10) for name, texts in expected.items()
    }
    counts = Counter(text for texts in received.values() for text in texts)
    return {
        "lost": sum(1 for text in owner if counts[text] == 0),
        "misrouted": sum(
            1 for name, texts in received.items() for t in texts if owner.get(t, name) != name
        ),
        "corrupted": sum(1 for texts in received.values() for t in texts if t and t not in owner),
        "duplicated": sum(n - 1 for text, n in counts.items() if n > 1 and text),
        "empty": counts[""],
        "out_of_order": sum(
            1
            for name, texts in received.items()
            if [t for t in texts if t in owner] != expected[name][: len(texts)]
        ),
    }


async def measure(desktop: MixedDesktop, count: int, runs: int, home: Path) -> dict:
    """Warm up, deliver one by one, broadcast, audit; the figures."""
    (home / "agents.toml").parent.mkdir(parents=True, exist_ok=True)
    (home / "agents.toml").write_text(desktop.agents_toml(), encoding="utf-8")
    agents = load_agents(home / "agents.toml")
    driver = GuiDriver(home, KillSwitch(home), GuiOptions(human_idle_s=0.2), agents)
    try:
        warm = [f"warm-up for {a.id}" for a in agents]
        await one_by_one(driver, agents, warm)  # imports, first human-idle wait
        texts = make_texts(count)
        times, failures = await one_by_one(driver, agents, texts)
        broadcast_times, broadcast_sent = await broadcasts(driver, agents, runs)
    finally:
        driver.close()
    expected = {a.id: [warm[i], *texts[i :: len(agents)]] for i, a in enumerate(agents)}
    for sent in broadcast_sent:
        for agent, text in zip(agents, sent, strict=True):
            if text:
                expected[agent.id].append(text)
    errors = audit(desktop, expected)
    return figures(desktop, agents, times, failures, broadcast_times, errors, count)


def figures(
    desktop: MixedDesktop,
    agents: list[Agent],
    times: dict[str, list[float]],
    failures: list[str],
    broadcast: list[float],
    errors: dict[str, int],
    count: int,
) -> dict:
    """The results as one JSON-able dict."""
    by_kind: dict[str, list[float]] = {}
    for agent, window in zip(agents, desktop.windows, strict=True):
        by_kind.setdefault(window.kind, []).extend(times[agent.id])
    kinds = {
        kind: {
            "deliveries": len(values),
            "p50_ms": round(percentile(values, 0.5) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1),
        }
        for kind, values in by_kind.items()
        if values
    }
    return {
        "spec": desktop.spec,
        "window_manager": desktop.window_manager,
        "count": count,
        "ok": sum(len(v) for v in times.values()),
        "failures": failures,
        "kinds": kinds,
        "broadcast_p50_s": round(statistics.median(broadcast), 3) if broadcast else None,
        "broadcast_max_s": round(max(broadcast), 3) if broadcast else None,
        "broadcasts": len(broadcast),
        "errors": errors,
        "startup_s": round(desktop.startup_s, 2),
    }


def report(result: dict) -> None:
    """Print the figures for a person."""
    wm = "openbox" if result["window_manager"] else "no window manager"
    print(
        f"desktop delivery benchmark: Xvfb 1920x1080, {', '.join(result['spec'])} ({wm}), "
        f"{result['count']} messages round-robin; desktop up in {result['startup_s']} s"
    )
    for kind, k in result["kinds"].items():
        ratio = PREDECESSOR_S_PER_AGENT * 1000 / k["p50_ms"]
        print(
            f"  {kind:<7} per verified delivery: p50 {k['p50_ms']:.1f} ms, "
            f"p99 {k['p99_ms']:.1f} ms over {k['deliveries']} ({ratio:.0f}x the predecessors' "
            f"{PREDECESSOR_S_PER_AGENT} s)"
        )
    if result["broadcast_p50_s"] is not None:
        old8 = PREDECESSOR_S_PER_AGENT * 8
        print(
            f"  broadcast to 8 agents: p50 {result['broadcast_p50_s']:.3f} s over "
            f"{result['broadcasts']} runs (max {result['broadcast_max_s']:.3f} s; "
            f"predecessors {old8:.1f} s -> {old8 / result['broadcast_p50_s']:.0f}x)"
        )
    print(
        f"  {result['ok']}/{result['count']} ok; "
        + ", ".join(f"{name} {value}" for name, value in result["errors"].items())
    )
    for failure in result["failures"][:10]:
        print(f"  failed: {failure}")


async def run(args: argparse.Namespace, workdir: Path) -> int:
    """Start the desktop, measure, print; the exit status (1 if any message went astray)."""
    spec = desktop_spec(args.apps)
    desktop = MixedDesktop(spec, workdir / "desktop", window_manager=args.wm).start()
    try:
        with display_env(desktop.xserver):
            result = await measure(desktop, args.count, args.broadcasts, workdir / "home")
    finally:
        desktop.stop()
    if args.json:
        print(json.dumps(result))
    else:
        report(result)
    clean = result["ok"] == args.count and not any(result["errors"].values())
    return 0 if clean else 1


def main() -> None:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--apps",
        default="chat,terminal,tk",
        type=lambda v: [a.strip() for a in v.split(",") if a.strip()],
        help="application kinds: chat, terminal, tk (default all three)",
    )
    parser.add_argument("--count", type=int, default=400, help="messages one by one")
    parser.add_argument("--broadcasts", type=int, default=10, help="broadcasts to all 8")
    parser.add_argument("--wm", action="store_true", help="run openbox as window manager")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    unknown = [a for a in args.apps if a not in KIND_OF_APP] or ([] if args.apps else ["(none)"])
    if unknown or args.count < 0 or args.broadcasts < 0:
        parser.error(f"--apps takes {', '.join(KIND_OF_APP)}; counts must be >= 0")
    with tempfile.TemporaryDirectory(prefix="swarm-bench-") as tmp:
        sys.exit(asyncio.run(run(args, Path(tmp))))


if __name__ == "__main__":
    main()
