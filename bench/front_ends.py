"""Event → message on each front end, side by side in one run (issue 81).

Run: .venv/bin/python bench/front_ends.py [--tasks 15] [--every 1.0]

One coordinator, as ``swarm run --local-discord --local-telegram --local-slack`` runs it: the
real discord.py, python-telegram-bot and slack-bolt against the three local servers, each
posting every task's card. A task is created every ``--every`` seconds (a person's pace,
within each platform's rate: Telegram's 20 messages a minute in a group); for each, the time
from its creation to its card on each platform (each server's store watched every 2 ms).
Prints p50 and the slowest (p99 of so few) per platform, and each as a ratio to Discord's, the
baseline of the same run. Figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # discord.py imports audioop
    import discord  # noqa: F401

from localslack import LocalSlackServer

from bot.app import Builder, Coordinator, run_with_front_ends, started_parts
from bot.config import Config
from bot.local_discord import local_discord
from bot.local_telegram import local_telegram
from bot.slack.settings import SlackSettings
from core.models import TaskSpec
from core.service.swarm import SwarmService

WATCH_S = 0.002
CARD_WAIT_S = 60.0


def _seen(platforms: dict[str, Callable[[], list[str]]], ref: str) -> set[str]:
    return {name for name, texts in platforms.items() if any(ref in t for t in texts())}


async def _measure(service: SwarmService, platforms: dict[str, Callable[[], list[str]]],
                   tasks: int, every_s: float) -> dict[str, list[float]]:  # fmt: skip
    """Create ``tasks`` tasks, ``every_s`` apart; each card's time on each platform."""
    found: dict[str, list[float]] = {name: [] for name in platforms}
    for _ in range(tasks):
        began = time.perf_counter()
        task = await service.tasks.create(TaskSpec("bench card"), "cli")
        ref, left = f"T-{task.id}", set(platforms)
        while left and time.perf_counter() - began < CARD_WAIT_S:
            for name in _seen({n: platforms[n] for n in left}, ref):
                found[name].append(time.perf_counter() - began)
                left.discard(name)
            await asyncio.sleep(WATCH_S)
        await asyncio.sleep(max(0.0, every_s - (time.perf_counter() - began)))
    return found


async def run(tasks: int, every_s: float) -> dict[str, list[float]]:
    """The three front ends on one coordinator; their cards' times."""
    home = Path(tempfile.mkdtemp(prefix="swarm-bench-front-ends-"))
    config = Config({"SWARM_HOME": str(home), "SWARM_WEB": "off"})
    builder = Builder(config, serve_web=False)
    slack = LocalSlackServer(team_name="bench", host="127.0.0.1")
    channel, person = slack.add_channel("swarm"), slack.add_user("you")
    await slack.start(0)
    builder.config = builder.config.replace(slack=SlackSettings(
        bot_token=slack.bot_token, app_token=slack.app_token, channel_id=channel.id,
        admin_ids=frozenset({person.id}), api_url=slack.api_url,
    ))  # fmt: skip
    try:
        async with local_discord(builder, 0) as discord_page, local_telegram(builder, 0) as tg:
            platforms = {
                "Discord": lambda: [m.content for m in discord_page.server.messages(
                    discord_page.channel.id)],
                "Telegram": lambda: [m.text for m in tg.server.from_bot(tg.chat)],
                "Slack": lambda: [m.text for m in slack.top_level(channel)],
            }  # fmt: skip
            stop = asyncio.Event()
            started: asyncio.Future[Coordinator] = asyncio.get_running_loop().create_future()
            runner = asyncio.create_task(run_with_front_ends(
                builder, builder.front_ends(), stop=stop, started=started))  # fmt: skip
            parts = await started_parts(runner, started)
            try:
                await asyncio.sleep(3)  # each front end connected
                return await _measure(parts.service, platforms, tasks, every_s)
            finally:
                stop.set()
                await asyncio.wait_for(runner, 30)
    finally:
        await slack.close()


def _report(found: dict[str, list[float]], tasks: int) -> None:
    base = statistics.median(found["Discord"]) if found["Discord"] else None
    print(f"event -> message, {tasks} task cards, one coordinator, three front ends:")
    for name, times in found.items():
        if not times:
            print(f"  {name:<9} no card seen")
            continue
        p50, worst = statistics.median(times), max(times)
        ratio = f" ({p50 / base:.2f}x Discord's p50)" if base else ""
        print(f"  {name:<9} p50 {p50 * 1000:7.1f} ms  slowest {worst * 1000:7.1f} ms"
              f"  seen {len(times)}/{tasks}{ratio}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=15)
    parser.add_argument("--every", type=float, default=1.0, help="seconds between tasks")
    args = parser.parse_args()
    _report(asyncio.run(run(args.tasks, args.every)), args.tasks)


if __name__ == "__main__":
    main()
