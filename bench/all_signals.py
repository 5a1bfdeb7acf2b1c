"""CPU of watching 8 agents at a 1 s interval with every signal at once: screen, terminal
text and hooks (issue 24's goal: < 5 % of one core).

Run: ``.venv/bin/python bench/all_signals.py [--seconds 30] [--hook-every 4]``. Needs Xvfb,
xdotool, xterm, chromium (as ``bench/watch_cpu.py``) and tmux.

Eight agents, each with all three signals:

- **screen**: the eight real windows of ``bench/watch_cpu.py`` on a private Xvfb (streaming
  Tk / xterm / Chromium, a spinner line, a scrolling text, a frozen xterm, a frozen Chromium
  page, a frozen focused Tk text with its caret blinking), each agent's ``watch`` region;
- **text**: the eight saved panes of ``bench/text_signal.py`` in a private tmux server, each
  agent's ``tmux`` pane, classified with every rule file (no ``cli`` key: the costlier way);
- **hooks**: every agent's Claude Code runs its installed hook command (``python -m
  bot.cli.hook``, a new process, the event's JSON on stdin) every ``--hook-every`` seconds,
  ``PreToolUse`` and ``Stop`` in turn, started by a separate process (the agents).

The coordinator's part is ``Watcher.tick()`` as ``swarm run`` builds it (pane reading and
classifying, screen grabbing and judging, the rules tick judging every agent, in one
process) every ``--interval``: measured as this process's CPU, the ``tmux capture-pane``
clients it starts and the tmux server's. The hooks' processes are measured apart (their own
CPU, reported by the process that started them). Prints figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from subprocess import PIPE
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from automation.desktop.virtual_desktop import display_env, start_xvfb  # noqa: E402
from automation.desktop.watch import ScreenFrames  # noqa: E402
from bench.text_signal import server_cpu_s  # noqa: E402
from bench.text_signal import start as start_panes  # noqa: E402
from bench.watch_cpu import open_all  # noqa: E402
from core.agents import load_rule_sets  # noqa: E402
from core.coordinator.jobs import Watcher  # noqa: E402
from core.service.swarm import SwarmService  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.watch.settings import WatchSettings  # noqa: E402
from core.watch.text_signal import TextWatcher  # noqa: E402

# The agents: each runs its hook every EVERY s, staggered; prints the hooks' CPU at the end.
AGENTS = textwrap.dedent(
    """
    import json, resource, subprocess, sys, time
    agents, every, seconds, env = json.loads(sys.argv[1])
    began, n, running = time.monotonic(), 0, []
    while time.monotonic() - began < seconds:
        for i, agent in enumerate(agents):
            due = began + (n + i / len(agents)) * every
            time.sleep(max(0.0, due - time.monotonic()))
            name = "PreToolUse" if n % 2 == 0 else "Stop"
            body = {"session_id": agent, "transcript_path": "/tmp/t.jsonl", "cwd": "/tmp",
                    "permission_mode": "default", "hook_event_name": name,
                    "tool_name": "Bash", "tool_input": {"command": "make test"}}
            hook = [sys.executable, "-m", "bot.cli.hook", "--agent", agent]
            running.append(subprocess.Popen(hook, stdin=subprocess.PIPE, env=env))
            running[-1].communicate(json.dumps(body).encode())
        n += 1
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"hooks": len(running), "cpu_s": kids.ru_utime + kids.ru_stime}))
    """
)


def agents_file(path: Path, boxes: list[tuple[int, int, int, int]], socket: str) -> Path:
    """Eight agents, each watching a window and reading a pane."""
    parts = []
    for index, (x, y, width, height) in enumerate(boxes):
        parts.append(
            f'[[agent]]\nid = "Agent-{index + 1}"\nrole = "dev"\ndelivery = "inbox"\n'
            f"input = [{x + width // 2}, {y + height // 2}]\n"
            f"watch = [{x}, {y}, {width}, {height}]\n"
            f'tmux = "bench:w{index}"\ntmux_socket = "{socket}"\n'
        )
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def stop_panes(socket: str) -> None:
    """Kill the private tmux server."""
    subprocess.run(["tmux", "-S", socket, "kill-server"], check=False)


def own_and_clients_cpu_s() -> float:
    """This process's CPU and its finished children's (the tmux clients)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


