"""What agents' hooks and the watcher say, as the front ends hand it in or ask for it."""

from __future__ import annotations

import functools

from core.agents import _hook_events as hook_events
from core.agents import _transcript as transcript
from core.agents._alerts import Alert, list_alerts
from core.agents._hook_events import HookEvent
from core.agents._judge import Freshness
from core.store.access import StoreAccess


class SignalBook:
    """Hook events recorded (the hook server, ``swarm hook``) and the watcher's alerts."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    async def record_hook(
        self, agent: str, event: HookEvent, fresh: Freshness, at: float | None = None
    ) -> None:
        """One hook call that asks nothing: its observation, then ``agent`` judged at once
        (``at``: when it came, if earlier than now: ``hook_events.record``)."""
        record = functools.partial(hook_events.record, at=at)
        await self.access.write(agent, record, agent, event, fresh, False)

    async def record_taken(
        self, taken: list[tuple[str, HookEvent, float]], fresh: Freshness
    ) -> None:
        """Hook calls that ask nothing (agent, event, when it came) in one transaction
        (``hook_events.record_taken``)."""
        await self.access.write("hook", hook_events.record_taken, taken, fresh)

    async def alerts(self, include_cleared: bool = False, limit: int = 100) -> list[Alert]:
        """Open alerts (and cleared ones), newest first."""
        return await self.access.read(list_alerts, include_cleared, limit)


class TranscriptBook:
    """Protocol agents' transcripts as the front ends read them (``core.agents._transcript``):
    an agent's newest rows and those changed after a rev, a task's, the status lines."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    async def newest(self, agent: str, limit: int = transcript.PAGE) -> list[transcript.Line]:
        """``agent``'s newest rows, oldest first."""
        return await self.access.read(transcript.newest, agent, limit)

    async def after(
        self, agent: str, rev: int, limit: int = transcript.PAGE
    ) -> list[transcript.Line]:
        """``agent``'s rows written or changed after ``rev``, in that order."""
        return await self.access.read(transcript.after, agent, rev, limit)

    async def of_task(self, task_id: int) -> list[transcript.Line]:
        """The rows of a task's turns, in order."""
        return await self.access.read(transcript.of_task, task_id)

    async def activity(self) -> dict[int, transcript.Line]:
        """task -> its holder's newest row, for the tasks in progress."""
        return await self.access.read(transcript.activity)
