"""The same day on 8 agents delivered through tmux and through the desktop driver,
alternating in one run (issue 39, item 4).

Run: ``.venv/bin/python bench/day_alternate.py [--agents 8] [--tasks 40] [--rounds 2]
[--work 1.0] [--broadcasts 2] [--idle-broadcasts 3] [--idle 10] [--keep]``.

A private Xvfb; ``swarm desktop up`` opens ``--agents`` agent-like programs
(``tests/apps/day_agent.py``, as in ``bench/day_at_scale.py``) in tmux sessions shown in
xterm windows, the agents file getting their input points and panes as for any user. A
SQLite home (one machine, no nodes). Then ``--rounds`` rounds of two legs, ``tmux`` then
``gui``: each leg sets every agent's ``delivery``, starts a real ``swarm run
--no-discord`` (its display the Xvfb), broadcasts once unmeasured (a fresh driver's
first use), then ``--idle-broadcasts`` times with every
agent at its input, runs the day of ``bench/day_at_scale.py`` (``--tasks`` tasks in three
roles with dependencies, ``--broadcasts`` broadcasts during it, a question every 25 tasks and
a permission prompt every 20 answered through swarm's inbox) and stops the coordinator.
Alternating puts both routes under the same load (the lead's tests, other helpers).

Prints, per route over its legs: prompts lost, doubled, recorded delivered but never
received (goal 0); broadcast to every agent at its input and during the day, p50/p99;
assignment to the agent's turn start, p50/p99; swarm's CPU per agent (the coordinator and the
processes it ran: tmux, xclip) idle and under load; then the ratios tmux/gui, and each leg.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from automation.agents_file_writer import write_agent_values  # noqa: E402
from automation.desktop.virtual_desktop import XServer, display_env, start_xvfb  # noqa: E402
from bench.day_at_scale import (  # noqa: E402
    ASK_EVERY,
    PROMPT_EVERY,
    ROLES,
    Day,
    broadcast,
    cpu_share,
    judge,
    percentiles,
    store_rows,
    swarm_cpu,
    the_day,
)
from core.service.swarm import SwarmService  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.desktop.rig import DesktopRig  # noqa: E402
from tests.pgcluster import free_port  # noqa: E402

ROUTES = ("tmux", "gui")
ROUND_KEY = 10_000  # each leg's broadcasts apart from the earlier legs'
SUMMED = ("lost", "doubled", "false_delivered")


class DayRig(DesktopRig):
    """A desktop rig whose agents run ``day-agent`` (the day's agent-like program) in
    three roles, each with the clear keys of ``bench/day_at_scale.py``."""

    def agents_toml(self, terminal: str, layout: str) -> str:
        lines = ["[desktop]", 'command = "day-agent"', f'terminal = "{terminal}"',
                 f'layout = "{layout}"', ""]  # fmt: skip
        for n, name in enumerate(self.names):
            lines += [
                "[[agent]]", f'id = "{name}"', f'role = "{ROLES[n % len(ROLES)]}"',
                'clear = ["ctrl+e", "ctrl+u"]', "",
            ]  # fmt: skip
        return "\n".join(lines)


def make_rig(server: XServer, workdir: Path, args: argparse.Namespace) -> tuple[DayRig, Day]:
    """The rig, its ``day-agent`` command and the day whose records the agents write."""
    rig = DayRig(server, workdir / "rig", agents=args.agents, with_workspaces=0)
    folder = workdir / "day" / "agents"
    folder.mkdir(parents=True)
    script = rig.workdir / "bin" / "day-agent"
    record = shlex.quote(str(folder)) + '/"$SWARM_AGENT"'
    script.write_text(
        f"#!/bin/sh\nexec env -u DISPLAY {shlex.quote(sys.executable)} -m tests.apps.day_agent "
        f'{record}.jsonl --name "$SWARM_AGENT" --ready {record}.ready --work {args.work} '
        f"--ask-every {ASK_EVERY} --prompt-every {PROMPT_EVERY}\n"
    )
    script.chmod(0o755)
    rig.env["SWARM_APPROVAL_WAIT"] = "600"
    day = Day(workdir / "day", "", list(rig.names), rig.env, children=True)
    return rig, day


def open_agents(rig: DayRig, day: Day) -> None:
    """``swarm desktop up``; until every agent has drawn its prompt."""
    rig.up("--no-hooks")
    deadline = time.monotonic() + 120
    while not all((day.root / "agents" / f"{a}.ready").exists() for a in day.agents):
        if time.monotonic() > deadline:
            raise SystemExit(f"the agents never drew their prompts: {rig.status()}")
        time.sleep(0.1)


def legs(rounds: int) -> list[str]:
    """The routes in the order run: tmux, gui, tmux, gui..."""
    return [route for _ in range(rounds) for route in ROUTES]


def start_coordinator(rig: DayRig, day: Day, name: str) -> subprocess.Popen[bytes]:
    """A real ``swarm run --no-discord`` on the rig's home and display, its log in the day."""
    env = {**os.environ, **rig.env, "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT)),
           "SWARM_WEB_PORT": str(free_port())}  # fmt: skip
    env.pop("TMUX", None)
    argv = [sys.executable, "-m", "bot.cli.main", "run", "--no-discord"]
    with (day.root / f"{name}.log").open("wb") as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log, cwd=ROOT)
    time.sleep(5.0)
    if proc.poll() is not None:
        raise SystemExit(f"swarm run exited: see {day.root / f'{name}.log'}")
    return proc


