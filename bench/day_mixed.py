"""Issue 50's mixed fleet: ``bench/day_real.py``'s day with the agents split over the three
routes, under one coordinator and two nodes, ``swarm run`` killed (SIGKILL) and started again
in the middle.

Run: ``.venv/bin/python bench/day_mixed.py [--agents 9] [--tasks 60] [--broadcasts 2]
[--restart]``. The day's folder is kept: the processes' logs, the agents files, and the
store's deliveries, events and permission prompts as JSON lines.

A throwaway PostgreSQL cluster; the agents the CLIs (Claude Code, Codex, Gemini CLI) in turn
by threes, the routes in turn within, the nodes alternating: **protocol** agents (their CLI
under swarm's host, started by ``swarm desktop up --protocol --node NODE``, as ``day_real.py
--protocol``), **tmux** agents (a pane of a private tmux server, as ``day_real.py``'s default
day) and **desktop** agents: ``swarm desktop up --node NODE`` opens each one's CLI (its
command the same ``env HOME=... <cli>`` line as a protocol agent's, without the settings
that quiet Claude Code) in a tmux session shown in an xterm on that node's own Xvfb display
(one display per node, as two machines have), and the node types into the window with
PyAutoGUI (``delivery = "gui"``: click, paste, Enter; ``swarm node --lease 90``: a node that
types into windows refuses the default). Each ``desktop up`` reads an agents file of its own
route's agents only (it starts every agent of its node), and their tables go into the one
agents file the coordinator and nodes read. The first start's dialogs of the tmux and
desktop agents are answered as a person would, Claude Code's and Codex's permission prompts
through swarm's inbox (the day's ``Person``).

With ``--restart``, once half the tasks are done and a delivery is queued or being delivered
(else ``IN_FLIGHT_WAIT_S`` later), the coordinator is killed with SIGKILL (a crash: turns
run, deliveries are in flight) and started again; the day goes on.

Prints, per route: tasks its agents held, done, done more than once (``task.done`` events of
a task), prompts lost (never in a model request), doubled, recorded delivered but never
sent, assignment to turn start; deliveries by end state, those that took a second attempt,
each failed one; over the day: broadcasts until every model had them; the restart: when,
what was under way then, how long until the new ``swarm run`` started and until it assigned
a task; a process of swarm's that exited during the day.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

import psycopg  # noqa: E402

from automation.agents_file_writer import dumps  # noqa: E402
from automation.desktop.virtual_desktop import XServer, start_xvfb  # noqa: E402
from automation.protocol import launch as hosts  # noqa: E402
from bench import day_real as real  # noqa: E402
from bench.day_at_scale import NODES, Day  # noqa: E402
from bench.scale import new_database, pg_programs  # noqa: E402
from core.event_kinds import EventKind  # noqa: E402
from core.service.swarm import SwarmService  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.agents.launch import SETUPS  # noqa: E402
from tests.agents.live import LiveCLI, LocalModel, require_binary  # noqa: E402
from tests.pgcluster import Cluster, cluster, free_port  # noqa: E402
from tests.tmux_server import Tmux  # noqa: E402

ROUTES = ("protocol", "tmux", "desktop")
DESKTOP_READY_S = 120.0  # a desktop agent's CLI at its input after desktop up (loaded)
# a node that types into windows refuses a lease not longer than the desktop driver's time
# limit for one delivery (65 s): swarm node's default (60 s) is refused, so it is raised
NODE_LEASE_S = 90.0
IN_FLIGHT = ("queued", "delivering")  # the deliveries swarm run is killed amid
IN_FLIGHT_WAIT_S = 30.0  # how long --restart waits for one, once half the tasks are done
STARTED = "INFO bot.app: coordinator started"


@dataclass
class Fleet:
    """The day's agents by route, each node's display, the desktop's tmux server."""

    agents: list[real.Agent]
    route: dict[str, str]
    displays: dict[str, XServer] = field(default_factory=dict)
    tmux_dir: Path = Path()

    def of(self, route: str) -> list[real.Agent]:
        """The agents of ``route``."""
        return [a for a in self.agents if self.route[a.id] == route]


