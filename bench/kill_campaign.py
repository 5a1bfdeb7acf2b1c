"""Kill -9 campaign: a real coordinator killed repeatedly mid-run while CLI writers work.

Each writer is a loop of real ``swarm`` processes acting as one agent: it adds a task pinned
to its agent, then reports ``done`` on every task its agent holds. Meanwhile a real
``swarm run --no-discord`` (inbox delivery) is started and SIGKILLed at random moments,
``--kills`` times. Then the writers stop adding, one coordinator runs to the end, and the
history is checked: every task a writer was told was created exists and is done; no task
was ever held by two agents; no delivery is left ``delivering``; every prompt reached its
inbox; no writer saw an error; ``PRAGMA integrity_check`` is ok.

Run: .venv/bin/python bench/kill_campaign.py [--kills 40] [--writers 16]
Prints figures and exits 1 when something was lost. Quoted in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SWARM = [sys.executable, "-m", "bot.cli.main"]

WRITER = r"""
import json, pathlib, subprocess, sys
me, stop = sys.argv[1], pathlib.Path(sys.argv[2])
swarm = [sys.executable, "-m", "bot.cli.main"]
def call(*args):
    out = subprocess.run(swarm + list(args), capture_output=True, text=True)
    if out.returncode:
        print(f"ERROR {args}: {out.stderr.strip()}", flush=True)
    return out.stdout
n = 0
while True:
    stopping = stop.exists()
    if not stopping:
        n += 1
        line = call("task", "add", f"{me} job {n}", "--agent", me, "--json")
        if line:
            print("CREATED", json.loads(line)["id"], flush=True)
    held = json.loads(call("task", "list", "--agent", me, "--status", "assigned", "--json")
                      or "[]")
    for task in held:
        call("task", "done", task["id"], "--note", "ok")
    if stopping:
        mine = json.loads(call("task", "list", "--agent", me, "--json", "--limit", "100000")
                          or "[]")
        if all(t["status"] == "done" for t in mine):
            break
"""


def agents_file(folder: Path, writers: int) -> Path:
    path = folder / "agents.toml"
    path.write_text(
        "".join(
            f'[[agent]]\nid = "W-{i}"\nrole = "dev"\ncapacity = 2\ndelivery = "inbox"\n\n'
            for i in range(1, writers + 1)
        )
    )
    return path


def start_coordinator(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``swarm run --no-discord``, returned once it says it has started (its log in ``log``)."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*SWARM, "run", "--no-discord"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    deadline = time.monotonic() + 60
    while b"coordinator started" not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the coordinator did not start: {log.read_text()[-500:]}")
        time.sleep(0.02)
    return proc


def check(home: Path, created: set[str]) -> dict[str, object]:
    """What the history says after the campaign."""
    with sqlite3.connect(home / "swarm.db") as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        tasks = dict(conn.execute("SELECT 'T-' || id, status FROM tasks").fetchall())
        events = conn.execute("SELECT kind, task_id, agent_id FROM events ORDER BY id").fetchall()
        stuck = conn.execute(
            "SELECT count(*) FROM deliveries WHERE state = 'delivering'"
        ).fetchone()[0]
        recovered = conn.execute(
            "SELECT count(*) FROM events WHERE kind = 'delivery.recovered'"
        ).fetchone()[0]
        delivered = conn.execute(
            "SELECT m.task_id, count(*) FROM deliveries d JOIN messages m ON m.id = "
            "d.message_id WHERE d.state = 'delivered' AND m.task_id IS NOT NULL "
            "GROUP BY m.task_id"
        ).fetchall()
    holder: dict[int, str | None] = {}
    doubled = 0
    for kind, task_id, agent in events:
        if kind == "task.assigned":
            doubled += holder.get(task_id) is not None
            holder[task_id] = agent
        elif kind in ("task.requeued", "task.done", "task.failed", "task.cancelled"):
            holder[task_id] = None
    files = [p.read_text() for p in (home / "inbox").glob("*/*.txt")]
    prompts = "\n".join(files)
    return {
        "integrity": integrity,
        "tasks": len(tasks),
        "lost": sorted(created - set(tasks)),
        "not_done": sorted(t for t, s in tasks.items() if s != "done"),
        "held_twice": doubled,
        "stuck_delivering": stuck,
        "prompts_missing": [t for t in tasks if f"task {t} |" not in prompts],
        "prompt_files_twice": sum(sum(f"task {t} |" in f for f in files) > 1 for t in tasks),
        "deliveries_delivered": sum(n for _, n in delivered),
        "deliveries_recovered": recovered,
        "events": len(events),
    }


def campaign(kills: int, writers: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        home, stop = folder / "home", folder / "stop"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
        env |= {"SWARM_HOME": str(home), "SWARM_CONFIG": str(agents_file(folder, writers))}
        subprocess.run([*SWARM, "status"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, f"W-{i}", str(stop)],
                env=env | {"SWARM_AGENT": f"W-{i}"},
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(1, writers + 1)
        ]
        started = time.monotonic()
        log = folder / "coordinator.log"
        for _ in range(kills):
            coordinator = start_coordinator(env, log)
            time.sleep(rng.uniform(0.1, 1.5))  # mid-run: it is assigning and delivering
            coordinator.send_signal(signal.SIGKILL)
            coordinator.wait()
        stop.touch()
        coordinator = start_coordinator(env, log)
        outputs = [p.communicate(timeout=600)[0] for p in procs]
        coordinator.send_signal(signal.SIGTERM)
        final = coordinator.wait(30)
        lines = "\n".join(outputs).splitlines()
        created = {line.split()[1] for line in lines if line.startswith("CREATED")}
        result = check(home, created)
    return {
        "kills": kills,
        "writers": writers,
        "seconds": round(time.monotonic() - started),
        "created": len(created),
        "writer_errors": [x for x in lines if x.startswith("ERROR")],
        "final_exit": final,
        **result,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = campaign(args.kills, args.writers, args.seed)
    print(json.dumps(result, indent=2))
    bad = (
        result["lost"]
        or result["not_done"]
        or result["held_twice"]
        or result["stuck_delivering"]
        or result["prompts_missing"]
        or result["writer_errors"]
        or result["integrity"] != "ok"
        or result["final_exit"]
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
