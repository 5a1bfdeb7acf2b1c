"""The periodic work of a running coordinator: deadlines of the scheduler's one loop.

``Watcher`` samples the agents' screens and runs the stall rules (one tick); ``Jobs`` is a
``core.protocols.Timer``: the watch tick every ``SWARM_WATCH_INTERVAL`` seconds and each
stored schedule at its ``next_run_at``. The ``schedules`` table is the only store: the loop
reads the next run from it, and overdue schedules run once at start-up, marked late.
APScheduler is used only for cron arithmetic (``core.schedules.timing``). Tests call
``Watcher.tick`` and ``Jobs.run_due`` directly on a ManualClock.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import tzinfo
from typing import TYPE_CHECKING

from core.agents import (
    RECHECK_S,
    RECHECK_STEP_S,
    SMALL,
    FrameSource,
    Freshness,
    ScreenJudge,
    ScreenLook,
    alerts,
    hook_events,
    save_frame,
)
from core.dialogs import dead_hooks as hook_prompts
from core.errors import StoreError
from core.models import Agent
from core.reports.summary import parse_period
from core.schedules import recurring as schedules
from core.schedules.recurring import DAILY_SUMMARY, Claim, ScheduleSpec
from core.schedules.timing import local_zone
from core.waits import Background
from core.watch import stalls as rules
from core.watch.settings import WatchSettings
from core.watch.text_signal import TextWatcher
from core.watch.usage_files import UsageFiles

if TYPE_CHECKING:
    from core.service.ai import AIBook
    from core.service.swarm import SwarmService

log = logging.getLogger(__name__)
Summarizer = Callable[[str], Awaitable[str]]
DRAIN_S = 10.0


class Watcher:
    """Grabs each watched region, judges it (``ScreenJudge``: caret blinks are no activity),
    runs one rules tick. ``looks``: each agent's latest screen verdict, with its evidence.

    ``node``: watch the agents of that delivery node (``swarm node``, which only records
    their panes' text and screen activity: ``record``); None, the coordinator's: every agent
    no node serves (on PostgreSQL, agents with a ``node`` are watched by their node, on its
    desktop).
    """

    def __init__(
        self,
        service: SwarmService,
        settings: WatchSettings,
        frames: FrameSource | None = None,
        node: str | None = None,
        text: TextWatcher | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.frames = frames
        self.node = node
        self.text = text  # the tmux agents' panes (the TEXT signal), read each tick
        self._stored_first: set[str] = set()  # first frames a node already recorded
        self.since = service.clock.now()
        self._last: dict[str, bytes] = {}
        self.first_frames: dict[str, float] = {}  # agent -> when its screen was first seen
        self.judge = ScreenJudge()
        self.looks: dict[str, ScreenLook] = {}
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="watch") if frames else None

    async def sample(self) -> list[str]:
        """Agents whose watched region changed since the previous sample (a caret that
        blinks is no change); each agent's look is kept in ``looks``."""
        if self.frames is None or self._executor is None:
            return []
        watched = [
            a for a in self.service.agents.values() if a.watch is not None and self._served_here(a)
        ]
        loop = asyncio.get_running_loop()
        now = self.service.clock.now()
        looks = await loop.run_in_executor(self._executor, self._look_all, watched, now)
        self.looks.update(looks)
        return [agent for agent, look in looks.items() if look.changed]

    def _served_here(self, agent: Agent) -> bool:
        return agent.node == self.node  # None on SQLite (``StoreAccess``): the coordinator

    def _look_all(self, agents: list[Agent], now: float) -> dict[str, ScreenLook]:
        """Grab every region and judge each frame (in the worker thread: the judging reads
        every pixel of a frame that changed)."""
        grabbed = self._grab_all(agents)
        looks = {}
        for agent in agents:
            frame = grabbed.get(agent.id)
            if frame is None:
                continue
            self.first_frames.setdefault(agent.id, now)
            self._last[agent.id] = frame
            looks[agent.id] = self.judge.look(agent, frame, now)
        self._recheck(
            [a for a in agents if a.id in looks and looks[a.id].verdict == SMALL], looks, now
        )
        return looks

    def _recheck(self, agents: list[Agent], looks: dict[str, ScreenLook], now: float) -> None:
        """Grab the regions with an undecided small change again, together, until each is
        settled (a caret blink toggles back within ``RECHECK_S``)."""
        assert self.frames is not None
        deadline = time.monotonic() + RECHECK_S
        while agents:
            time.sleep(RECHECK_STEP_S)
            last = time.monotonic() >= deadline
            for agent in list(agents):
                settled = self.judge.recheck(agent, self.frames.grab(agent), now, last)
                if settled is not None:
                    looks[agent.id] = settled
                if settled is not None or last:
                    agents.remove(agent)

    def _grab_all(self, agents: list[Agent]) -> dict[str, bytes]:
        assert self.frames is not None
        frames = {agent.id: self.frames.grab(agent) for agent in agents}
        home = self.service.settings.home
        for agent in agents:  # the latest frame, for the dashboard's thumbnails
            frame = frames[agent.id]
            if frame is not None and frame != self._last.get(agent.id):
                try:
                    save_frame(home, agent, frame)
                except OSError as exc:
                    log.debug("frame of %s not saved: %s", agent.id, exc)
        return {agent: frame for agent, frame in frames.items() if frame is not None}

    async def tick(self) -> rules.TickReport:
        """Read the panes, close the prompts no hook answers any more, sample the screens,
        then judge every agent in one transaction."""
        if self.text is not None:
            await self.text.tick()
        await self.close_abandoned_prompts()
        changed = await self.sample()
        starts = await self.service.store.write(
            "watch", rules.watch_clocks, self.settings, self.since
        )
        report = await self.service.store.write(
            "watch", rules.tick, self.settings, changed, self.since, self.first_frames, starts
        )
        if (
            report.nudged
            or report.nudged_turns
            or report.reassigned
            or report.handed_on
            or report.opened
            or report.cleared
        ):
            log.info(
                "watch: stalled %s, nudged %s, turn ended unreported %s, reassigned %s, "
                "handed on %s, opened %s, cleared %s",
                report.stalled,
                report.nudged,
                report.nudged_turns,
                report.reassigned,
                report.handed_on,
                report.opened,
                report.cleared,
            )
        return report

    async def record(self) -> list[str]:
        """A node's tick: read its tmux agents' panes (the TEXT signal: observations and
        prompts, stored), close the prompts of this machine's hooks that are gone, sample its
        agents' screens and store their activity (and the first frame of each) for the
        coordinator's stall rules; the agents found active."""
        if self.text is not None:
            await self.text.tick()
        await self.close_abandoned_prompts()
        changed = await self.sample()
        first = {a: t for a, t in self.first_frames.items() if a not in self._stored_first}
        if not changed and not first:
            return []  # nothing to store: no transaction (inbox agents have no screen)
        active: list[str] = await self.service.store.write(
            f"node {self.node}", rules.record_screen, self.settings, changed, first
        )
        self._stored_first.update(first)
        return active

    async def close_abandoned_prompts(self) -> list[int]:
        """Close the permission prompts whose hook is gone (a hook of this machine) or whose
        wait is long over (``core.dialogs.dead_hooks``); their ids."""
        actor = "watch" if self.node is None else f"node {self.node}"
        fresh = Freshness.of(
            self.settings.interval_s,
            self.settings.stall_after_s,
            self.service.settings.limit_backoff_s,
        )
        release = functools.partial(hook_events.release, fresh=fresh)
        return await hook_prompts.sweep(self.service.store, release, actor)

    async def close(self) -> None:
        """Close the screen connection (in the thread that used it) and the pane reader."""
        if self.text is not None:
            await self.text.close()
        if self._executor is None or self.frames is None:
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self.frames.close)
        self._executor.shutdown(wait=True)
        self._executor = None


