"""The hook socket under a flood (issue 54, item 3): events of 0.9 MB sent while another
process holds the SQLite store's write lock, the coordinator's memory before and after.

Run: ``.venv/bin/python bench/hook_flood.py [--events 300] [--senders 16] [--mb 0.9]``.
Prints the events the socket took and those it told to write their own (``{"done":
false}``), the bytes waiting at the peak, and this process's resident memory (VmRSS) before
the flood, at its peak and once the lock is let go and the events taken are written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bot import hook_relay  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.hook_server import HookServer  # noqa: E402
from core.service.swarm import SwarmService  # noqa: E402
from core.settings import Settings  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def flood(events: int, senders: int, size: float) -> None:
    with tempfile.TemporaryDirectory(prefix="swarm-flood-") as folder:
        home = Path(folder)
        config = home / "agents.toml"
        config.write_text('[[agent]]\nid = "A"\nrole = "dev"\ndelivery = "inbox"\n')
        env = {"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)}
        service = await SwarmService.open(Settings.from_env(env))
        server = HookServer(service, Config(env))
        assert await server.start()
        body = {"session_id": "f", "cwd": "/", "hook_event_name": "PreToolUse",
                "tool_name": "Bash", "tool_input": {"command": "x" * int(size * 1e6)}}  # fmt: skip
        raw = json.dumps(body)
        before, peak = rss_mb(), 0.0
        busy = sqlite3.connect(service.settings.db_path, isolation_level=None)
        busy.execute("BEGIN IMMEDIATE")
        began = time.monotonic()
        with ThreadPoolExecutor(senders) as pool:
            loop = asyncio.get_running_loop()
            sends = [loop.run_in_executor(pool, hook_relay.send, raw, "A", env)
                     for _ in range(events)]  # fmt: skip
            while not all(s.done() for s in sends):
                await asyncio.sleep(0.2)
                peak = max(peak, rss_mb())
            answers = [s.result() for s in sends]
        took = time.monotonic() - began
        waiting = getattr(server, "waiting_bytes", None)
        busy.execute("ROLLBACK")
        busy.close()
        await server.written()
        after = rss_mb()
        await server.close()
        await service.close()
    print(f"{events} events of {size} MB, {senders} senders, {took:.1f} s: taken "
          f"{answers.count(True)}, told to write their own {answers.count(False)}; bytes "
          f"waiting at the end {waiting}; RSS {before:.0f} MB before, {peak:.0f} MB at the "
          f"peak, {after:.0f} MB after")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--mb", type=float, default=0.9)
    args = parser.parse_args()
    os.environ.pop("SWARM_AGENT", None)
    asyncio.run(flood(args.events, args.senders, args.mb))


if __name__ == "__main__":
    main()