async def leg(rig: DayRig, day: Day, n: int, route: str, args: argparse.Namespace) -> dict:
    """One leg: every agent on ``route``, a fresh coordinator, the idle broadcasts and the day;
    its figures."""
    write_agent_values(rig.config, {name: {"delivery": route} for name in day.agents})
    proc = start_coordinator(rig, day, f"coordinator-{n}-{route}")
    day.procs = {"coordinator": proc}
    key = ROUND_KEY * (n + 1)
    try:
        cpu0, t0 = swarm_cpu(day), time.monotonic()
        await asyncio.sleep(args.idle)
        idle_cpu = cpu_share(day, swarm_cpu(day) - cpu0, time.monotonic() - t0)
        service = await SwarmService.open(Settings.from_env(rig.env))
        try:
            before = max(
                (d[0] for d in (await service.store.read(store_rows))["delivered"]), default=0
            )
            await broadcast(service, day, key + 3000)  # unmeasured: the driver's first use
            idle = [
                await broadcast(service, day, key + 2000 + i) for i in range(args.idle_broadcasts)
            ]
            ran = await the_day(day, service, args.tasks, args.broadcasts, key)
            rows = await service.store.read(store_rows)
        finally:
            await service.close()
    finally:
        proc.terminate()
        proc.wait(30)
    rows["delivered"] = [d for d in rows["delivered"] if d[0] > before]
    checked = judge(day, ran["ids"], rows)
    return {
        "route": route,
        "tasks_done": checked["tasks_done"],
        "wall_s": ran["wall_s"],
        "cpu_s": ran["cpu_s"],
        "idle_cpu": idle_cpu,
        "idle_broadcast_s": idle + ran["idle_broadcast_s"],
        "broadcast_s": ran["broadcast_s"],
        "turn_start_s": checked["turn_start_s"],
        "person": {k: len(v) for k, v in ran["person"].items()},
        **{k: checked[k] for k in SUMMED},
    }


def route_figures(day: Day, ran: list[dict]) -> dict[str, Any]:
    """One route's figures over its legs."""
    wall = sum(r["wall_s"] for r in ran)
    return {
        "legs": len(ran),
        "tasks_done": sum(r["tasks_done"] for r in ran),
        **{k: sum(len(r[k]) for r in ran) for k in SUMMED},
        "broadcast_at_input": percentiles([x for r in ran for x in r["idle_broadcast_s"]]),
        "broadcast_during_day": percentiles([x for r in ran for x in r["broadcast_s"]]),
        "assignment_to_turn_start": percentiles([x for r in ran for x in r["turn_start_s"]]),
        "cpu_pct_core_per_agent": {
            "idle": round(sum(r["idle_cpu"] for r in ran) / len(ran), 3),
            "load": cpu_share(day, sum(r["cpu_s"] for r in ran), wall),
        },
        "day_wall_s": round(wall / len(ran), 1),
        "answered": {k: sum(r["person"][k] for r in ran) for k in ("question", "prompt")},
        "examples": {k: [x for r in ran for x in r[k]][:5] for k in SUMMED},
    }


