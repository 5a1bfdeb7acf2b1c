"""Benchmark of delivery into tmux panes: broadcasts to 8 agents, no display.

Run: ``.venv/bin/python bench/tmux_delivery.py [--agents 8] [--broadcasts 10]
[--direct] [--json]``. Each agent is the scripted agent CLI (tests/apps/term_chat.py:
prompt_toolkit, bracketed paste) in a pane of a private tmux server. A broadcast gives one
message to every agent: queued through swarm (a SQLite home) and delivered by the scheduler
(``Scheduler.run_burst``: its delivery worker's path, different agents at once), or with
``--direct`` handed to the tmux deliverer all at once, without the queue. Prints the wall
time per broadcast (p50, max), per delivery, and the lost / corrupted / duplicated counts
(all must be 0).
Compare with ``bench/delivery.py --apps terminal`` (the desktop driver: one at a time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "automation")]

from messages import make_texts, parcel  # noqa: E402

from automation.tmux.delivery import TmuxDeliverer  # noqa: E402
from core.delivery import KillSwitch  # noqa: E402
from core.models import Agent  # noqa: E402
from tests.tmux_server import Tmux  # noqa: E402


def start_agents(tmux: Tmux, folder: Path, count: int) -> list[tuple[Agent, Path]]:
    """``count`` panes running the scripted CLI, each once its prompt is drawn."""
    started = []
    for n in range(1, count + 1):
        name, out, ready = f"Agent-{n}", folder / f"{n}.jsonl", folder / f"{n}.ready"
        out.touch()
        root = shlex.quote(str(ROOT))
        command = (
            f"cd {root} && exec env -u DISPLAY PYTHONPATH={root} {shlex.quote(sys.executable)} "
            f"-m tests.apps.term_chat {shlex.quote(str(out))} --name {name} "
            f"--ready {shlex.quote(str(ready))}"
        )
        tmux.window("bench", name, command, "120x40")
        started.append((ready, out, name))
    deadline = time.monotonic() + 60
    while not all(ready.exists() for ready, _, _ in started):
        if time.monotonic() > deadline:
            raise SystemExit("the agents never drew their prompts")
        time.sleep(0.05)
    return [
        (Agent(id=name, role="dev", delivery="tmux", app="terminal", tmux=f"bench:{name}",
               tmux_socket=str(tmux.socket), clear=("ctrl+e", "ctrl+u")), out)
        for _, out, name in started
    ]  # fmt: skip


async def measure(agents: list[tuple[Agent, Path]], runs: int, home: Path) -> dict:
    """Broadcast ``runs`` messages; the figures and the audit."""
    deliverer = TmuxDeliverer(home, KillSwitch(home))
    texts = make_texts(runs * len(agents), seed=11, long_every=5)
    walls, each, failed = [], [], 0
    try:
        for run in range(runs):

            async def timed(n: int, agent: Agent, text: str) -> bool:
                began = time.perf_counter()
                receipt = await deliverer.deliver(parcel(n, agent, text))
                each.append(time.perf_counter() - began)
                return receipt.ok

            batch = texts[run * len(agents) : (run + 1) * len(agents)]
            began = time.perf_counter()
            pairs = enumerate(zip(agents, batch, strict=True))
            oks = await asyncio.gather(*(timed(run * 100 + i, a, t) for i, ((a, _), t) in pairs))
            walls.append(time.perf_counter() - began)
            failed += oks.count(False)
    finally:
        deliverer.close()
    wrong = 0
    for i, (_, out) in enumerate(agents):
        got = [json.loads(line)["text"] for line in out.read_text().splitlines()]
        wrong += got != [texts[run * len(agents) + i] for run in range(runs)]
    return {
        "agents": len(agents),
        "broadcasts": runs,
        "broadcast_s_p50": round(statistics.median(walls), 3),
        "broadcast_s_max": round(max(walls), 3),
        "delivery_s_p50": round(statistics.median(each), 3),
        "failed": failed,
        "agents_with_wrong_messages": wrong,
    }


async def through_scheduler(agents: list[tuple[Agent, Path]], runs: int, home: Path) -> dict:
    """Each broadcast queued (one message per agent) and delivered by the scheduler; the
    figures and the audit (every agent got its texts, in order, once)."""
    from automation.routes import build_deliverer
    from core.coordinator.scheduler import Scheduler
    from core.service.swarm import SwarmService
    from core.settings import Settings
    from tests.helpers import write_agents

    config = write_agents(home / "agents.toml", [
        {"id": a.id, "role": "dev", "delivery": "tmux", "tmux": a.tmux,
         "tmux_socket": a.tmux_socket} for a, _ in agents
    ])  # fmt: skip
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    service = await SwarmService.open(settings)
    deliverer = build_deliverer(settings, list(service.agents.values()), service.kill_switch)
    scheduler = Scheduler(service, deliverer)
    texts = make_texts(runs * len(agents), seed=11, long_every=5)
    walls = []
    try:
        for run in range(runs):
            batch = texts[run * len(agents) : (run + 1) * len(agents)]
            began = time.perf_counter()
            for (agent, _), text in zip(agents, batch, strict=True):
                await service.messages.send(agent.id, text, "bench")
            await scheduler.run_burst()
            walls.append(time.perf_counter() - began)
        deliveries = await service.messages.deliveries(limit=10_000)
    finally:
        deliverer.close()
        await service.close()
    wrong = 0
    for i, (_, out) in enumerate(agents):
        got = [json.loads(line)["text"] for line in out.read_text().splitlines()]
        mine = [texts[run * len(agents) + i] for run in range(runs)]
        wrong += len(got) != runs or any(
            _words(text) not in _words(g) for text, g in zip(mine, got, strict=False)
        )  # the envelope ends a message's trailing spaces
    return {
        "agents": len(agents),
        "broadcasts": runs,
        "via": "scheduler",
        "broadcast_s_p50": round(statistics.median(walls), 3),
        "broadcast_s_max": round(max(walls), 3),
        "failed": sum(d.state.value != "delivered" for d in deliveries),
        "agents_with_wrong_messages": wrong,
    }


def _words(text: str) -> str:
    return " ".join(text.split())


def main() -> None:
    """Parse the arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--broadcasts", type=int, default=10)
    parser.add_argument("--direct", action="store_true", help="the deliverer alone, no queue")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="swarm-tmux-bench-") as workdir:
        folder = Path(workdir)
        tmux = Tmux(folder / "tmux.sock")
        try:
            agents = start_agents(tmux, folder, args.agents)
            run = measure if args.direct else through_scheduler
            (folder / "home").mkdir()
            result = asyncio.run(run(agents, args.broadcasts, folder / "home"))
        finally:
            tmux.stop()
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
