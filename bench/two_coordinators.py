"""How often a second coordinator on one SWARM_HOME is refused while the first one runs.

Run: ``.venv/bin/python bench/two_coordinators.py [--attempts 20]``. Starts ``swarm run
--no-discord`` on a throw-away home (inbox agents, so no display is needed), queues a task,
then starts ``--attempts`` more coordinators on the same home, half of them ``--burst``, and
counts how many exited 2 naming the first (``already running: pid ...``) and whether any of
them touched a delivery (the first coordinator's receipt count must be the only one).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AGENTS = "\n".join(
    f'[[agent]]\nid = "Agent-{i}"\nrole = "r{i}"\ndelivery = "inbox"\n' for i in range(1, 9)
)


def swarm(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """One CLI call in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def wait_running(home: Path, timeout: float = 30.0) -> None:
    """Until the first coordinator holds the lock and wrote its pid."""
    lock = home / "coordinator.lock"
    deadline = time.monotonic() + timeout
    while not (lock.exists() and lock.read_text(encoding="utf-8").strip()):
        if time.monotonic() > deadline:
            raise SystemExit("the first coordinator did not start")
        time.sleep(0.05)


def run(attempts: int, home: Path) -> int:
    """Measure and print; the exit status (1 unless every second coordinator was refused)."""
    (home / "agents.toml").write_text(AGENTS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
    env |= {"SWARM_HOME": str(home), "SWARM_CONFIG": str(home / "agents.toml")}
    env["SWARM_WEB_PORT"] = "0"  # no dashboard: the user's own swarm run may hold its port
    first = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "run", "--no-discord"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_running(home)
        swarm(env, "task", "add", "benchmark task")
        refused = named = 0
        started = time.perf_counter()
        for n in range(attempts):
            extra = ("--burst",) if n % 2 else ()
            done = swarm(env, "run", "--no-discord", *extra)
            refused += done.returncode == 2
            named += f"pid {first.pid}" in done.stderr
        seconds = time.perf_counter() - started
    finally:
        first.terminate()
        first.wait(timeout=30)
    with sqlite3.connect(home / "swarm.db") as conn:
        delivered = conn.execute("SELECT count(*) FROM deliveries WHERE state = 'delivered'")
        count = delivered.fetchone()[0]
    print(
        f"second coordinators on one home while the first ran: {attempts} attempts, "
        f"{refused} refused with exit 2, {named} naming the first's pid "
        f"({seconds / max(attempts, 1) * 1000:.0f} ms each); deliveries made: {count} "
        f"(all by the first); first exit {first.returncode}"
    )
    return 0 if refused == named == attempts else 1


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="swarm-two-") as tmp:
        sys.exit(run(args.attempts, Path(tmp)))


if __name__ == "__main__":
    main()
