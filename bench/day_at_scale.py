"""A day at scale: terminal agents in tmux on two delivery nodes over PostgreSQL, measured.

Run: ``.venv/bin/python bench/day_at_scale.py [--agents 32] [--tasks 500] [--work 1.0]
[--broadcasts 5] [--idle 20] [--keep]``.

A throwaway PostgreSQL cluster (``tests/pgcluster.py``); ``--agents`` agent-like programs
(``tests/apps/day_agent.py``: prompt_toolkit with bracketed paste, swarm's hooks and report
commands run as a hooked agent CLI runs them) in tmux panes, half on each of two private tmux
servers; a real ``swarm run --no-discord`` (the coordinator: scheduler, watchers, dashboard on
a free port) and two real ``swarm node`` processes (``desk-1``, ``desk-2``: each delivers to
its own agents' panes, standing for two machines). Then ``--tasks`` tasks in three roles with
dependencies, ``--broadcasts`` broadcasts spread over the run, a question every 25 tasks
(``swarm ask --wait``) and a permission prompt every 20 (a ``PermissionRequest`` hook), each
answered by this process through swarm's own inbox as a person would.

Prints: prompts lost, doubled, recorded delivered but never received (goal 0); a broadcast
until every agent has it, with every agent at its input (before and after the day: goal <=
1 s) and during the day (an agent at work or in a dialog gets it after its turn: nothing is
typed into a working agent); task assignment to the agent's turn start p50/p99 (goal
p99 <= 1 s); CPU of swarm's coordinator and nodes per agent at idle and under load, as % of
a core (goal <= 2 %), and their memory; the CPU of the agents' hook and report commands per
task; PostgreSQL's transactions and CPU. The agents are programs, not the real CLIs (their
model time would only add waiting): said in the output.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

import psycopg  # noqa: E402
from psycopg.rows import dict_row  # noqa: E402

from bench.pg_load import _cpu, server_cpu  # noqa: E402
from bench.scale import new_database, pg_programs  # noqa: E402
from core.errors import SwarmError  # noqa: E402
from core.inbox.needs import Need  # noqa: E402
from core.models import TaskSpec  # noqa: E402
from core.service.swarm import SwarmService  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.apps.day_agent import TASK  # noqa: E402
from tests.pgcluster import Cluster, cluster, free_port  # noqa: E402
from tests.tmux_server import Tmux  # noqa: E402

ROLES = ("dev", "test", "docs")
NODES = ("desk-1", "desk-2")
ASK_EVERY, PROMPT_EVERY = 25, 20


@dataclass
class Day:
    """The running day: its folders, settings, processes and agents."""

    root: Path
    url: str
    agents: list[str]
    env: dict[str, str]
    tmux: dict[str, Tmux] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    children: bool = False  # swarm's CPU counts the children it waited for (tmux, xclip)
    node_args: list[str] = field(default_factory=list)  # more arguments of each ``swarm node``

    def records(self, agent: str) -> list[dict[str, Any]]:
        """What ``agent`` received so far, in order."""
        path = self.root / "agents" / f"{agent}.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return [json.loads(line) for line in lines if line.strip()]


def write_agents(day: Day) -> Path:
    """The agents file: tmux agents, half on each node, in three roles."""
    lines = []
    for n, agent in enumerate(day.agents):
        node = NODES[n % len(NODES)]
        lines += [
            "[[agent]]", f'id = "{agent}"', f'role = "{ROLES[n % len(ROLES)]}"',
            'delivery = "tmux"', 'app = "terminal"', f'node = "{node}"',
            f'tmux = "day:{agent}"', f'tmux_socket = "{day.tmux[node].socket}"',
            'clear = ["ctrl+e", "ctrl+u"]', "",
        ]  # fmt: skip
    path = day.root / "agents.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def start_agents(day: Day, work: float) -> None:
    """Each agent's program in its node's tmux server, once its prompt is drawn."""
    folder = day.root / "agents"
    folder.mkdir()
    for n, agent in enumerate(day.agents):
        tmux = day.tmux[NODES[n % len(NODES)]]
        env = {**day.env, "SWARM_AGENT": agent, "PYTHONPATH": str(ROOT)}
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        command = (
            f"cd {shlex.quote(str(ROOT))} && exec env -u DISPLAY {exports} "
            f"{shlex.quote(sys.executable)} -m tests.apps.day_agent "
            f"{shlex.quote(str(folder / f'{agent}.jsonl'))} --name {agent} "
            f"--ready {shlex.quote(str(folder / f'{agent}.ready'))} --work {work} "
            f"--ask-every {ASK_EVERY} --prompt-every {PROMPT_EVERY}"
        )
        tmux.window("day", agent, command, "120x40")
    deadline = time.monotonic() + 120
    while not all((folder / f"{a}.ready").exists() for a in day.agents):
        if time.monotonic() > deadline:
            raise SystemExit("the agents never drew their prompts")
        time.sleep(0.1)


def start_swarm(day: Day) -> None:
    """``swarm run --no-discord`` and one ``swarm node`` per node, their logs in the day."""
    swarm = [sys.executable, "-m", "bot.cli.main"]
    runs = {"coordinator": [*swarm, "run", "--no-discord"]}
    runs |= {node: [*swarm, "node", "--name", node, *day.node_args] for node in NODES}
    for name, argv in runs.items():
        log = (day.root / f"{name}.log").open("wb")
        env = {**os.environ, **day.env, "PYTHONPATH": str(ROOT)}
        day.procs[name] = subprocess.Popen(argv, env=env, stdout=log, stderr=log, cwd=ROOT)
    time.sleep(5.0)
    for name, proc in day.procs.items():
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited: see {day.root / f'{name}.log'}")


def swarm_cpu(day: Day) -> float:
    """CPU seconds so far of the coordinator and the nodes (and, with ``day.children``, of
    the processes they ran and waited for)."""
    own = sum(_cpu(f"/proc/{p.pid}/stat") or 0.0 for p in day.procs.values())
    return own + (sum(_reaped_cpu(p.pid) for p in day.procs.values()) if day.children else 0.0)


def _reaped_cpu(pid: int) -> float:
    """CPU seconds of the children ``pid`` waited for (cutime + cstime; 0 when it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def swarm_rss_mb(day: Day) -> float:
    """Resident memory of the coordinator and the nodes, MB."""
    total = 0
    for proc in day.procs.values():
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def cpu_share(day: Day, seconds: float, wall: float) -> float:
    """CPU as % of one core per agent."""
    return round(seconds / wall / len(day.agents) * 100, 3)


def specs(count: int, seed: int = 5) -> list[TaskSpec]:
    """``count`` tasks in three roles; about a third wait for one or two earlier ones."""
    rng = random.Random(seed)
    made = []
    for n in range(count):
        after: tuple[str, ...] = ()
        if n > 10 and rng.random() < 0.35:
            after = tuple(sorted({f"t{rng.randrange(max(0, n - 40), n)}"
                                  for _ in range(rng.randint(1, 2))}))  # fmt: skip
        made.append(TaskSpec(f"day task {n}", details=f"step {n} of the day",
                             role=ROLES[n % len(ROLES)], after=after, ref=f"t{n}"))  # fmt: skip
    return made


class Person:
    """Answers what swarm's inbox holds (questions, permission prompts), as a person would
    through swarm, and times how long each waited."""

    def __init__(self, service: SwarmService) -> None:
        self.service = service
        self.waited: dict[str, list[float]] = {"question": [], "prompt": []}
        self.done: set[str] = set()
        self.failed: list[str] = []
        self.answered: list[Need] = []  # what was answered, as the inbox showed it

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            for need in await self.service.inbox.needs():
                if need.ref not in self.done:
                    await self.answer(need)
            await asyncio.sleep(0.3)

    async def answer(self, need: Need) -> None:
        """Answer one question or prompt; one that cannot be answered is said once."""
        kind = {"Q": "question", "R": "prompt"}.get(need.ref.split("-")[0])
        if kind is None:
            return
        self.done.add(need.ref)
        try:
            if kind == "question":
                await self.service.inbox.reply(need.ref, "main, as usual", "person")
            else:
                await self.service.inbox.approve(need.ref, "person")
        except SwarmError as exc:
            self.failed.append(f"{need.ref}: {exc}")
            return
        self.waited[kind].append(time.time() - need.since)
        self.answered.append(need)


async def broadcast(service: SwarmService, day: Day, k: int) -> float:
    """Broadcast one message; seconds until every agent received it."""
    marker = f"broadcast {k}: {random.Random(k).randrange(10**9)}"
    began = time.time()
    await service.messages.broadcast(f"{marker}\nplease read the new guidelines", "person")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        got = [r for a in day.agents for r in day.records(a) if marker in r["text"]]
        if len({id(r) for r in got}) >= len(day.agents):
            return max(r["at"] for r in got) - began
        await asyncio.sleep(0.05)
    return float("inf")


async def the_day(
    day: Day, service: SwarmService, tasks: int, broadcasts: int, key: int = 0
) -> dict:
    """Create the tasks, answer the inbox, broadcast; until every task is done. ``key``
    keeps this day's broadcasts apart from an earlier day's on the same agents."""
    stop = asyncio.Event()
    person = Person(service)
    answering = asyncio.create_task(person.run(stop))
    idle = [await broadcast(service, day, key + 1000)]  # every agent at its input
    began, cpu0 = time.monotonic(), swarm_cpu(day)
    ids = await service.tasks.create_many(specs(tasks), "person")
    spread: list[float] = []
    try:
        deadline = time.monotonic() + tasks * 3 + 120
        while time.monotonic() < deadline:
            done = await service.store.read(_count_done, ids)
            if len(spread) < broadcasts and done >= len(spread) * tasks / max(1, broadcasts):
                spread.append(await broadcast(service, day, key + len(spread)))
            if done == len(ids):
                break
            if answering.done():
                answering.result()  # the person stopped: its error, now
            await asyncio.sleep(0.5)
    finally:
        stop.set()
        await answering
    wall = time.monotonic() - began
    await asyncio.sleep(3.0)  # the last turns' Stop hooks: every agent idle again
    idle.append(await broadcast(service, day, key + 1001))
    return {
        "ids": ids,
        "wall_s": wall,
        "cpu_s": swarm_cpu(day) - cpu0,
        "broadcast_s": spread,
        "idle_broadcast_s": idle,
        "person": person.waited,
        "person_failed": person.failed,
    }


def _count_done(conn: Any, ids: list[int]) -> int:
    rows = conn.execute("SELECT id FROM tasks WHERE status = 'done'").fetchall()
    wanted = set(ids)
    return sum(1 for row in rows if row["id"] in wanted)


def audit(day: Day, ids: list[int]) -> dict[str, Any]:
    """Lost, doubled and falsely delivered prompts; assignment to turn start; PostgreSQL's
    figures."""
    with psycopg.connect(day.url, row_factory=dict_row) as conn:
        rows = store_rows(conn)
        stats = conn.execute(
            "SELECT xact_commit AS commits, xact_rollback AS rollbacks, tup_inserted AS "
            "inserted, tup_updated AS updated, tup_fetched AS fetched "
            "FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return {**judge(day, ids, rows), "pg": dict(stats or {})}


def store_rows(conn: Any) -> dict[str, Any]:
    """From swarm's store (SQLite or PostgreSQL, rows by column name): each task's first
    assignment time, each task's status, and the deliveries recorded delivered."""
    assigned = conn.execute(
        "SELECT task_id, min(ts) AS at FROM events WHERE kind = 'task.assigned' GROUP BY task_id"
    ).fetchall()
    status = conn.execute("SELECT id, status FROM tasks").fetchall()
    delivered = conn.execute(
        "SELECT d.id, d.agent_id, m.text FROM deliveries d JOIN messages m "
        "ON m.id = d.message_id WHERE d.state = 'delivered'"
    ).fetchall()
    return {
        "assigned": {r["task_id"]: r["at"] for r in assigned},
        "status": {r["id"]: r["status"] for r in status},
        "delivered": [(r["id"], r["agent_id"], r["text"]) for r in delivered],
    }


def judge(day: Day, ids: list[int], rows: dict[str, Any]) -> dict[str, Any]:
    """Lost, doubled and falsely delivered prompts (of ``rows["delivered"]``); assignment
    to turn start, from what the agents received and ``store_rows``."""
    received: dict[int, list[float]] = {}
    texts: dict[str, list[str]] = {}
    for agent in day.agents:
        records = day.records(agent)
        texts[agent] = [r["text"] for r in records]
        for record in records:
            for found in TASK.finditer(record["text"]):
                received.setdefault(int(found.group(1)), []).append(record["at"])
    assigned: dict[int, float] = rows["assigned"]
    status: dict[int, str] = rows["status"]
    false_delivered = [
        d_id for d_id, agent, text in rows["delivered"]
        if not any(_sample(text) in got for got in texts.get(agent, []))
    ]  # fmt: skip
    received = {t: at for t, at in received.items() if t in set(ids)}  # this day's tasks
    starts = [min(at) - assigned[t] for t, at in received.items() if t in assigned]
    return {
        "tasks_done": len([t for t in ids if status.get(t) == "done"]),
        "lost": [t for t in ids if t not in received or status.get(t) != "done"],
        "doubled": [t for t, at in received.items() if len(at) > 1],
        "false_delivered": false_delivered,
        "turn_start_s": starts,
    }


def _sample(text: str) -> str:
    """What of a delivered text must show in the received one: its longest line's start."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return max(lines, key=len)[:40] if lines else ""


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 and p99 in ms."""
    if not values:
        return {}
    ordered = sorted(values)
    p99 = ordered[max(0, int(len(ordered) * 0.99 + 0.5) - 1)]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p99_ms": round(p99 * 1000, 1)}


def agent_commands(day: Day, tasks: int) -> dict[str, float]:
    """CPU of the agents' hook and report commands: per task, and per hook call."""
    hook_cpu, report_cpu, hooks, failed = 0.0, 0.0, 0, 0
    for agent in day.agents:
        path = day.root / "agents" / f"{agent}.jsonl.cpu"
        for line in path.read_text().splitlines() if path.exists() else []:
            row = json.loads(line)
            failed += row["code"] != 0
            if row["what"] in ("done", "ask"):
                report_cpu += row["cpu_s"]
            else:
                hook_cpu += row["cpu_s"]
                hooks += 1
    return {
        "hook_cpu_ms_per_call": round(hook_cpu / max(1, hooks) * 1000, 1),
        "hook_and_report_cpu_ms_per_task": round((hook_cpu + report_cpu) / tasks * 1000, 1),
        "commands_failed": failed,
    }


async def run(args: argparse.Namespace, server: Cluster, root: Path) -> dict[str, Any]:
    """One day on a fresh database; the figures."""
    url = new_database(server, "day")
    agents = [f"Agent-{n}" for n in range(1, args.agents + 1)]
    home = root / "home"
    home.mkdir()
    env = {"SWARM_HOME": str(home), "SWARM_DATABASE_URL": url, "SWARM_WEB_PORT":
           str(free_port()), "SWARM_APPROVAL_WAIT": "600", "TMUX_TMPDIR": str(root)}  # fmt: skip
    day = Day(root, url, agents, env)
    day.tmux = {node: Tmux(root / f"{node}.sock") for node in NODES}
    day.env["SWARM_CONFIG"] = str(write_agents(day))
    pg0 = sum(server_cpu(server).values())
    try:
        start_agents(day, args.work)
        start_swarm(day)
        cpu0, t0 = swarm_cpu(day), time.monotonic()
        await asyncio.sleep(args.idle)
        idle = cpu_share(day, swarm_cpu(day) - cpu0, time.monotonic() - t0)
        rss = swarm_rss_mb(day)
        service = await SwarmService.open(Settings.from_env(day.env))
        try:
            ran = await the_day(day, service, args.tasks, args.broadcasts)
        finally:
            await service.close()
        checked = audit(day, ran["ids"])
        return summary(day, args, ran, checked, idle, rss,
                       sum(server_cpu(server).values()) - pg0)  # fmt: skip
    finally:
        for proc in day.procs.values():
            proc.terminate()
        for proc in day.procs.values():
            proc.wait(30)
        for tmux in day.tmux.values():
            tmux.stop()


def summary(day: Day, args: argparse.Namespace, ran: dict, checked: dict, idle: float,
            rss: float, pg_cpu: float) -> dict[str, Any]:  # fmt: skip
    """The figures of one day."""
    return {
        "agents": f"{len(day.agents)} agent-like programs in tmux (tests/apps/day_agent.py), "
        f"not the real CLIs; {len(NODES)} nodes",
        "tasks": args.tasks,
        "tasks_done": checked["tasks_done"],
        "wall_s": round(ran["wall_s"], 1),
        "lost": len(checked["lost"]),
        "doubled": len(checked["doubled"]),
        "false_delivered": len(checked["false_delivered"]),
        "broadcast_to_all_idle": [round(x, 3) for x in ran["idle_broadcast_s"]],
        "broadcast_to_all_during_the_day": percentiles(ran["broadcast_s"]),
        "assignment_to_turn_start": percentiles(checked["turn_start_s"]),
        "swarm_cpu_pct_core_per_agent": {
            "idle": idle,
            "load": cpu_share(day, ran["cpu_s"], ran["wall_s"]),
        },
        "swarm_rss_mb": {"total": round(rss, 1), "per_agent": round(rss / len(day.agents), 2)},
        "person_waited": {k: percentiles(v) for k, v in ran["person"].items()},
        "person_answered": {k: len(v) for k, v in ran["person"].items()},
        "person_could_not_answer": ran["person_failed"][:5],
        **agent_commands(day, args.tasks),
        "postgres": {**checked["pg"], "cpu_s": round(pg_cpu, 1)},
        "examples": {k: checked[k][:5] for k in ("lost", "doubled", "false_delivered")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=32)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--work", type=float, default=1.0, help="seconds per task (agent)")
    parser.add_argument("--broadcasts", type=int, default=5)
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle measured")
    parser.add_argument("--keep", action="store_true", help="keep the day's folder")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="swarm-day-"))
    with cluster(pg_programs()) as server:
        result = asyncio.run(run(args, server, root))
    print(json.dumps(result, indent=2), flush=True)
    if args.keep:
        print(f"kept: {root}", file=sys.stderr)


if __name__ == "__main__":
    main()
