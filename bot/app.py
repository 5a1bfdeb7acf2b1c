"""The composition root: one ``Config`` → one ``Builder`` → every object of the coordinator.

``swarm run`` (with or without Discord), ``swarm demo``, the CLI, the benchmarks and the
tests all build through ``Builder``; what differs (a deliverer, a clock, a frame source, a
poll interval, discord.py options) is passed to it, never patched into the environment.
``run_headless`` and ``run_with_front_ends`` (each a ``FrontEndRun``: Discord's is
``Builder.discord``) run what it builds until SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Config
from bot.run_stop import RunStopper, banner, on_signals, say
from core.models import Agent
from core.protocols import Clock, Deliverer, RoutesAgents, Timer
from core.service.swarm import SwarmService
from core.waits import Background

if TYPE_CHECKING:  # the CLI imports this module for every command: the rest loads lazily
    from automation.protocol.watch import ProtocolWatch
    from bot.discordbot.client import SwarmBot
    from bot.hook_server import HookServer
    from bot.web.server import WebServer
    from core.agents import FrameSource
    from core.coordinator.agents_reload import AgentsReload
    from core.coordinator.db_lock import HeldLock
    from core.coordinator.home_lock import CoordinatorLock
    from core.coordinator.jobs import Jobs, Summarizer
    from core.coordinator.scheduler import BurstResult, Scheduler
    from core.github_loop.sync import GitHubSync
    from core.service.ai import AIBook
    from core.watch.text_signal import TextWatcher

log = logging.getLogger(__name__)
DelivererFactory = Callable[[SwarmService], Deliverer]


@dataclass
class Coordinator:
    """What one running coordinator is made of."""

    service: SwarmService
    deliverer: Deliverer
    ai: AIBook
    jobs: Jobs
    scheduler: Scheduler


@dataclass(frozen=True)
class FrontEndRun:
    """A front end ``swarm run`` starts beside the scheduler: ``require`` checks its settings
    before anything starts; ``run`` serves it (its notifier among it) until ``stop`` is set,
    and raises what is fatal (a bad token): that stops the coordinator."""

    name: str
    require: Callable[[], None]
    run: Callable[[Coordinator, asyncio.Event], Coroutine[Any, Any, None]]


class Builder:
    """Builds the coordinator's objects from ``config``; the keyword arguments override parts."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        deliverer: DelivererFactory | None = None,
        frames: FrameSource | None = None,
        summarize: Summarizer | None = None,
        poll_s: float = 0.5,
        client_options: dict[str, Any] | None = None,
        serve_web: bool = False,
    ) -> None:
        self.config = config
        self.serve_web = serve_web  # `swarm run` serves the dashboard (SWARM_WEB=off: not)
        self.clock = clock
        self._deliverer = deliverer
        self._frames = frames
        self._summarize = summarize
        self.poll_s = poll_s
        self.client_options = client_options or {}
        self._home_lock: CoordinatorLock | None = None
        self.github_sync: GitHubSync | None = None  # built by `scheduler` when configured

    @property
    def log_file(self) -> str:
        """``SWARM_LOG_FILE`` ("" when the log goes to the terminal)."""
        return (self.config.env.get("SWARM_LOG_FILE") or "").strip()

    async def service(
        self, *, readers: int | None = None, reads_only: bool = False
    ) -> SwarmService:
        """The service over the configured home and agents file (``readers``: PostgreSQL's
        reader connections; ``reads_only``: for a command that only reads;
        ``SwarmService.open``'s)."""
        from bot.hook_common import freshness

        service = await SwarmService.open(
            self.config.core, self.clock, readers=readers, reads_only=reads_only
        )
        fresh = freshness(self.config)  # a stop's idle pane, an agent's start judged on it
        service.roster.fresh = service.tasks.fresh = fresh
        return service

    def deliverer(self, service: SwarmService) -> Deliverer:
        """The given deliverer, else the registry of the routes at hand (the desktop driver,
        tmux panes, protocol hosts, inbox files: ``automation.routes``, imported lazily)."""
        if self._deliverer is not None:
            return self._deliverer(service)
        from automation.routes import build_deliverer

        return build_deliverer(
            service.settings, list(service.agents.values()), service.kill_switch, self.config.gui
        )

    def ai(self, service: SwarmService) -> AIBook:
        """Plans, summaries and usage over the configured model (close it)."""
        from core.service.ai import AIBook

        return AIBook(service, self.config.ai)

    def jobs(self, service: SwarmService, ai: AIBook) -> Jobs:
        """The watch tick over the screen (or the given frames) and the stored schedules."""
        from core.coordinator.jobs import Jobs, Watcher, summarizer

        watch = self.config.watch
        return Jobs(
            service,
            watch,
            self._summarize or summarizer(ai),
            Watcher(service, watch, self.frames(), text=self.text(service)),
        )

    def text(self, service: SwarmService, node: str | None = None) -> TextWatcher:
        """The tmux agents' pane reader with the agent rule files (bundled, and the user's in
        ``$SWARM_HOME/agent-rules/``: a bad one is logged as one line and left out)."""
        from core.agents import load_rule_sets
        from core.watch.text_signal import TextWatcher

        rule_sets, errors = load_rule_sets(service.settings.home)
        for error in errors:
            log.error("%s", error)
        return TextWatcher(service, rule_sets, node=node)

    def frames(self) -> FrameSource:
        """The given frame source, else this desktop's screen (the watch's frames)."""
        if self._frames is not None:
            return self._frames
        from automation.desktop.watch import ScreenFrames

        return ScreenFrames()

    def scheduler(self, service: SwarmService, deliverer: Deliverer, jobs: Jobs) -> Scheduler:
        """The one timer loop: tasks, deliveries; the jobs and retention as its timers."""
        from core.coordinator.home_lock import Heartbeat
        from core.coordinator.retention import RetentionTimer
        from core.coordinator.scheduler import Scheduler

        reload = self.agents_reload(service, deliverer)
        timers: list[Timer] = [
            jobs,
            RetentionTimer(service),
            Heartbeat(service.settings.home, service.clock),
            reload,
        ]
        keys = self.prompt_keys(service, deliverer, jobs)
        if keys is not None:
            timers.append(keys)
        hosts = self.protocol_watch(service)
        timers.append(hosts)
        timers.append(self.gateway_watch(service))
        timers.append(self.store_folds(service))
        github = self.github(service)
        if github is not None:
            timers.append(github)
        if service.listens:  # other processes' writes wake the loop at once
            from core.coordinator.changes import ChangeListener

            listener = ChangeListener(service)
            scheduler = Scheduler(
                service,
                deliverer,
                timers=[*timers, listener],
                poll_s=self.poll_s,
                before_delivery=reload.current,
            )
            listener.on_change = scheduler.wake
            hosts.wake = scheduler.wake
            return scheduler
        scheduler = Scheduler(
            service, deliverer, timers=timers, poll_s=self.poll_s, before_delivery=reload.current
        )
        hosts.wake = scheduler.wake  # a host's news is written at once
        return scheduler

    def protocol_watch(self, service: SwarmService, node: str | None = None) -> ProtocolWatch:
        """The protocol agents' host journals read into the store (of ``node``'s agents, or
        the coordinator's): a timer that costs nothing while no agent is a protocol agent."""
        from automation.protocol.watch import ProtocolWatch
        from core.agents import Freshness

        watch = self.config.watch
        fresh = Freshness.of(
            watch.interval_s, watch.stall_after_s, self.config.core.limit_backoff_s
        )
        return ProtocolWatch(service, fresh, node=node)

    def gateway_watch(self, service: SwarmService, node: str | None = None) -> Timer:
        """The sandboxed agents' model gateways (of ``node``'s agents, or the coordinator's):
        a dead one makes its agent errored and is started again, an edited allow-list is
        given to it, its refusals become events (``core.watch.gateways``)."""
        from automation.launch.sandbox import Gateways
        from core.agents import Freshness
        from core.watch.gateways import GatewayWatch

        watch = self.config.watch
        fresh = Freshness.of(
            watch.interval_s, watch.stall_after_s, self.config.core.limit_backoff_s
        )
        probe = Gateways(service.settings.home, dict(os.environ))
        return GatewayWatch(service, probe, fresh, node=node)

    def store_folds(self, service: SwarmService, node: str | None = None) -> Timer:
        """The sandboxed agents' git stores folded every few seconds (of ``node``'s agents,
        or the coordinator's): an object an agent wrote is checked against its name before
        long, whoever reads it (``core.watch.store_folds``)."""
        from core.watch.store_folds import StoreFolds

        return StoreFolds(service, node=node)

    def github(self, service: SwarmService) -> GitHubSync | None:
        """The GitHub loop (a timer) when ``SWARM_GITHUB_REPO`` is set; None otherwise."""
        settings = self.config.github
        if not settings.enabled:
            return None
        from core.github.settings import require_library

        settings.require()
        require_library()
        from core.github_loop.sync import GitHubSync

        self.github_sync = GitHubSync(service, settings)
        return self.github_sync

    def prompt_keys(self, service: SwarmService, deliverer: Deliverer, jobs: Jobs) -> Timer | None:
        """The timer that types decided text/screen prompts' answers into the agents' windows
        through the deliverer's desktop driver (None: the deliverer cannot press keys)."""
        from core.coordinator.prompt_keys import KeyPresser, PromptKeys

        if not isinstance(deliverer, KeyPresser):
            return None
        text = jobs.watcher.text if jobs.watcher is not None else None
        return PromptKeys(service, deliverer, text)

    def agents_reload(
        self,
        service: SwarmService,
        deliverer: Deliverer,
        node: str | None = None,
        serve_again: Callable[[list[str]], None] | None = None,
    ) -> AgentsReload:
        """The agents file reloaded when it changes (the file the settings name now: the
        home's ``agents.toml`` once ``agents calibrate`` copied the bundled one there); a
        delivery ``node``'s serves the agents it started with: a file giving it others is
        ``serve_again`` (with their ids) when given, else said."""
        from core.coordinator.agents_reload import AgentsReload
        from core.settings import bundled_agents_file

        started = service.settings.config_path

        def resolve() -> Path:
            # the file the coordinator started with; the bundled one gives way to the home's
            # agents.toml once `agents calibrate` writes it (the settings passed in, not the
            # environment: a builder may be given whole settings)
            if started != bundled_agents_file():
                return started
            in_home = service.settings.home / "agents.toml"
            return in_home if in_home.is_file() else started

        routes = deliverer if isinstance(deliverer, RoutesAgents) else None
        serves = sorted(a.id for a in service.agents.values() if a.node == node)
        who = f"node {node}" if node else "this coordinator"

        def limits(agents: Sequence[Agent]) -> list[str]:
            found = [
                f"{a.id} is a desktop agent, but {who} started without the desktop driver "
                "(no desktop agent or no display then): its messages go to inbox files"
                for a in agents
                if routes is not None and a.delivery == "gui" and routes.method_for(a) == "inbox"
            ]
            named = sorted(a.id for a in agents if a.node == node)
            if node and named != serves and serve_again is not None:
                serve_again(named)
            elif node and named != serves:
                found.append(
                    f"the agents file gives node {node} {', '.join(named) or 'no agent'}, but "
                    f"it serves {', '.join(serves)}, those it started with"
                )
            return found

        def report(text: str) -> None:  # also on the terminal when the log is in a file
            if self.log_file:
                print(f"swarm {'node' if node else 'run'}: {text}", flush=True)

        return AgentsReload(
            service,
            resolve,
            limits=limits,
            report=report,
            apply=routes.use_agents if routes is not None else (lambda _: None),
            rewrite=lambda agents: _stale_hook_lines(service, agents),
            restart="swarm node" if node else "swarm run",
        )

    def bot(self, service: SwarmService, ai: AIBook) -> SwarmBot:
        """A new Discord client (one per connection attempt)."""
        from bot.discordbot.client import SwarmBot

        return SwarmBot(
            service, self.config.discord, ai, github=self.config.github, **self.client_options
        )

    def discord(self) -> FrontEndRun:
        """Discord as a front end: the bot, reconnected with backoff while Discord is down."""

        def require() -> None:
            self.config.discord.require_connection()
            logging.getLogger("discord").setLevel(logging.WARNING)

        async def run(parts: Coordinator, stop: asyncio.Event) -> None:
            from bot.discordbot.connection import keep_connected

            await keep_connected(
                lambda: self.bot(parts.service, parts.ai), self.config.discord, stop
            )

        return FrontEndRun("Discord", require, run)

    def telegram(self) -> FrontEndRun:
        """Telegram as a front end: long polling, reconnected with backoff while it is down."""

        def require() -> None:
            from core.errors import ConfigError

            self.config.telegram.require_connection()
            if importlib.util.find_spec("telegram") is None:
                raise ConfigError(
                    "TELEGRAM_BOT_TOKEN is set but python-telegram-bot is not installed: "
                    "pip install 'swarm[telegram]'"
                )
            logging.getLogger("httpx").setLevel(logging.WARNING)  # its lines name the token

        async def run(parts: Coordinator, stop: asyncio.Event) -> None:
            from bot.telegram.runner import serve

            await serve(parts.service, self.config.telegram, stop, self.poll_s)

        return FrontEndRun("Telegram", require, run)

    def slack(self) -> FrontEndRun:
        """Slack as a front end: the app over Socket Mode, reconnected while Slack is down."""

        def require() -> None:
            self.config.slack.require_connection()
            try:
                import slack_bolt  # noqa: F401
            except ImportError:
                from core.errors import ConfigError

                raise ConfigError("Slack needs slack-bolt: pip install 'swarm[slack]'") from None
            logging.getLogger("slack_bolt").setLevel(logging.WARNING)
            logging.getLogger("slack_sdk").setLevel(logging.WARNING)

        async def run(parts: Coordinator, stop: asyncio.Event) -> None:
            from bot.slack.app import keep_connected

            await keep_connected(parts.service, self.config.slack, stop)

        return FrontEndRun("Slack", require, run)

    def front_ends(self) -> list[FrontEndRun]:
        """The front ends ``swarm run`` starts: each one configured (Discord, Telegram,
        Slack); Discord also when no other is (its check then says what to set)."""
        others = [
            make
            for make, on in (
                (self.telegram, self.config.telegram.configured),
                (self.slack, self.config.slack.configured),
            )
            if on
        ]
        discord = [self.discord()] if self.config.discord.token or not others else []
        return discord + [make() for make in others]

    def web(
        self, service: SwarmService, sock: socket.socket | None = None
    ) -> contextlib.AbstractAsyncContextManager[WebServer | None]:
        """The dashboard and REST API while a block runs (``serve_web`` off or
        ``SWARM_WEB=off``: nothing), on ``sock`` if ``web_socket`` bound it already."""
        if not (self.serve_web and self.config.web.enabled):
            return contextlib.nullcontext(None)
        from bot.web.server import running

        return running(service, self.config.web, sock=sock)

    @contextlib.contextmanager
    def home_lock(self) -> Iterator[None]:
        """On SQLite, the home's lock (``core/coordinator/home_lock.py``) held for the block
        (already held: nothing more): ``swarm run`` takes it before it binds the dashboard's
        port, so a second coordinator on the home stops naming the first (``already
        running: pid ...``), not the port. On PostgreSQL nothing: the scheduler lock is
        waited for after the port is bound (``coordinator``). The settings are checked
        first: a bad one stops ``swarm run`` before it takes anything."""
        self.config.check()
        if self.config.core.database_url or self._home_lock is not None:
            yield
            return
        from core.coordinator.home_lock import CoordinatorLock

        with CoordinatorLock(self.config.core.home) as lock:
            self._home_lock = lock
            try:
                yield
            finally:
                self._home_lock = None

    @contextlib.contextmanager
    def web_socket(self) -> Iterator[socket.socket | None]:
        """The dashboard's listening socket, bound now: a busy port stops ``swarm run`` at
        once, before it waits for the coordinator lock (a standby that took over could not
        serve it, and would stop then, leaving no scheduler). None when not served. A bad
        setting is reported first: nothing is bound for a configuration that cannot start."""
        self.config.check()
        if not (self.serve_web and self.config.web.enabled):
            yield None
            return
        from bot.web.server import bind

        sock = bind(self.config.web.host, self.config.web.port)
        try:
            yield sock
        finally:
            sock.close()

    @contextlib.asynccontextmanager
    async def coordinator(self, wait: bool = True) -> AsyncIterator[Coordinator]:
        """Take the coordinator lock, then build every part; close them in reverse order.

        On SQLite a second coordinator on the same home stops here with ``already running:
        pid ...``; on PostgreSQL it waits in standby until the scheduler lock is free
        (``wait``; without it, it stops like on SQLite). Either way it stops before it opens
        the database: recovery of interrupted deliveries (``Scheduler.run``) only ever
        happens under the lock.
        """
        self.config.check()
        async with _coordinator_lock(self, wait) as lock:
            service = await self.service()
            try:  # closed whatever stops the start (a Ctrl+C: its thread would hold the exit)
                if lock is not None:
                    lock.guard(service)
                await _rewrite_stale_hooks(service)
                async with contextlib.AsyncExitStack() as stack:
                    deliverer = self.deliverer(service)
                    stack.callback(deliverer.close)
                    ai = self.ai(service)
                    stack.push_async_callback(ai.close)
                    jobs = self.jobs(service, ai)
                    hooks = await serve_hooks(service, self.config)
                    if hooks is not None:
                        stack.push_async_callback(hooks.close)
                    yield Coordinator(
                        service, deliverer, ai, jobs, self.scheduler(service, deliverer, jobs)
                    )
            finally:
                await service.close()


