"""How long swarm's MCP server takes to answer an agent CLI's ``initialize``: one alone, and
``--fleet`` of them started at once (a fleet's CLIs each start theirs), against ``swarm
--version``'s start in the same run (the baseline: a Python start and the CLI's entry).

Run: ``.venv/bin/python bench/mcp_start.py [--rounds 5] [--fleet 8]``. Each server is a new
``swarm mcp`` (``SWARM_AGENT`` one agent of a scratch home), sent ``initialize`` at once as a
client does; prints p50 / max of the time to its answer, and each as a ratio of the baseline.
Codex waits for an MCP server only so long (``core.clis.codex.mcp.STARTUP_TIMEOUT_S``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SWARM = str(Path(sys.executable).with_name("swarm"))
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "1"},
    },
}


def baseline(env: dict[str, str]) -> float:
    """Seconds of one ``swarm --version``, start to exit."""
    started = time.monotonic()
    subprocess.run([SWARM, "--version"], env=env, capture_output=True, check=True)
    return time.monotonic() - started


def answered(env: dict[str, str]) -> float:
    """Seconds from starting one ``swarm mcp`` to its answer to ``initialize``."""
    started = time.monotonic()
    server = subprocess.Popen(
        [SWARM, "mcp"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write((json.dumps(INITIALIZE) + "\n").encode())
    server.stdin.flush()
    line = server.stdout.readline()
    took = time.monotonic() - started
    server.stdin.close()
    server.wait(timeout=30)
    if b'"result"' not in line:
        raise SystemExit(f"swarm mcp answered no result: {line[:200]!r}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each (default 5)")
    parser.add_argument("--fleet", type=int, default=8, help="servers at once (default 8)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        config = Path(home) / "agents.toml"
        config.write_text('[[agent]]\nid = "Agent-1"\nrole = "dev"\n', encoding="utf-8")
        env = {**os.environ, "SWARM_HOME": home, "SWARM_CONFIG": str(config)}
        env["SWARM_AGENT"] = "Agent-1"
        base, alone, fleet = [], [], []
        for _ in range(args.rounds):
            base.append(baseline(env))
            alone.append(answered(env))
            with ThreadPoolExecutor(args.fleet) as pool:
                fleet += list(pool.map(lambda _: answered(env), range(args.fleet)))
    b = statistics.median(base)
    print(f"baseline swarm --version: p50 {b:.2f} s (n={len(base)})")
    for name, times in (("one swarm mcp", alone), (f"{args.fleet} at once, each", fleet)):
        p50 = statistics.median(times)
        print(f"{name}: p50 {p50:.2f} s, max {max(times):.2f} s ({p50 / b:.1f}x the baseline)")


if __name__ == "__main__":
    main()
