"""The periodic work of a running coordinator, triggered by APScheduler.

``Watcher`` samples the agents' screens and runs the stall rules (one tick); ``Jobs`` owns
the ``AsyncIOScheduler``: the watch tick every ``SWARM_WATCH_INTERVAL`` seconds and one job
per stored schedule at its ``next_run_at``. The ``schedules`` table stays the source of
truth: the jobs are rebuilt from it at start-up and re-read every few seconds (changes made
by the CLI in another process), and overdue schedules run once at start-up, marked late.
Tests call ``Watcher.tick`` and ``Jobs.run_due`` directly on a ManualClock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from core import schedules
from core.models import Agent
from core.schedules import DAILY_SUMMARY, Claim, ScheduleSpec
from core.summary import parse_period
from core.watch import alerts, rules
from core.watch.frames import FrameSource, frames_differ
from core.watch.settings import WatchSettings
from core.watch.timing import local_zone

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from core.service import SwarmService

log = logging.getLogger(__name__)
Summarizer = Callable[[str], Awaitable[str]]
SYNC_S = 5.0
DRAIN_S = 10.0


class Watcher:
    """Grabs each watched region, compares it with the last frame, runs one rules tick."""

    def __init__(self, service: SwarmService, settings: WatchSettings,
                 frames: FrameSource | None = None) -> None:
        self.service = service
        self.settings = settings
        self.frames = frames
        self.since = service.clock.now()
        self._last: dict[str, bytes] = {}
        self.first_frames: dict[str, float] = {}  # agent -> when its screen was first seen
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="watch") if frames else None

    async def sample(self) -> list[str]:
        """Agents whose watched region changed since the previous sample."""
        if self.frames is None or self._executor is None:
            return []
        watched = [a for a in self.service.agents.values() if a.watch is not None]
        loop = asyncio.get_running_loop()
        grabbed = await loop.run_in_executor(self._executor, self._grab_all, watched)
        changed = []
        now = self.service.clock.now()
        for agent, frame in grabbed.items():
            self.first_frames.setdefault(agent, now)
            before = self._last.get(agent)
            self._last[agent] = frame
            if before is not None and frames_differ(before, frame):
                changed.append(agent)
        return changed

    def _grab_all(self, agents: list[Agent]) -> dict[str, bytes]:
        assert self.frames is not None
        frames = {agent.id: self.frames.grab(agent) for agent in agents}
        return {agent: frame for agent, frame in frames.items() if frame is not None}

    async def tick(self) -> rules.TickReport:
        """Sample the screens, then judge every agent in one transaction."""
        changed = await self.sample()
        report = await self.service.write("watch", rules.tick, self.settings, changed, self.since,
                                          self.first_frames)
        if report.nudged or report.reassigned or report.opened or report.cleared:
            log.info("watch: stalled %s, nudged %s, reassigned %s, opened %s, cleared %s",
                     report.stalled, report.nudged, report.reassigned, report.opened,
                     report.cleared)
        return report

    async def close(self) -> None:
        """Close the screen connection (in the thread that used it)."""
        if self._executor is None or self.frames is None:
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self.frames.close)
        self._executor.shutdown(wait=True)
        self._executor = None


class Jobs:
    """Owns the AsyncIOScheduler: the watch tick and the stored schedules."""

    def __init__(self, service: SwarmService, settings: WatchSettings,
                 watcher: Watcher | None = None, summarize: Summarizer | None = None,
                 zone: tzinfo | None = None) -> None:
        self.service = service
        self.settings = settings
        self.watcher = watcher
        self.summarize = summarize or (lambda period: ai_summary(service, period))
        self.zone = zone or local_zone()
        self._scheduler: AsyncIOScheduler | None = None
        self._planned: dict[int, float] = {}
        self._sync_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def scheduler(self) -> AsyncIOScheduler | None:
        """The running APScheduler (None before ``start``)."""
        return self._scheduler

    async def start(self) -> None:
        """Create the default schedules, run overdue ones (late), then start the jobs."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # we log our own lines
        await self.ensure_defaults()
        late = await self.run_overdue()
        self._scheduler = AsyncIOScheduler(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        if self.watcher is not None:
            self._scheduler.add_job(self._tick, IntervalTrigger(
                seconds=self.settings.interval_s), id="watch", name="watch tick")
        self._scheduler.add_job(self.sync, IntervalTrigger(seconds=SYNC_S), id="sync",
                                name="schedules sync")
        await self.sync()
        self._scheduler.start()
        log.info("jobs started: watch every %g s, %d schedule(s), %d run late at start-up",
                 self.settings.interval_s, len(self._planned), len(late))

    async def shutdown(self) -> None:
        """Stop the jobs, let runs in flight finish (bounded), close the screen."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
        self._scheduler = None
        await self.drain(DRAIN_S)
        if self.watcher is not None:
            await self.watcher.close()

    async def drain(self, limit_s: float = DRAIN_S) -> None:
        """Wait for background runs (summaries); cancel what is left after ``limit_s``."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=limit_s)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def ensure_defaults(self) -> None:
        """The daily summary, created once (``SWARM_DAILY_SUMMARY=off``: disabled)."""
        spec = None
        if self.settings.daily_summary:
            spec = ScheduleSpec("summary", cron=self.settings.daily_summary, period="1d")
        await self.service.write("swarm", schedules.sync_builtin, DAILY_SUMMARY, spec, self.zone)

    async def run_overdue(self) -> list[Claim]:
        """Run each schedule that fell due while the coordinator was down, once, late."""
        planned = await self.service.db.read(schedules.planned)
        now = self.service.clock.now()
        due = [sid for sid, at in planned.items() if at <= now]
        return [made for sid in due if (made := await self.run_schedule(sid, late=True))]

    async def run_due(self) -> list[Claim]:
        """Run every schedule due now (tests on a ManualClock; the jobs do it in production)."""
        planned = await self.service.db.read(schedules.planned)
        now = self.service.clock.now()
        due = [sid for sid, at in planned.items() if at <= now + schedules.DUE_TOLERANCE_S]
        return [made for sid in due if (made := await self.run_schedule(sid))]

    async def run_schedule(self, schedule_id: int, late: bool = False) -> Claim | None:
        """One run if it is due: a prompt is queued at once, a summary is made in background."""
        started = time.monotonic()
        made = await self.service.write("scheduler", schedules.claim, schedule_id, self.zone,
                                        late)
        if made is None:
            return None
        if made.schedule.kind == "summary":
            self._spawn(self._post_summary(made), f"summary {made.schedule.ref}")
        log.info("%s ran (%s)%s in %.3f s", made.schedule.ref, made.schedule.what,
                 schedules.late_note(made), time.monotonic() - started)
        return made

    async def _post_summary(self, made: Claim) -> None:
        started = time.monotonic()
        try:
            text = await self.summarize(made.schedule.period or "1d")
        except Exception as exc:
            log.exception("%s: the summary failed", made.schedule.ref)
            await self.service.write("scheduler", schedules.record_failure, made,
                                     f"summary failed: {exc}")
            return
        head = f"Summary ({made.schedule.ref}{schedules.late_note(made)}):\n"
        until = self.service.clock.now()
        since = until - parse_period(made.schedule.period or "1d")
        watched = await self.service.db.read(alerts.digest, since, until)
        await self.service.write("scheduler", schedules.record_summary, made,
                                 f"{head}{text}\n{watched}")
        log.info("%s summary posted in %.1f s", made.schedule.ref, time.monotonic() - started)

    async def sync(self) -> None:
        """Make the scheduler's schedule jobs match the table (one date job per schedule)."""
        async with self._sync_lock:
            planned = await self.service.db.read(schedules.planned)
            if self._scheduler is None:
                self._planned = planned
                return
            from apscheduler.jobstores.base import JobLookupError

            for sid in set(self._planned) - set(planned):
                with contextlib.suppress(JobLookupError):  # already fired or removed
                    self._scheduler.remove_job(schedules.schedule_ref(sid))
            for sid, at in planned.items():
                if self._planned.get(sid) != at:
                    self._add_date_job(sid, at)
            self._planned = planned

    def _add_date_job(self, schedule_id: int, at: float) -> None:
        from apscheduler.triggers.date import DateTrigger

        assert self._scheduler is not None
        self._scheduler.add_job(self._fire, DateTrigger(datetime.fromtimestamp(at, UTC)),
                                args=[schedule_id], id=schedules.schedule_ref(schedule_id),
                                name=f"schedule {schedules.schedule_ref(schedule_id)}",
                                replace_existing=True)

    async def _fire(self, schedule_id: int) -> None:
        self._planned.pop(schedule_id, None)  # the date job is spent: sync adds the next one
        try:
            await self.run_schedule(schedule_id)
        except Exception:
            log.exception("%s failed", schedules.schedule_ref(schedule_id))
        await self.sync()

    async def _tick(self) -> None:
        assert self.watcher is not None
        try:
            await self.watcher.tick()
        except Exception:
            log.exception("watch tick failed; next one in %g s", self.settings.interval_s)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s crashed", task.get_name(), exc_info=task.exception())


async def ai_summary(service: SwarmService, period: str) -> str:
    """The period's summary: a model's narrative when one is configured, else the numbers."""
    from core.ai.service import AIService

    async with AIService(service) as ai:
        summary = await ai.summaries.summarize(period, "scheduler")
    return summary.text
