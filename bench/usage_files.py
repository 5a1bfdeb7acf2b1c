"""The usage watch's look at Codex's sessions folder, which keeps every session Codex ever ran.

A Codex home with ``--history`` past rollouts (the pinned 0.169.0's real rollout, its ``cwd``
another project's) spread over ``--days`` day folders, and ``--agents`` Codex agents over a
real SQLite store, each with one session of today in its workspace. Each tick of swarm's usage
watch (``core.watch.usage_files``, as the watcher runs it) is timed, after the first look:
listing only the day's folders and the sessions already followed (``SessionFiles.recent``,
now) against listing the whole folder at each tick (before), in the same run.

    .venv/bin/python bench/usage_files.py --history 5000 --agents 8 --ticks 20
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.clis import by_name
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch import usage_files
from tests.helpers import write_agents

FIXTURE = Path(__file__).resolve().parents[1] / "tests/costs/data/codex-0.169.0-rollout.jsonl"
FIXTURE_CWD = "/tmp/h51/codex/root/work"  # the cwd the real run had
SESSION = "01a2174c-ad5f-7242-868b-b3a5a57107b1"


def rollout(folder: Path, n: int, cwd: str, text: str) -> None:
    """The fixture as session ``n`` run in ``cwd``."""
    session = f"{SESSION[:-12]}{n:012d}"
    body = text.replace(SESSION, session).replace(FIXTURE_CWD, cwd)
    (folder / f"rollout-2026-01-01T00-00-00-{session}.jsonl").write_text(body)


def build(root: Path, history: int, days: int, agents: int) -> dict[str, str]:
    """The Codex home, the agents file and the environment swarm runs with."""
    text = FIXTURE.read_text()
    sessions = root / "codex" / "sessions"
    now = time.time()
    for n in range(history):
        day = time.strftime("%Y/%m/%d", time.localtime(now - (n % days + 3) * 86400))
        folder = sessions / day
        folder.mkdir(parents=True, exist_ok=True)
        rollout(folder, n, f"/srv/old-project-{n % 7}", text)
    today = sessions / time.strftime("%Y/%m/%d", time.localtime(now))
    today.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for i in range(agents):
        work = root / f"work-{i}"
        work.mkdir()
        rollout(today, history + i, str(work), text)
        rows.append({"id": f"C{i}", "role": "dev", "cli": "codex", "delivery": "tmux",
                     "tmux": f"s:{i}", "workspace": str(work)})  # fmt: skip
    config = write_agents(root / "agents.toml", rows)
    (root / "home").mkdir()
    return {"SWARM_HOME": str(root / "home"), "SWARM_CONFIG": str(config),
            "CODEX_HOME": str(root / "codex")}  # fmt: skip


async def ticks(env: dict[str, str], count: int, recent: bool) -> list[float]:
    """``count`` timed ticks after the first look, listing the day's folders or all."""
    codex = by_name("codex")
    assert codex is not None and codex.sessions is not None
    cli = codex if recent else dataclasses.replace(
        codex, sessions=dataclasses.replace(codex.sessions, recent=None)
    )  # fmt: skip
    pick = mock.patch.object(usage_files, "by_name", lambda n: cli if n == "codex" else by_name(n))
    service = await SwarmService.open(Settings.from_env(env))
    try:
        pick.start()
        watch = usage_files.UsageFiles(service.store)
        await watch.tick()  # the first look: the whole folder, both ways
        times = []
        for _ in range(count):
            began = time.perf_counter()
            await watch.tick()
            times.append(time.perf_counter() - began)
        return times
    finally:
        await service.close()
        pick.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--history", type=int, default=5000, help="past rollouts (5000)")
    parser.add_argument("--days", type=int, default=300, help="their day folders (300)")
    parser.add_argument("--agents", type=int, default=8, help="Codex agents (8)")
    parser.add_argument("--ticks", type=int, default=20, help="timed ticks per way (20)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = build(Path(tmp), args.history, args.days, args.agents)
        before = asyncio.run(ticks(env, args.ticks, recent=False))
        now = asyncio.run(ticks(env, args.ticks, recent=True))
    b50, n50 = statistics.median(before), statistics.median(now)
    print(f"{args.history} past rollouts in {args.days} day folders, {args.agents} Codex agents")
    print(f"a tick, listing the whole folder (before): p50 {b50 * 1000:.1f} ms, "
          f"max {max(before) * 1000:.1f} ms")  # fmt: skip
    print(f"a tick, the day's folders and the sessions followed (now): p50 {n50 * 1000:.1f} ms, "
          f"max {max(now) * 1000:.1f} ms: {b50 / n50:.0f}x faster")  # fmt: skip


if __name__ == "__main__":
    main()