async def _rewrite_stale_hooks(service: SwarmService) -> None:
    """Sandboxed agents' hook files written before they were sandboxed run their door's
    hook from now on (``automation.launch.sandbox.stale_hooks``), said in the log."""
    agents = list(service.agents.values())
    for line in await asyncio.to_thread(_stale_hook_lines, service, agents):
        log.warning("%s", line)


def _stale_hook_lines(service: SwarmService, agents: Sequence[Agent]) -> list[str]:
    """Rewrite the stale hook files of ``agents`` that are sandboxed; a line each."""
    from automation.launch.sandbox import stale_hooks

    settings = service.settings
    return stale_hooks(settings.home, agents, settings.approval_wait_s)


async def serve_hooks(service: SwarmService, config: Config) -> HookServer | None:
    """The hooks' socket on this machine (``bot.hook_server``), or None: without it (said in
    the log) the hooks write to the database themselves. The caller closes it."""
    from bot.hook_server import HookServer

    server = HookServer(service, config)
    try:
        return server if await server.start() else None
    except OSError as exc:
        log.warning("hooks use the database: the hook socket %s: %s", server.path, exc)
        return None


@contextlib.asynccontextmanager
async def _coordinator_lock(builder: Builder, wait: bool) -> AsyncIterator[HeldLock | None]:
    """The PostgreSQL scheduler lock (``core/coordinator/db_lock.py``, yielded: the service
    it guards is fenced when it is lost) or the home's lock file (``Builder.home_lock``)."""
    settings = builder.config.core
    if settings.database_url:
        from core.coordinator import db_lock

        async with db_lock.hold(settings.database_url, settings.failover_s, wait) as lock:
            yield lock
        return
    with builder.home_lock():
        yield None


