"""The composition root: settings → store → scheduler → deliverer (→ bot, later)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from core import retention
from core.protocols import Deliverer
from core.scheduler import BurstResult, Scheduler
from core.service import SwarmService
from core.settings import Settings

log = logging.getLogger(__name__)


def build_deliverer(service: SwarmService) -> Any:
    """The desktop driver, or inbox files where there is no display (imported lazily)."""
    from automation.factory import build_deliverer as build

    return build(service.settings, list(service.agents.values()), service.kill_switch)


async def run_headless(
    settings: Settings,
    *,
    burst: bool = False,
    deliverer: Deliverer | None = None,
    stop: asyncio.Event | None = None,
) -> BurstResult | None:
    """Run scheduler and delivery without Discord until SIGINT/SIGTERM (or idle, in burst)."""
    service = await SwarmService.open(settings)
    chosen = deliverer or build_deliverer(service)
    scheduler = Scheduler(service, chosen)
    started = time.monotonic()
    try:
        if burst:
            return await scheduler.run_burst()
        stop = stop or asyncio.Event()
        with _stop_on_signals(stop):
            async with _watching(service):
                log.info("coordinator started: %d agents, database %s", len(service.agents),
                         settings.db_path)
                await scheduler.run(stop)
        return None
    finally:
        close = getattr(chosen, "close", None)
        if callable(close):
            close()
        await service.close()
        log.info("coordinator stopped after %.1f s", time.monotonic() - started)


async def run_with_discord(
    settings: Settings,
    discord_settings: Any,
    *,
    deliverer: Deliverer | None = None,
    stop: asyncio.Event | None = None,
    client_options: dict[str, Any] | None = None,
) -> None:
    """Bot, scheduler, delivery and notifier in one process, until SIGINT/SIGTERM."""
    discord_settings.require_connection()
    service = await SwarmService.open(settings)
    chosen = deliverer or build_deliverer(service)
    stop = stop or asyncio.Event()
    try:
        with _stop_on_signals(stop):
            async with _watching(service):
                await _run_bot(service, chosen, discord_settings, stop, client_options or {})
    finally:
        close = getattr(chosen, "close", None)
        if callable(close):
            close()
        await service.close()


async def _run_bot(
    service: SwarmService, deliverer: Deliverer, discord_settings: Any, stop: asyncio.Event,
    client_options: dict[str, Any],
) -> None:
    import discord

    from bot.discordbot.client import SwarmBot
    from core.errors import ConfigError

    logging.getLogger("discord").setLevel(logging.WARNING)
    bot = SwarmBot(service, discord_settings, **client_options)
    scheduler = asyncio.create_task(Scheduler(service, deliverer).run(stop))
    connection = asyncio.create_task(bot.start(discord_settings.token))
    stopped = asyncio.create_task(stop.wait())
    log.info("coordinator started with Discord: %d agents", len(service.agents))
    await asyncio.wait({scheduler, connection, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    await bot.close()
    await asyncio.gather(scheduler, stopped)
    try:
        await connection
    except discord.LoginFailure:
        raise ConfigError("Discord refused DISCORD_TOKEN: reset the token and set it again"
                          ) from None
    log.info("coordinator stopped")


@contextlib.asynccontextmanager
async def _watching(service: SwarmService) -> AsyncIterator[None]:
    """Watch ticks (stalls, alerts) and stored schedules run while the coordinator does."""
    from automation.watch import build_jobs

    jobs = build_jobs(service)
    await jobs.start()
    keeper = asyncio.create_task(retention.keep(service), name="retention")  # hourly pass
    try:
        yield
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        await jobs.shutdown()


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
