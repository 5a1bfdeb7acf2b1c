"""The agents file, reloaded while the coordinator runs: a timer of the scheduler loop looks
at the file every ``RELOAD_CHECK_S``; when it changed, it is loaded and checked whole first.
A good file replaces the agents at once (new agents get their state rows); a bad one keeps
the agents of before and says why, once per bad version. What cannot change live (a
coordinator started without the desktop driver now given desktop agents) is said too,
ending with "restart swarm run" (the deliverer is chosen at start; "restart swarm node" on a
delivery node; a node whose agents the file changes starts again itself: ``bot.cli.node``).
Files the new agents need
changed are rewritten then (``rewrite``: a newly sandboxed agent's hooks), a line each."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from core.agents_file import load_agents
from core.errors import ConfigError
from core.models import Agent
from core.protocols import PeriodicTimer
from core.service.swarm import SwarmService

log = logging.getLogger(__name__)
RELOAD_CHECK_S = 2.0

Signature = tuple[str, int, int, int] | None  # path, inode, size, mtime (ns); None: missing


class AgentsReload(PeriodicTimer):
    """Reload the agents file when it changes (``resolve``: the path the settings name now,
    e.g. ``$SWARM_HOME/agents.toml`` once calibration made it)."""

    def __init__(
        self,
        service: SwarmService,
        resolve: Callable[[], Path],
        *,
        limits: Callable[[Sequence[Agent]], list[str]] = lambda _: [],
        report: Callable[[str], None] = lambda _: None,
        apply: Callable[[Sequence[Agent]], None] = lambda _: None,
        rewrite: Callable[[Sequence[Agent]], list[str]] = lambda _: [],
        every_s: float = RELOAD_CHECK_S,
        restart: str = "swarm run",
    ) -> None:
        super().__init__(service.clock, every_s)
        self.service = service
        self.resolve = resolve
        self.limits = limits  # what this coordinator cannot take live ("restart swarm run")
        self.report = report  # also tell the terminal (the log may be in a file)
        self.apply = apply  # the deliverer's own copy of the agents (the desktop driver's)
        self.rewrite = rewrite  # files the new agents need changed (sandboxed agents' hooks)
        self.restart = restart  # what to restart for what cannot change live
        self._seen: Signature = None
        self._reading = asyncio.Lock()  # the timer's look and a delivery's, one at a time

    async def start(self) -> None:
        """The first look at once: an edit made while the coordinator started counts."""
        await self.fire()

    async def current(self) -> None:
        """Before a delivery: the file reloaded now if it changed, so a route ``swarm desktop
        up`` just wrote is the one its agent's next prompt takes (before, a task it handed
        back went out by the old route until the next look, up to ``RELOAD_CHECK_S``: a
        prompt written to an inbox file no hosted agent reads). A failure is logged; the
        delivery goes on with the agents of before."""
        try:
            await self.run()
        except Exception:
            log.exception("the agents file could not be looked at before a delivery")

    async def run(self) -> int:
        """Reload when the file changed; 1 when the agents were replaced."""
        async with self._reading:
            return await self._reload()

    async def _reload(self) -> int:
        path = self.resolve()
        seen = _signature(path)
        if seen == self._seen:
            return 0
        self._seen = seen
        try:
            agents = await asyncio.to_thread(load_agents, path)
        except ConfigError as exc:  # said once: the same file is not read again
            self._say(log.warning, f"agents file not reloaded, the agents of before stay: {exc}")
            return 0
        current = self.service
        if path == current.settings.config_path and agents == list(current.agents.values()):
            return 0  # touched, or the file loaded at start: nothing to say
        said = await self.service.replace_agents(agents, path)
        self.apply(agents)
        self._say(log.info, f"agents file reloaded from {path}: {said}")
        for problem in self.limits(agents):
            self._say(log.warning, f"{problem}; restart {self.restart}")
        for line in await asyncio.to_thread(self.rewrite, agents):
            self._say(log.warning, line)
        return 1

    def _say(self, level: Callable[[str], None], text: str) -> None:
        level(text)
        self.report(text)


def _signature(path: Path) -> Signature:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (str(path), found.st_ino, found.st_size, found.st_mtime_ns)