class Jobs:
    """The watch tick and the stored schedules, as deadlines of the scheduler's one loop.

    A ``core.protocols.Timer``: no thread, no job store of its own. The ``schedules`` table
    is read for the next run each time the loop goes to sleep, so a schedule added by the
    CLI in another process is seen as soon as the loop notices the write.
    """

    def __init__(
        self,
        service: SwarmService,
        settings: WatchSettings,
        summarize: Summarizer,
        watcher: Watcher | None = None,
        zone: tzinfo | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.watcher = watcher
        self.summarize = summarize
        self.zone = zone or local_zone()
        self._next_tick: float | None = None
        self._runs = Background("jobs")  # the summaries made in background
        # the turns' usage from the CLIs' own files, read at each tick
        self.usage = UsageFiles(service.store) if watcher is not None else None

    async def start(self) -> None:
        """Create the default schedules and run overdue ones (late); plan the first tick."""
        await self.ensure_defaults()
        late = await self.run_overdue()
        now = self.service.clock.now()
        self._next_tick = now + self.settings.interval_s if self.watcher is not None else None
        planned = await self.service.store.read(schedules.planned)
        log.info(
            "jobs started: watch every %g s, %d schedule(s), %d run late at start-up",
            self.settings.interval_s,
            len(planned),
            len(late),
        )

    async def next_due(self) -> float | None:
        """The next watch tick or stored schedule run, whichever comes first."""
        due = await self.service.store.read(schedules.next_due)
        if self._next_tick is None:
            return due
        return self._next_tick if due is None else min(due, self._next_tick)

    async def fire(self) -> int:
        """The watch tick if it is due, then every due schedule; how many ran."""
        ran = 0
        now = self.service.clock.now()
        if self._next_tick is not None and self._next_tick <= now:
            self._next_tick = now + self.settings.interval_s  # missed ticks are not repeated
            assert self.watcher is not None
            await self.watcher.tick()
            await self._read_usage()
            ran += 1
        return ran + len(await self.run_due())

    async def _read_usage(self) -> None:
        """The turns the CLIs' own files tell since the last tick, into the cost ledger; a
        failure is logged and the tick goes on (the next one reads from where this stopped)."""
        if self.usage is None:
            return
        try:
            await self.usage.tick()
        except (OSError, StoreError) as exc:
            log.warning("the agents' usage files were not read: %s", exc)

    async def stop(self) -> None:
        """Let runs in flight finish (bounded), close the screen."""
        self._next_tick = None
        await self.drain(DRAIN_S)
        if self.watcher is not None:
            await self.watcher.close()

    async def drain(self, limit_s: float = DRAIN_S) -> None:
        """Wait for background runs (summaries); cancel what is left after ``limit_s``."""
        await self._runs.close(limit_s)

    async def ensure_defaults(self) -> None:
        """The daily summary, created once (``SWARM_DAILY_SUMMARY=off``: disabled)."""
        spec = None
        if self.settings.daily_summary:
            spec = ScheduleSpec("summary", cron=self.settings.daily_summary, period="1d")
        await self.service.store.write(
            "swarm", schedules.sync_builtin, DAILY_SUMMARY, spec, self.zone
        )

    async def run_overdue(self) -> list[Claim]:
        """Run each schedule that fell due while the coordinator was down, once, late."""
        planned = await self.service.store.read(schedules.planned)
        now = self.service.clock.now()
        due = [sid for sid, at in planned.items() if at <= now]
        return [made for sid in due if (made := await self.run_schedule(sid, late=True))]

    async def run_due(self) -> list[Claim]:
        """Run every schedule due now."""
        planned = await self.service.store.read(schedules.planned)
        now = self.service.clock.now()
        due = [sid for sid, at in planned.items() if at <= now + schedules.DUE_TOLERANCE_S]
        return [made for sid in due if (made := await self.run_schedule(sid))]

    async def run_schedule(self, schedule_id: int, late: bool = False) -> Claim | None:
        """One run if it is due: a prompt is queued at once, a summary is made in background."""
        started = time.monotonic()
        made = await self.service.store.write(
            "scheduler", schedules.claim, schedule_id, self.zone, late
        )
        if made is None:
            return None
        if made.schedule.kind == "summary":
            self._runs.start(self._post_summary(made), name=f"summary {made.schedule.ref}")
        log.info(
            "%s ran (%s)%s in %.3f s",
            made.schedule.ref,
            made.schedule.what,
            schedules.late_note(made),
            time.monotonic() - started,
        )
        return made

    async def _post_summary(self, made: Claim) -> None:
        started = time.monotonic()
        try:
            text = await self.summarize(made.schedule.period or "1d")
        except Exception as exc:
            log.exception("%s: the summary failed", made.schedule.ref)
            await self.service.store.write(
                "scheduler", schedules.record_failure, made, f"summary failed: {exc}"
            )
            return
        head = f"Summary ({made.schedule.ref}{schedules.late_note(made)}):\n"
        until = self.service.clock.now()
        since = until - parse_period(made.schedule.period or "1d")
        watched = await self.service.store.read(alerts.digest, since, until)
        await self.service.store.write(
            "scheduler", schedules.record_summary, made, f"{head}{text}\n{watched}"
        )
        log.info("%s summary posted in %.1f s", made.schedule.ref, time.monotonic() - started)


def summarizer(ai: AIBook) -> Summarizer:
    """The period's summary by ``ai``: a model's narrative when one is configured, else the
    numbers."""

    async def summarize(period: str) -> str:
        summary = await ai.summaries.summarize(period, "scheduler")
        return summary.text

    return summarize
