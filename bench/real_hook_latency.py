"""Hook event → state visible with the real Claude Code (issue 38, item 9).

Run: ``.venv/bin/python bench/real_hook_latency.py [--turns 30] [--rounds 2] [--json]``.
The pinned Claude Code (tests/agents/launch.py: its own HOME, against ``python -m
localmodel``) runs in a private tmux pane in an agent's workspace, with the hooks ``swarm
agents hooks install`` wrote there. Each hook command is prefixed with a time stamp (``date
+%s.%N`` appended to a file: the moment Claude Code's shell ran the hook, ~1 ms before swarm's
hook starts), and this process reads the agent's state as ``swarm agents`` does every 2 ms.
A figure is the time from a stamp until the state that event means shows (UserPromptSubmit:
``working``; Stop: ``idle``). Rounds alternate the two ways the hook reaches swarm: the
coordinator's socket (``bot.hook_server``, served by this process as ``swarm run`` serves it)
and the hook writing the database itself. SQLite. The model answers at once.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bot.config import Config  # noqa: E402
from bot.hook_server import HookServer  # noqa: E402
from core.service.swarm import SwarmService  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.agents.launch import SETUPS  # noqa: E402
from tests.agents.live import LiveCLI, LocalModel, require_binary, start  # noqa: E402
from tests.helpers import write_agents  # noqa: E402

AGENT = "Agent-1"
SCRIPT = 'default = [{ text = "localmodel default answer" }]\n'
MEANS = {"UserPromptSubmit": "working", "Stop": "idle"}  # the events measured, their state
SWARM = str(Path(sys.executable).parent / "swarm")


@dataclass
class Looks:
    """The agent's state as read every 2 ms: (epoch seconds, state)."""

    seen: list[tuple[float, str]] = field(default_factory=list)
    running: bool = True

    async def watch(self, service: SwarmService) -> None:
        while self.running:
            rows = await service.roster.rows()
            state = next(str(r["state"]) for r in rows if r["id"] == AGENT)
            self.seen.append((time.time(), state))
            await asyncio.sleep(0.002)

    def shown_after(self, stamp: float, state: str) -> float | None:
        """Seconds from ``stamp`` until the first look after it showing ``state`` (the looks
        are in time order: the search starts at ``stamp``, not at the first look)."""
        start = bisect.bisect_left(self.seen, (stamp, ""))
        return next((t - stamp for t, s in islice(self.seen, start, None) if s == state), None)


def install_hooks(work: Path, env: dict[str, str], stamps: Path) -> None:
    """``swarm agents hooks install``, then each measured event's command stamped first."""
    done = subprocess.run([SWARM, "agents", "hooks", "install"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"swarm agents hooks install failed: {done.stderr.strip()}")
    path = work / ".claude" / "settings.local.json"
    settings = json.loads(path.read_text(encoding="utf-8"))
    for event in MEANS:
        for group in settings["hooks"][event]:
            for hook in group["hooks"]:
                stamp = f"echo {event} $(date +%s.%N) >> {stamps}"
                hook["command"] = f"{stamp}; {hook['command']}"
    path.write_text(json.dumps(settings, indent=2), encoding="utf-8")


def stamps_of(path: Path) -> list[tuple[str, float]]:
    if not path.exists():
        return []
    return [(e, float(t)) for e, t in (x.split() for x in path.read_text().splitlines())]


async def turn(live: LiveCLI, stamps: Path, looks: Looks, n: int) -> None:
    """One prompt, until its Stop hook has run and its state shows (the next prompt starts
    from idle)."""
    before = [t for e, t in stamps_of(stamps) if e == "Stop"]
    await asyncio.to_thread(live.send, f"say hello {n}")
    deadline = time.monotonic() + 60
    while len(stops := [t for e, t in stamps_of(stamps) if e == "Stop"]) <= len(before):
        if time.monotonic() > deadline:
            raise SystemExit(f"turn {n}: no Stop hook in 60 s; the pane:\n{live.screen()}")
        await asyncio.sleep(0.05)
    while looks.shown_after(stops[-1], "idle") is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"turn {n}: its Stop hook ran, the state never showed idle")
        await asyncio.sleep(0.05)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000, 1)


async def measure(args: argparse.Namespace, root: Path) -> dict[str, object]:
    work, home = root / "work", root / "swarm"
    work.mkdir()
    await asyncio.to_thread(subprocess.run, ["git", "-C", str(work), "init", "-q"], check=True,
                            timeout=30)  # fmt: skip
    config = write_agents(root / "agents.toml", [
        {"id": AGENT, "role": "dev", "delivery": "inbox", "workspace": str(work),
         "cli": "claude-code"}])  # fmt: skip
    env = {"SWARM_HOME": str(home), "SWARM_CONFIG": str(config), "PATH": "/usr/bin:/bin"}
    stamps = root / "stamps.txt"
    install_hooks(work, env, stamps)
    model = LocalModel(root, SCRIPT)
    setup = SETUPS["claude-code"](require_binary("claude-code"), root / "home", work, model.url)
    live = start("claudecode", root, model, setup.argv, setup.env, work)
    service = await SwarmService.open(Settings.from_env(env))
    server = HookServer(service, Config(env))
    looks = Looks()
    watching = asyncio.create_task(looks.watch(service))
    shown: dict[str, list[float]] = {"socket": [], "database": []}
    try:
        await asyncio.to_thread(live.wait, setup.ready, 90)
        n = 0
        for _ in range(args.rounds):
            for way in ("socket", "database"):
                if way == "socket" and not await server.start():
                    raise SystemExit(f"the hook socket {server.path} could not be served")
                first = len(stamps_of(stamps))
                for _ in range(args.turns):
                    await turn(live, stamps, looks, n)
                    n += 1
                await server.close()
                for event, stamp in stamps_of(stamps)[first:]:
                    took = looks.shown_after(stamp, MEANS[event])
                    if took is None:
                        raise SystemExit(f"{event} at {stamp}: {MEANS[event]} never shown")
                    shown[way].append(took)
    finally:
        looks.running = False
        await watching
        await server.close()
        await service.close()
        live.tmux.stop()
        model.stop()
    return {
        way: {"n": len(v), "p50_ms": pct(v, 0.5), "p99_ms": pct(v, 0.99),
              "max_ms": round(max(v) * 1000, 1)}
        for way, v in shown.items()
    } | {"socket/database p50": round(statistics.median(shown["socket"])
                                      / statistics.median(shown["database"]), 2)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=30, help="prompts per round and way")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="swarm-real-hooks-") as tmp:
        figures = asyncio.run(measure(args, Path(tmp)))
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for way, value in figures.items():
        print(f"{way:<20} {value}")


if __name__ == "__main__":
    main()