async def started_parts(
    runner: asyncio.Task[Any], started: asyncio.Future[Coordinator]
) -> Coordinator:
    """The parts ``run_with_front_ends`` built, or its error if it stopped before."""
    await asyncio.wait({runner, started}, return_when=asyncio.FIRST_COMPLETED)
    if not started.done():
        runner.result()
        raise RuntimeError("the coordinator stopped before it started")
    return started.result()


async def run_headless(
    builder: Builder, *, burst: bool = False, stop: asyncio.Event | None = None
) -> BurstResult | None:
    """Scheduler, delivery, watcher and schedules without Discord, until SIGINT/SIGTERM (or
    until nothing more can happen now, in ``burst``)."""
    started = time.monotonic()
    if burst:
        return await _run_headless(builder, burst, stop, None, started)
    with builder.home_lock(), builder.web_socket() as sock:
        return await _run_headless(builder, burst, stop, sock, started)


async def _run_headless(
    builder: Builder,
    burst: bool,
    stop: asyncio.Event | None,
    sock: socket.socket | None,
    started: float,
) -> BurstResult | None:
    async with builder.coordinator(wait=not burst) as parts:
        try:
            if burst:
                return await parts.scheduler.run_burst()
            stop = stop or asyncio.Event()
            with RunStopper(stop, parts.scheduler).installed():
                async with builder.web(parts.service, sock):
                    log.info(
                        "coordinator started: %d agents, database %s",
                        len(parts.service.agents),
                        parts.service.settings.database_shown,
                    )
                    banner(parts.service, sock, builder.log_file, discord=False)
                    await parts.scheduler.run(stop)
            say(f"stopped after {time.monotonic() - started:.1f} s")
            return None
        finally:
            log.info("coordinator stopped after %.1f s", time.monotonic() - started)


