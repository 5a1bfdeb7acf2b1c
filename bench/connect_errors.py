"""What ``swarm`` prints and does when PostgreSQL refuses it, and with two runs on one home.

Run: ``.venv/bin/python bench/connect_errors.py [--root DIR] [--watch 30]``. Starts a
throwaway cluster (``tests/pgcluster.py``) where one role must give a password (SCRAM),
then, with the CLI of ``DIR`` (default: this tree; give an exported older tree for the
figures before a change):

* counts the outputs that show the password, for each form libpq takes it (URL userinfo,
  ``?password=`` first, last, repeated with a percent-encoded name, a key=value string) and
  each output (``config show``, ``config show --json``, ``doctor``, ``task show T-99``, and
  the log of a ``swarm run`` that cannot connect, ``--watch`` seconds);
* how ``swarm run`` ends with a wrong password, a missing database and an unknown host
  (exit status, seconds, lines written; stopped after ``--watch`` seconds);
* how many lines a ``swarm run`` logs in ``--watch`` seconds while the server refuses
  connections (``SWARM_FAILOVER=5``);
* what a second ``swarm run`` on one home says, with the dashboard on (a free port).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from tests.pgcluster import cluster, free_port, pg_bin_dir  # noqa: E402

ROLE, PASSWORD = "swarm_pw", "Hunter2-s3cret"
ENCODED = quote(PASSWORD, safe="")


def swarm_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment for one CLI call."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
    return env | {"SWARM_HOME": str(home), "XDG_CONFIG_HOME": f"{home}-xdg"} | extra


def swarm(
    root: Path, env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """One CLI call of the tree ``root``."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_for(root: Path, env: dict[str, str], seconds: float) -> tuple[int | None, float, str]:
    """``swarm run --no-discord`` until it exits or ``seconds`` pass (then SIGTERM): its exit
    status (None: still running), seconds and stderr."""
    with tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--no-discord"],
            env=env,
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            code: int | None = proc.wait(seconds)
        except subprocess.TimeoutExpired:
            code = None
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        elapsed = time.monotonic() - started
        err.seek(0)
        return code, elapsed, err.read().decode(errors="replace")


def leaks(root: Path, port: int, watch: float, tmp: Path) -> dict[str, dict[str, bool]]:
    """For each form, which outputs show the password."""
    base = f"postgresql://127.0.0.1:{port}/swarm"
    forms = {
        "userinfo": f"postgresql://{ROLE}:{ENCODED}@127.0.0.1:{port}/swarm",
        "?password= last": f"{base}?user={ROLE}&password={ENCODED}",
        "?password= first": f"{base}?password={ENCODED}&user={ROLE}",
        "repeated, encoded name": f"{base}?user={ROLE}&password=x&pass%77ord={ENCODED}",
        "key=value": f"host=127.0.0.1 port={port} user={ROLE} password={PASSWORD}",
    }
    refused = free_port()
    table: dict[str, dict[str, bool]] = {}
    for n, (name, url) in enumerate(forms.items()):
        env = swarm_env(tmp / f"leak{n}", SWARM_DATABASE_URL=url, SWARM_WEB="off")
        outputs = {
            name: swarm(root, env, *args)
            for name, args in (
                ("task show T-99", ("task", "show", "T-99")),
                ("config show", ("config", "show")),
                ("config show --json", ("config", "show", "--json")),
                ("doctor", ("doctor", "--timeout", "1")),
            )
        }
        row = {
            k: PASSWORD in r.stdout + r.stderr or ENCODED in r.stdout + r.stderr
            for k, r in outputs.items()
        }
        down = swarm_env(
            tmp / f"leak{n}",
            SWARM_WEB="off",
            SWARM_DATABASE_URL=url.replace(str(port), str(refused)),
        )
        log = run_for(root, down, watch)[2]
        row["swarm run log"] = PASSWORD in log or ENCODED in log
        table[name] = row
    return table


def give_up(root: Path, port: int, watch: float, tmp: Path) -> dict[str, object]:
    """How ``swarm run`` ends on a refusal for good (and while a server refuses)."""
    cases = {
        "wrong password": f"postgresql://127.0.0.1:{port}/swarm?user={ROLE}&password=wrong",
        "missing database": f"postgresql://127.0.0.1:{port}/nodb?user={ROLE}&password={ENCODED}",
        "unknown host": f"postgresql://no-such-host.swarm-test.invalid:{port}/swarm",
        "refused (transient)": f"postgresql://127.0.0.1:{free_port()}/swarm",
    }
    found: dict[str, object] = {}
    for n, (name, url) in enumerate(cases.items()):
        env = swarm_env(tmp / f"run{n}", SWARM_DATABASE_URL=url, SWARM_WEB="off")
        code, seconds, err = run_for(root, env, watch)
        found[name] = {
            "exit": code,
            "seconds": round(seconds, 2),
            "lines": len(err.splitlines()),
            "last": err.strip().splitlines()[-1:],
        }
    return found


def second_run(root: Path, tmp: Path) -> dict[str, object]:
    """A second ``swarm run`` on one home, dashboard on: its exit status and message."""
    home, port = tmp / "two", free_port()
    env = swarm_env(home, SWARM_WEB_PORT=str(port))
    first = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--no-discord"],
        env=env,
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        lock = home / "coordinator.lock"
        while not (lock.exists() and lock.read_text().strip()):
            if time.monotonic() > deadline:
                raise SystemExit("the first coordinator did not start")
            time.sleep(0.05)
        time.sleep(1)  # its dashboard is listening by now
        second = swarm(root, env, "run", "--no-discord")
        return {"first pid": first.pid, "exit": second.returncode, "said": second.stderr.strip()}
    finally:
        first.terminate()
        first.wait(30)


def main() -> int:
    """Measure and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=HERE, help="the swarm tree to run")
    parser.add_argument("--watch", type=float, default=30.0, help="seconds per swarm run")
    args = parser.parse_args()
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed")
    import psycopg

    with cluster(bin_dir) as running, tempfile.TemporaryDirectory() as folder:
        with psycopg.connect(running.url(), autocommit=True) as admin:
            admin.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
            admin.execute(f"CREATE DATABASE swarm OWNER {ROLE}")
        hba = running.folder / "data" / "pg_hba.conf"
        hba.write_text(f"host all {ROLE} 127.0.0.1/32 scram-sha-256\n{hba.read_text()}")
        with psycopg.connect(running.url(), autocommit=True) as admin:
            admin.execute("SELECT pg_reload_conf()")
        time.sleep(1)
        tmp = Path(folder)
        report = {
            "root": str(args.root),
            "watch_s": args.watch,
            "password shown": leaks(args.root, running.port, args.watch, tmp),
            "swarm run": give_up(args.root, running.port, args.watch, tmp),
            "second run on one home": second_run(args.root, tmp),
        }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