def ratios(tmux: dict[str, Any], gui: dict[str, Any]) -> dict[str, float | None]:
    """tmux / gui for each timed figure and the CPU (None where gui's is 0 or missing)."""
    pairs = {
        f"{figure}_{p}": (tmux[figure].get(f"{p}_ms"), gui[figure].get(f"{p}_ms"))
        for figure in ("broadcast_at_input", "broadcast_during_day", "assignment_to_turn_start")
        for p in ("p50", "p99")
    }
    for state in ("idle", "load"):
        cpu = "cpu_pct_core_per_agent"
        pairs[f"cpu_{state}"] = (tmux[cpu][state], gui[cpu][state])
    pairs["day_wall"] = (tmux["day_wall_s"], gui["day_wall_s"])
    return {k: round(a / b, 2) if a is not None and b else None for k, (a, b) in pairs.items()}


def summary(day: Day, ran: list[dict], args: argparse.Namespace) -> dict[str, Any]:
    """Both routes' figures, their ratios and each leg in the order run."""
    by_route = {route: route_figures(day, [r for r in ran if r["route"] == route])
                for route in ROUTES}  # fmt: skip
    return {
        "agents": f"{len(day.agents)} agent-like programs (tests/apps/day_agent.py) in tmux "
        "sessions shown in xterm windows on Xvfb (swarm desktop up), not the real CLIs; SQLite",
        "tasks_per_leg": args.tasks,
        "order": [r["route"] for r in ran],
        **by_route,
        "ratio_tmux_over_gui": ratios(by_route["tmux"], by_route["gui"]),
        "legs": [leg_figures(day, r) for r in ran],
    }


def leg_figures(day: Day, ran: dict) -> dict[str, Any]:
    """One leg's main figures (to see the alternation)."""
    return {
        "route": ran["route"],
        "wall_s": round(ran["wall_s"], 1),
        "turn_start": percentiles(ran["turn_start_s"]),
        "broadcast_at_input": percentiles(ran["idle_broadcast_s"]),
        "cpu_load": cpu_share(day, ran["cpu_s"], ran["wall_s"]),
    }


async def run_legs(rig: DayRig, day: Day, args: argparse.Namespace) -> list[dict]:
    """Every leg, in turn; each leg's figures."""
    ran = []
    for n, route in enumerate(legs(args.rounds)):
        ran.append(await leg(rig, day, n, route, args))
        print(f"leg {n + 1} ({route}): {ran[-1]['tasks_done']} tasks, "
              f"{ran[-1]['wall_s']:.1f} s", file=sys.stderr, flush=True)  # fmt: skip
    return ran


def main() -> int:
    """Parse the options, run every leg, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--tasks", type=int, default=40, help="tasks per leg")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of a tmux and a gui leg")
    parser.add_argument("--work", type=float, default=1.0, help="seconds per task (agent)")
    parser.add_argument("--broadcasts", type=int, default=2, help="during each leg's day")
    parser.add_argument("--idle-broadcasts", type=int, default=3, help="at the agents' inputs")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle measured")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder")
    args = parser.parse_args()
    if args.agents < 1 or args.tasks < 1 or args.rounds < 1:
        parser.error("--agents, --tasks and --rounds must be at least 1")
    workdir = Path(tempfile.mkdtemp(prefix="swarm-alternate-"))
    server = start_xvfb(workdir / "xvfb")
    try:
        with display_env(server):
            rig, day = make_rig(server, workdir, args)
            try:
                open_agents(rig, day)
                ran = asyncio.run(run_legs(rig, day, args))
            finally:
                rig.stop()
    finally:
        server.stop()
    result = summary(day, ran, args)
    print(json.dumps(result, indent=2), flush=True)
    if args.keep:
        print(f"kept: {workdir}", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    clean = all(result[route][k] == 0 for route in ROUTES for k in SUMMED)
    return 0 if clean and all(r["tasks_done"] == args.tasks for r in ran) else 1


if __name__ == "__main__":
    sys.exit(main())