async def run_with_discord(
    builder: Builder,
    *,
    stop: asyncio.Event | None = None,
    started: asyncio.Future[Coordinator] | None = None,
) -> None:
    """``run_with_front_ends`` with Discord alone (the demo, the benchmarks, the tests)."""
    await run_with_front_ends(builder, [builder.discord()], stop=stop, started=started)


async def run_with_front_ends(
    builder: Builder,
    front_ends: Sequence[FrontEndRun],
    *,
    stop: asyncio.Event | None = None,
    started: asyncio.Future[Coordinator] | None = None,
) -> None:
    """Scheduler, delivery, watcher and each front end (its notifier) in one process, until
    SIGINT/SIGTERM.

    The scheduler does not depend on a front end: while Discord cannot be reached it keeps
    assigning and delivering, and the bot tries again with backoff. ``started`` receives the
    coordinator's parts once they are built (the demo and the benchmark watch its service).
    """
    for front_end in front_ends:
        front_end.require()
    stop = stop or asyncio.Event()
    with builder.home_lock(), builder.web_socket() as sock:
        await _run_with_front_ends(builder, front_ends, stop, started, sock)


async def _run_with_front_ends(
    builder: Builder,
    front_ends: Sequence[FrontEndRun],
    stop: asyncio.Event,
    started: asyncio.Future[Coordinator] | None,
    sock: socket.socket | None,
) -> None:
    async with builder.coordinator() as parts:
        if started is not None:
            started.set_result(parts)
        with RunStopper(stop, parts.scheduler).installed():
            async with builder.web(parts.service, sock):
                on_discord = any(f.name == "Discord" for f in front_ends)
                others = [f.name for f in front_ends if f.name != "Discord"]
                banner(parts.service, sock, builder.log_file, on_discord, others)
                running = Background("coordinator")  # each result read below
                scheduler = running.start(parts.scheduler.run(stop), name="scheduler", awaited=True)
                served = [
                    running.start(f.run(parts, stop), name=f.name, awaited=True) for f in front_ends
                ]
                names = ", ".join(f.name for f in front_ends)
                log.info("coordinator started with %s: %d agents", names, len(parts.service.agents))
                try:
                    await asyncio.wait({scheduler, *served}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stop.set()
                    await asyncio.gather(scheduler, *served, return_exceptions=True)
                for front_end in served:
                    front_end.result()  # a fatal error (bad token, missing channel) surfaces here
                scheduler.result()
    log.info("coordinator stopped")
    say("stopped")


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT/SIGTERM while the block runs."""
    with on_signals(stop.set):
        yield
