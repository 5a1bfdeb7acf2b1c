"""Discord latency benchmark: interaction acknowledgement while the scheduler is busy.

Run: .venv/bin/python bench/bot_latency.py [--interactions 500]
Drives the real discord.py bot through the local Discord server; prints figures only.
With Xvfb installed it also measures /msg → text in the agent's window (desktop driver).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # discord.py imports audioop
    import discord  # noqa: F401

from localdiscord import LocalDiscordServer, UserSpec, local_client_options, pointed_at

from bot.app import Builder, Coordinator, DelivererFactory, run_with_discord, started_parts
from bot.config import Config
from bot.discordbot.settings import DiscordSettings
from core.errors import SwarmError
from core.models import Receipt, TaskSpec
from core.protocols import Parcel
from core.service.swarm import SwarmService

COMMANDS = [
    ("status", {}),
    ("agents", {}),
    ("task list", {}),
    ("task create", {"title": "bench task"}),
    ("msg", {"agent": "Agent-2", "text": "hi"}),
]


class BusyAgents:
    """Agents that finish every task at once, keeping the scheduler busy."""

    time_limit_s = None  # no deadline of its own

    def close(self) -> None:
        """Nothing to release."""

    def __init__(self, service: SwarmService) -> None:
        self.service = service

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Complete the parcel's task immediately."""
        if parcel.task_id is not None:
            with contextlib.suppress(SwarmError):  # already done by an earlier prompt
                await self.service.tasks.complete(parcel.task_id, parcel.agent.id)
        return Receipt.delivered("bench")


async def background_load(service: SwarmService, stop: asyncio.Event) -> int:
    """Keep creating work for the scheduler; return how many tasks were created."""
    created = 0
    while not stop.is_set():
        await service.tasks.create_many([TaskSpec(f"load {created + i}") for i in range(8)], "load")
        created += 8
        await asyncio.sleep(0.01)
    return created


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@contextlib.asynccontextmanager
async def coordinator(
    server: LocalDiscordServer, home: Path, deliverer: DelivererFactory | None = None
) -> AsyncIterator[tuple[SwarmService, Any]]:
    """``swarm run`` as the composition root builds it, against the local Discord; yields its
    service and the admin user."""
    channel = server.add_text_channel("swarm")
    boss = server.add_user("boss")
    settings = DiscordSettings(
        token=server.token,
        guild_id=server.guild.id,
        channel_id=channel.id,
        admin_ids=frozenset({boss.id}),
    )
    builder = Builder(
        Config({"SWARM_HOME": str(home)}, discord=settings),
        deliverer=deliverer,
        client_options=local_client_options(),
    )
    stop = asyncio.Event()
    with pointed_at(server):
        started: asyncio.Future[Coordinator] = asyncio.get_running_loop().create_future()
        runner = asyncio.create_task(run_with_discord(builder, stop=stop, started=started))
        try:
            parts = await started_parts(runner, started)
            await server.wait_for_commands("task", "msg")
            await server.wait_for_bot_ready()
            yield parts.service, boss
        finally:
            stop.set()
            await runner


async def measure_acks(count: int, home: Path) -> dict[str, float]:
    """Acknowledgement latency of ``count`` interactions under load."""
    async with (
        LocalDiscordServer(heartbeat_interval_s=5.0) as server,
        coordinator(server, home, BusyAgents) as (service, boss),
    ):
        stop = asyncio.Event()
        load = asyncio.create_task(background_load(service, stop))
        latencies = await _interactions(server, boss, count)
        stop.set()
        created = await load
        done = (await service.status())["tasks"]["done"]
    return {
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
        "load_tasks": created,
        "load_done": done,
    }


async def _interactions(server: LocalDiscordServer, user: UserSpec, count: int) -> list[float]:
    rng = random.Random(1)
    latencies = []
    for _ in range(count):
        name, options = rng.choice(COMMANDS)
        handle = await server.invoke_slash(user, name, options)
        callback = await handle.wait_callback()
        latencies.append(callback.latency)
    return latencies


async def measure_msg_to_window(count: int, home: Path) -> list[float] | None:
    """Seconds from invoking /msg to the text in the agent's window; None without Xvfb."""
    from automation.desktop import virtual_desktop as vd

    if vd.xvfb_path() is None:
        return None
    server = await asyncio.to_thread(vd.start_xvfb, home / "xvfb")
    try:
        windows = await asyncio.to_thread(vd.open_windows, server, home / "windows")
        try:
            with vd.display_env(server):
                return await _to_windows(count, home, windows)
        finally:
            windows.stop()
    finally:
        vd.kill_display_clients(server.display, "xsel")
        server.stop()


async def _to_windows(count: int, home: Path, windows: Any) -> list[float]:
    async with (
        LocalDiscordServer(heartbeat_interval_s=5.0) as server,
        coordinator(server, home / "s") as (_service, boss),
    ):
        await _one_message(server, boss, windows, 0)  # warm-up: the pointer settles
        return [await _one_message(server, boss, windows, i % 8) for i in range(1, count + 1)]


async def _one_message(
    server: LocalDiscordServer, user: UserSpec, windows: Any, index: int
) -> float:
    before = len(windows.texts(index))
    started = time.perf_counter()
    handle = await server.invoke_slash(
        user, "msg", {"agent": f"Agent-{index + 1}", "text": f"ping {started}"}
    )
    await handle.wait_callback()
    while len(windows.texts(index)) == before:
        if time.perf_counter() - started > 10:
            raise TimeoutError(f"Agent-{index + 1} received nothing in 10 s")
        await asyncio.sleep(0.002)
    return time.perf_counter() - started


async def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=500)
    parser.add_argument("--messages", type=int, default=40, help="/msg to window samples")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        acks = await measure_acks(args.interactions, Path(tmp))
        seconds = time.perf_counter() - started
    print(
        f"{args.interactions} interactions through the local Discord in {seconds:.1f} s while "
        f"the scheduler ran {acks['load_done']} tasks to done ({acks['load_tasks']} created)"
    )
    print(
        f"acknowledgement: p50 {acks['p50'] * 1000:.1f} ms, p99 {acks['p99'] * 1000:.1f} ms, "
        f"max {acks['max'] * 1000:.1f} ms; Discord allows 3000 ms "
        f"(p99 is {3 / acks['p99']:.0f}x inside it)"
    )
    if args.messages < 1:
        print("/msg to window: skipped (--messages 0)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        to_window = await measure_msg_to_window(args.messages, Path(tmp))
    if to_window is None:
        print("/msg to window: skipped (Xvfb is not installed)")
        return
    print(
        f"/msg to text in the agent's window ({len(to_window)} messages, desktop driver on "
        f"Xvfb): p50 {percentile(to_window, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(to_window, 0.99) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
