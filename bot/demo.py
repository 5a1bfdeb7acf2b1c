"""``swarm demo``: a short scripted session on a throw-away SWARM_HOME.

The coordinator runs in this process; the person and the agents use the real ``swarm``
CLI in separate processes, as they would from their own terminals. Messages reach the
agents as inbox files (the desktop and Discord parts of the demo come with those features).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bot.cli_format import event_line
from core.protocols import Deliverer
from core.scheduler import Scheduler
from core.service import SwarmService
from core.settings import Settings

SCRIPT: list[list[str]] = [
    ["task", "add", "Design the REST API for the notes app", "--role", "architecture",
     "--priority", "high"],
    ["task", "add", "Implement the notes endpoints", "--role", "integration", "--after", "T-1"],
    ["task", "add", "Create the database schema", "--role", "data", "--after", "T-1"],
    ["task", "add", "Write the API tests", "--role", "qa", "--after", "T-2", "T-3"],
    ["task", "add", "Set up CI for the repository", "--role", "infrastructure",
     "--priority", "urgent"],
    ["broadcast", "Demo kick-off: the notes app sprint has started. Watch your inbox."],
]
TASK_IN_TEXT = re.compile(r"\btask (T-\d+)\b")
TIMEOUT_S = 60.0


async def swarm_cli(home: Path, *args: str, agent: str | None = None) -> str:
    """Run the real ``swarm`` CLI in a child process; return its output."""
    env = {**os.environ, "SWARM_HOME": str(home)}
    if agent:
        env["SWARM_AGENT"] = agent
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    if proc.returncode != 0:
        raise RuntimeError(f"swarm {shlex.join(args)} failed: {out.decode().strip()}")
    return out.decode().strip()


async def run_demo(keep: bool = False) -> int:
    """Play the scenario; 0 when every task got done."""
    home = Path(tempfile.mkdtemp(prefix="swarm-demo-"))
    print(f"swarm demo: SWARM_HOME={home}")
    print("delivery: inbox files (one per message, in SWARM_HOME/inbox/<agent>/)\n")
    settings = Settings.from_env({"SWARM_HOME": str(home)})
    service = await SwarmService.open(settings)
    try:
        return await _play(service, home)
    finally:
        await service.close()
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


async def _play(service: SwarmService, home: Path) -> int:
    from automation.inbox import InboxDeliverer

    deliverer: Deliverer = InboxDeliverer(service.settings.inbox_dir)
    stop = asyncio.Event()
    started = time.monotonic()
    runner = asyncio.create_task(Scheduler(service, deliverer, poll_s=0.2).run(stop))
    printer = asyncio.create_task(_print_events(service, stop))
    agents = asyncio.create_task(_demo_agents(service, home, stop))
    try:
        for args in SCRIPT:
            print(f"$ swarm {shlex.join(args)}\n  {await swarm_cli(home, *args)}")
        finished = await _wait_all_done(service)
    finally:
        stop.set()
        for task in (runner, printer, agents):
            with contextlib.suppress(asyncio.CancelledError):
                await task
    await _summary(service, time.monotonic() - started)
    return 0 if finished else 1


async def _print_events(service: SwarmService, stop: asyncio.Event) -> None:
    last = 0
    while not stop.is_set():
        for event in await service.events(after_id=last, limit=500):
            last = event.id
            print(f"  | {event_line(event)}", flush=True)
        await asyncio.sleep(0.1)


async def _demo_agents(service: SwarmService, home: Path, stop: asyncio.Event) -> None:
    """Each demo agent reads its inbox and reports through the CLI, like a real one."""
    seen: set[Path] = set()
    inbox = service.settings.inbox_dir
    while not stop.is_set():
        for path in sorted(inbox.glob("*/*")):
            if path in seen or path.suffix == ".tmp":
                continue
            seen.add(path)
            found = TASK_IN_TEXT.search(path.read_text(encoding="utf-8"))
            if found:
                await _work_on(home, path.parent.name, found.group(1))
        await asyncio.sleep(0.1)


async def _work_on(home: Path, agent: str, ref: str) -> None:
    await swarm_cli(home, "task", "start", ref, agent=agent)
    await swarm_cli(home, "task", "done", ref, "--note", f"finished by demo {agent}", agent=agent)


async def _wait_all_done(service: SwarmService) -> bool:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        counts = (await service.status())["tasks"]
        if counts["done"] == len([a for a in SCRIPT if a[0] == "task"]):
            return True
        await asyncio.sleep(0.1)
    return False


async def _summary(service: SwarmService, seconds: float) -> None:
    overview = await service.status()
    tasks, deliveries = overview["tasks"], overview["deliveries"]
    print(f"\nsummary: {tasks['done']} tasks done, {tasks['failed']} failed; "
          f"{deliveries['delivered']} deliveries made, {deliveries['failed']} failed; "
          f"{seconds:.1f} s")