@dataclass
class Restart:
    """``--restart``: when swarm run was killed and started again, and what was under way."""

    half: int
    half_at: float | None = None  # when half the tasks were done
    killed_at: float | None = None
    started_at: float | None = None
    under_way: dict[str, Any] = field(default_factory=dict)


def plan_fleet(root: Path, count: int) -> Fleet:
    """``count`` agents: the CLIs in turn by threes, the routes in turn within, the nodes
    alternating (day_real.plan_agents)."""
    clis = tuple(real.CLIS[(n // len(ROUTES)) % len(real.CLIS)] for n in range(count))
    agents = real.plan_agents(root, count, clis)
    route = {a.id: ROUTES[n % len(ROUTES)] for n, a in enumerate(agents)}
    return Fleet(agents, route, tmux_dir=root / "desktop-tmux")


def desktop_command(agent: real.Agent) -> None:
    """A desktop agent's model server and command: its CLI's setup as ``env`` settings before
    the program, as for a protocol agent (day_real.protocol_command), without the settings
    that quiet Claude Code (a person's terminal has none)."""
    root = agent.work.parent
    agent.model = LocalModel(root, real.SCRIPT)
    setup = SETUPS[agent.cli](require_binary(agent.cli), root / "home", agent.work,
                              agent.model.url)  # fmt: skip
    env = [f"{k}={v}" for k, v in setup.env.items() if k not in real.QUIETING]
    agent.command = shlex.join(["env", *env, *setup.argv])


def route_file(root: Path, fleet: Fleet, route: str) -> Path:
    """An agents file of ``route``'s agents only (``swarm desktop up`` starts every agent of
    its node)."""
    return real.write_agents(root / f"agents-{route}.toml", fleet.of(route))


def swarm_env(day: Day, config: Path, node: str | None, fleet: Fleet) -> dict[str, str]:
    """The environment of a swarm command on ``node``'s machine: its display, the desktop's
    tmux server, ``config`` as the agents file."""
    env = {**day.env, "SWARM_CONFIG": str(config), "TMUX_TMPDIR": str(fleet.tmux_dir)}
    if node is not None and node in fleet.displays:
        server = fleet.displays[node]
        env |= {"DISPLAY": server.display, "XAUTHORITY": str(server.xauthority)}
    return env


def swarm_on(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """``swarm ARGS`` in ``env``; its output."""
    done = subprocess.run([sys.executable, "-m", "bot.cli.main", *args], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"swarm {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def up_route(root: Path, day: Day, fleet: Fleet, route: str) -> dict[str, dict[str, Any]]:
    """``swarm desktop up [--protocol] --node NODE --json`` on each node that has agents of
    ``route``; each agent's table as ``up`` wrote it."""
    config = route_file(root, fleet, route)
    for node in NODES:
        count = sum(1 for a in fleet.of(route) if a.node == node)
        if not count:
            continue
        flags = ["--protocol"] if route == "protocol" else ["--timeout", "60"]
        env = swarm_env(day, config, node, fleet)
        wait = 60 + real.HOST_START_S * count
        rows = json.loads(swarm_on(env, "desktop", "up", *flags, "--node", node, "--json",
                                   timeout=wait))  # fmt: skip
        want = "protocol" if route == "protocol" else None
        wrong = [r for r in rows if r.get("delivery") != want]
        if wrong:
            raise SystemExit(f"swarm desktop up ({route}): not {route} agents: {wrong}")
    with config.open("rb") as file:
        return {t["id"]: t for t in tomllib.load(file).get("agent", [])}


def answer_desktop_dialogs(fleet: Fleet) -> None:
    """Each desktop agent's first start answered in its window's tmux session, as a person
    answers it in the window (day_real.answer_first_start)."""
    socket = fleet.tmux_dir / f"tmux-{os.getuid()}" / "default"
    for agent in fleet.of("desktop"):
        assert agent.model is not None
        live = LiveCLI(Tmux(socket), f"swarm-{agent.id}", agent.model, agent.work.parent)
        first = {"claude-code": "New MCP server found", "codex": "Hooks need review"}
        live.wait(first.get(agent.cli, real.READY[agent.cli]), timeout=DESKTOP_READY_S)
        real.answer_first_start(live, agent.cli)


def write_fleet(path: Path, fleet: Fleet, tables: dict[str, dict[str, Any]]) -> Path:
    """The one agents file: the tmux agents as day_real writes them, the protocol and
    desktop agents' tables as their ``desktop up`` wrote them, with their commands."""
    tmux_file = real.write_agents(path.with_name("agents-tmux.toml"), fleet.of("tmux"))
    with tmux_file.open("rb") as file:
        tables |= {t["id"]: t for t in tomllib.load(file).get("agent", [])}
    commands = {a.id: {"command": a.command} for a in fleet.agents if a.command is not None}
    data = {"agent": [tables[a.id] for a in fleet.agents], "desktop": {"agent": commands}}
    path.write_text(dumps(data), encoding="utf-8")
    return path


def start_day(day: Day, fleet: Fleet) -> None:
    """``swarm run --no-discord`` and one ``swarm node`` per node, each node with its own
    display; their logs in the day."""
    config = Path(day.env["SWARM_CONFIG"])
    start_proc(day, "coordinator", ["run", "--no-discord"], swarm_env(day, config, None, fleet))
    for node in NODES:
        argv = ["node", "--name", node, "--lease", f"{NODE_LEASE_S:g}"]
        start_proc(day, node, argv, swarm_env(day, config, node, fleet))
    time.sleep(5.0)
    running(day)


def running(day: Day) -> None:
    """SystemExit naming the first of swarm's processes that exited."""
    if (name := exited(day)) is not None:
        raise SystemExit(f"{name} exited: see {day.root / f'{name}.log'}")


def exited(day: Day) -> str | None:
    """The first of swarm's processes that exited (None: all run)."""
    return next((name for name, proc in day.procs.items() if proc.poll() is not None), None)


def start_proc(day: Day, name: str, args: list[str], env: dict[str, str]) -> None:
    """``swarm ARGS`` as ``name`` of the day, its output appended to its log."""
    log = (day.root / f"{name}.log").open("ab")
    full = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "bot.cli.main", *args]
    day.procs[name] = subprocess.Popen(argv, env=full, stdout=log, stderr=log, cwd=ROOT)


async def watch_day(day: Day, fleet: Fleet, restart: Restart | None) -> str | None:
    """Beside the day, each second: swarm's processes still running (the name of the first
    that exited, which ends the watch); with ``restart``, once ``restart.half`` tasks are
    done and a delivery is in flight (or ``IN_FLIGHT_WAIT_S`` passed), ``swarm run`` is
    killed with SIGKILL and started again (once)."""
    while (gone := exited(day)) is None:
        await asyncio.sleep(1.0)
        if restart is None or restart.killed_at is not None:
            continue
        restart.under_way = await asyncio.to_thread(under_way, day.url)
        if restart.under_way["tasks"].get("done", 0) < restart.half:
            continue
        restart.half_at = restart.half_at or time.monotonic()
        sending = sum(restart.under_way["deliveries"].get(s, 0) for s in IN_FLIGHT)
        if sending or time.monotonic() - restart.half_at >= IN_FLIGHT_WAIT_S:
            await kill_and_start(day, fleet, restart)
    return gone


async def kill_and_start(day: Day, fleet: Fleet, restart: Restart) -> None:
    """``swarm run`` killed with SIGKILL, as a crash, and started again."""
    coordinator = day.procs["coordinator"]
    restart.killed_at = time.time()
    coordinator.send_signal(signal.SIGKILL)
    await asyncio.to_thread(coordinator.wait, 30)
    env = swarm_env(day, Path(day.env["SWARM_CONFIG"]), None, fleet)
    start_proc(day, "coordinator", ["run", "--no-discord"], env)
    restart.started_at = time.time()


def under_way(url: str) -> dict[str, Any]:
    """What was under way: tasks by status, deliveries by state (as swarm run is killed)."""
    with psycopg.connect(url) as conn:
        tasks = conn.execute("SELECT status, count(*) FROM tasks GROUP BY status").fetchall()
        sent = conn.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall()
    return {"tasks": {str(s): int(n) for s, n in tasks},
            "deliveries": {str(s): int(n) for s, n in sent}}  # fmt: skip


def after_restart(url: str, restart: Restart, log: Path) -> dict[str, Any]:
    """The restart's figures: when, what was under way, seconds from the kill to the new
    ``swarm run`` saying it started (its log), and to the first task assigned after it."""
    if restart.killed_at is None or restart.started_at is None:
        return {"restarted": False}
    up = [at for at in started_at(log) if at > restart.killed_at]
    with psycopg.connect(url) as conn:
        after = (EventKind.TASK_ASSIGNED.value, restart.killed_at)
        row = conn.execute("SELECT min(ts) FROM events WHERE kind = %s AND ts > %s",
                           after).fetchone()  # fmt: skip
    first = row[0] if row else None
    return {
        "killed_at": time.strftime("%H:%M:%S", time.gmtime(restart.killed_at)) + " UTC",
        "under_way": restart.under_way,
        "kill_to_started_s": _since(min(up, default=None), restart.killed_at),
        "kill_to_first_assignment_s": _since(first, restart.killed_at),
    }


def started_at(log: Path) -> list[float]:
    """When each ``swarm run`` of the day's log said it started (epoch seconds; the log's
    times are local)."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if STARTED in line:
            found.append(datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp())
    return found


def _since(at: float | None, began: float) -> float | None:
    """Seconds from ``began`` to ``at`` (None: never)."""
    return None if at is None else round(at - began, 2)


def done_events(url: str, ids: list[int]) -> dict[int, int]:
    """How many ``task.done`` events each of ``ids`` has."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT task_id, count(*) FROM events WHERE kind = %s "
                            "AND task_id = ANY(%s) GROUP BY task_id",
                            (EventKind.TASK_DONE.value, ids)).fetchall()  # fmt: skip
    return {int(t): int(n) for t, n in rows}


def by_route(fleet: Fleet, ids: list[int], rows: dict[str, Any], checked: dict[str, Any],
             done: dict[int, int]) -> dict[str, dict[str, int]]:  # fmt: skip
    """Per route: tasks its agents held at the end, done, done twice or more, lost, received
    but not done, doubled; deliveries recorded delivered but never sent."""
    route_of = {t: fleet.route.get(rows["assignee"].get(t) or "", "none") for t in ids}
    figures = {}
    for route in (*ROUTES, "none"):
        mine = {t for t in ids if route_of[t] == route}
        figures[route] = {
            "tasks": len(mine),
            "done": sum(1 for t in mine if rows["status"].get(t) == "done"),
            "done_more_than_once": sum(1 for t in mine if done.get(t, 0) > 1),
            "lost": len(mine & set(checked["lost"])),
            "received_not_done": len(mine & set(checked["received_not_done"])),
            "doubled": len(mine & set(checked["doubled"])),
            "false_delivered": sum(
                1 for _, a in checked["false_delivered"] if fleet.route.get(a) == route
            ),
        }
    return {route: f for route, f in figures.items() if route != "none" or f["tasks"]}


async def run(args: argparse.Namespace, server: Cluster, root: Path) -> dict[str, Any]:
    """One mixed day on a fresh database; the figures."""
    url = new_database(server, "daymixed")
    home = root / "home"
    home.mkdir()
    fleet = plan_fleet(root, args.agents)
    env = {"SWARM_HOME": str(home), "SWARM_DATABASE_URL": url, "SWARM_WEB_PORT":
           str(free_port()), "SWARM_APPROVAL_WAIT": "600"}  # fmt: skip
    day = Day(root, url, [a.id for a in fleet.agents], env)
    day.env["SWARM_CONFIG"] = str(root / "agents.toml")
    try:
        tables = open_fleet(root, day, fleet)
        write_fleet(root / "agents.toml", fleet, tables)
        start_day(day, fleet)
        await asyncio.sleep(15.0)  # every CLI's MCP servers connected
        running(day)
        restart = Restart(half=args.tasks // 2)
        watch = asyncio.create_task(watch_day(day, fleet, restart if args.restart else None))
        service = await SwarmService.open(Settings.from_env(day.env))
        try:
            ran = await real.the_day(service, fleet.agents, args, day)
        finally:
            await service.close()
        ran["exited"] = watch.result() if watch.done() else None
        watch.cancel()
        real.keep_store(url, root)  # the day's deliveries, events, prompts: the folder's
        return figures(fleet, args, ran, restart, url, home)
    finally:
        await end_day(root, day, fleet)


def open_fleet(root: Path, day: Day, fleet: Fleet) -> dict[str, dict[str, Any]]:
    """Every agent started on its route; the protocol and desktop agents' tables."""
    for agent in fleet.of("protocol"):
        real.protocol_command(agent)
    for agent in fleet.of("desktop"):
        desktop_command(agent)
    fleet.tmux_dir.mkdir(parents=True)
    nodes = {a.node for a in fleet.of("desktop")}
    fleet.displays = {node: start_xvfb(root / f"x-{node}") for node in sorted(nodes)}
    tables = up_route(root, day, fleet, "protocol")
    tables |= up_route(root, day, fleet, "desktop")
    answer_desktop_dialogs(fleet)
    tmux_env = {**day.env, "SWARM_CONFIG": str(route_file(root, fleet, "tmux"))}
    tmux_day = Day(root, day.url, day.agents, tmux_env)
    swarm_on(tmux_env, "agents", "hooks", "install")
    swarm_on(tmux_env, "agents", "mcp", "install")
    for agent in fleet.of("tmux"):
        real.start_cli(tmux_day, agent)
    return tables


def figures(fleet: Fleet, args: argparse.Namespace, ran: dict, restart: Restart, url: str,
            home: Path) -> dict[str, Any]:  # fmt: skip
    """The day's figures, per route and over the day."""
    rows = real.store_rows(url)
    checked = real.judge(fleet.agents, ran["ids"], rows, home)
    done = done_events(url, ran["ids"])
    counts = {r: [a.cli for a in fleet.of(r)] for r in ROUTES}
    return {
        "agents": f"{len(fleet.agents)} real CLIs on {len(NODES)} nodes: {counts}",
        "tasks": args.tasks,
        "tasks_done": checked["tasks_done"],
        "done_exactly_once": sum(1 for n in done.values() if n == 1),
        "wall_s": round(ran["wall_s"], 1),
        "by_route": by_route(fleet, ran["ids"], rows, checked, done),
        "broadcast_to_all_idle": [round(x, 3) for x in ran["idle_broadcast_s"]],
        "broadcast_to_all_during_the_day": [round(x, 3) for x in ran["broadcast_s"]],
        "assignment_to_turn_start": {
            cli: real.percentiles(v) for cli, v in sorted(checked["turn_start_s"].items())
        },
        "assignment_to_turn_start_by_route": turn_starts(fleet, ran["ids"], rows, checked),
        "deliveries_by_route": sent_by_route(url, fleet),
        "restart": after_restart(url, restart, home.parent / "coordinator.log"),
        "exited": ran["exited"],
        "person_answered": {k: len(v) for k, v in ran["person"].items()},
        "person_could_not_answer": len(ran["person_failed"]),
        "examples": {k: checked[k][:5] for k in ("lost", "doubled", "false_delivered")},
    }


def sent_by_route(url: str, fleet: Fleet) -> dict[str, Any]:
    """Per route: deliveries (task prompts, broadcasts, answers) by their end state, those
    that took more than one attempt, and each failed one (its agent, reason and text)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT d.id, d.agent_id, d.state, d.attempts, d.reason, m.text "
                            "FROM deliveries d JOIN messages m ON m.id = d.message_id "
                            "ORDER BY d.id").fetchall()  # fmt: skip
    found: dict[str, Any] = {}
    for d_id, agent, state, attempts, reason, text in rows:
        mine = found.setdefault(fleet.route.get(agent, "?"), {"retried": 0, "failed_ones": []})
        mine[state] = mine.get(state, 0) + 1
        mine["retried"] += attempts > 1
        if state == "failed":
            mine["failed_ones"].append(f"{d_id} to {agent}: {reason} ({text[:60]!r})")
    return found


def turn_starts(
    fleet: Fleet, ids: list[int], rows: dict[str, Any], checked: dict[str, Any]
) -> dict[str, dict[str, float]]:
    """Assignment to turn start (the model's first request with the prompt), by route."""
    as_route = [dataclasses.replace(a, cli=fleet.route[a.id]) for a in fleet.agents]
    seen = real._by_cli(as_route, ids, rows, checked["first_seen"])
    return {route: real.percentiles(seen[route]) for route in ROUTES if route in seen}


async def end_day(root: Path, day: Day, fleet: Fleet) -> None:
    """Swarm's processes, the hosts, the windows, the CLIs and their model servers ended;
    each step also when one before it failed."""
    try:
        for proc in day.procs.values():
            proc.terminate()
        for proc in day.procs.values():
            proc.wait(30)
        for agent in fleet.of("protocol"):  # each host ends its CLI
            await hosts.stop(Path(day.env["SWARM_HOME"]), agent.id)
    finally:
        steps = [lambda: end_desktop(root, day, fleet)]
        steps += [functools.partial(end_agent, agent) for agent in fleet.agents]
        for step in steps:
            try:
                step()
            except Exception as exc:  # the others are ended all the same
                print(f"at the day's end: {type(exc).__name__}: {exc}", file=sys.stderr)


def end_desktop(root: Path, day: Day, fleet: Fleet) -> None:
    """``swarm desktop down`` on each node's display, the desktop's tmux server, the
    displays."""
    config = root / "agents-desktop.toml"
    for node in fleet.displays if config.exists() else ():
        env = {**os.environ, **swarm_env(day, config, node, fleet)}
        subprocess.run([sys.executable, "-m", "bot.cli.main", "desktop", "down"], cwd=ROOT,
                       env=env, capture_output=True, timeout=60)  # fmt: skip
    socket = fleet.tmux_dir / f"tmux-{os.getuid()}" / "default"
    if socket.exists():
        Tmux(socket).stop()
    for server in fleet.displays.values():
        server.process.terminate()
        server.process.wait(10)


def end_agent(agent: real.Agent) -> None:
    """The agent's tmux server (a tmux agent's) and its model server."""
    if agent.live is not None:
        real.stop(agent.live)
    elif agent.model is not None:
        agent.model.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=9, help="agents in all (routes in turn)")
    parser.add_argument("--tasks", type=int, default=60)
    parser.add_argument("--broadcasts", type=int, default=2)
    parser.add_argument(
        "--restart", action="store_true",
        help="kill swarm run with SIGKILL once half the tasks are done, and start it again",
    )  # fmt: skip
    args = parser.parse_args()
    args.defaults = args.usage = False  # the_day's other days
    root = Path(tempfile.mkdtemp(prefix="swarm-day-mixed-"))
    signal.signal(signal.SIGTERM, real._interrupted)
    try:
        with cluster(pg_programs()) as server:
            result = asyncio.run(run(args, server, root))
    finally:  # hosts run in their own sessions: Ctrl-C does not reach them
        names = [f"Agent-{n + 1}" for n in range(args.agents)]
        if left := real.stop_hosts(root / "home", names):
            print(f"ended the protocol hosts of {', '.join(left)}", file=sys.stderr)
    print(json.dumps(result, indent=2), flush=True)
    print(f"the day's folder: {root}", file=sys.stderr)


if __name__ == "__main__":
    main()