async def watch(service: SwarmService, seconds: float, interval: float) -> tuple[int, float]:
    """``Watcher.tick()`` every ``interval`` for ``seconds``: ticks and wall seconds."""
    rule_sets, _ = load_rule_sets(None)
    text = TextWatcher(service, rule_sets)
    watcher = Watcher(service, WatchSettings(interval_s=interval), ScreenFrames(), text=text)
    ticks, began = 0, time.monotonic()
    try:
        await watcher.tick()  # the first frames and panes, before the measure
        began = time.monotonic()
        while time.monotonic() - began < seconds:
            await asyncio.sleep(max(0.0, began + ticks * interval - time.monotonic()))
            await watcher.tick()
            ticks += 1
    finally:
        await watcher.close()
    return ticks, time.monotonic() - began


async def run(seconds: float, interval: float, hook_every: float) -> dict[str, Any]:
    """Set everything up, measure, tear down; the figures."""
    with tempfile.TemporaryDirectory(prefix="all-signals-") as tmp:
        root = Path(tmp)
        socket = str(root / "tmux.sock")
        server = start_xvfb(root / "xvfb")
        start_panes(socket)
        try:
            with display_env(server):
                windows = open_all(server, root)
                try:
                    await asyncio.sleep(2.0)
                    boxes = [w.box for w in windows]
                    config = agents_file(root / "agents.toml", boxes, socket)
                    env = {"SWARM_HOME": str(root / "home"), "SWARM_CONFIG": str(config)}
                    service = await SwarmService.open(Settings.from_env(env))
                    try:
                        names = [f"Agent-{i + 1}" for i in range(len(boxes))]
                        hook_env = {**env, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
                        spec = json.dumps([names, hook_every, seconds, hook_env])
                        agents = await asyncio.create_subprocess_exec(
                            sys.executable, "-c", AGENTS, spec, stdout=PIPE, cwd=ROOT
                        )
                        cpu0, tmux0 = own_and_clients_cpu_s(), server_cpu_s(socket)
                        ticks, wall = await watch(service, seconds, interval)
                        cpu = own_and_clients_cpu_s() - cpu0
                        tmux_cpu = server_cpu_s(socket) - tmux0
                        out, _ = await agents.communicate()
                        hooks = json.loads(out)
                        rows = await service.roster.rows()
                    finally:
                        await service.close()
                finally:
                    for window in windows:
                        window.stop()
        finally:
            await asyncio.to_thread(stop_panes, socket)
            server.stop()
    decided = {r["id"]: (r["state"], r["signal"]) for r in rows}
    return {
        "ticks": ticks,
        "wall_s": wall,
        "watch_cpu_s": cpu,
        "tmux_server_cpu_s": tmux_cpu,
        "hooks": hooks["hooks"],
        "hooks_cpu_s": hooks["cpu_s"],
        "states": decided,
    }


def main() -> None:
    """Print the coordinator's CPU share, the hooks', and their sum."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--hook-every", type=float, default=4.0, help="seconds per agent")
    args = parser.parse_args()
    load = os.getloadavg()
    r = asyncio.run(run(args.seconds, args.interval, args.hook_every))
    wall = r["wall_s"]
    watch_pct = 100 * (r["watch_cpu_s"] + r["tmux_server_cpu_s"]) / wall
    hooks_pct = 100 * r["hooks_cpu_s"] / wall
    print(
        f"8 agents, screen + text + hooks, a watch tick every {args.interval:g} s: "
        f"{r['ticks']} ticks in {wall:.1f} s (load average before: {load[0]:.2f})"
    )
    print(
        f"  the coordinator's watching (screen, text, rules; tmux clients and server): "
        f"{watch_pct:.2f} % of one core ({r['watch_cpu_s'] + r['tmux_server_cpu_s']:.2f} s)"
    )
    per_hook = 1000 * r["hooks_cpu_s"] / max(1, r["hooks"])
    print(
        f"  the agents' hooks: {r['hooks']} hook processes ({per_hook:.0f} ms CPU each), "
        f"{hooks_pct:.2f} % of one core"
    )
    print(f"  together: {watch_pct + hooks_pct:.2f} % of one core; goal for watching: < 5 %")
    print(f"  states at the end: {r['states']}")


if __name__ == "__main__":
    main()
