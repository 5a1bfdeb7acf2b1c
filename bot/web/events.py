"""One poller of the events table shared by every live client (SSE).

A CLI in another process writes to the same SQLite file, so new rows must be noticed without
a wake-up from this process: while at least one client listens, one task reads the events
after the last id seen every ``poll_s`` and hands the new ones, encoded once as one chunk of
server-sent events, to every subscriber's queue. No query and no encoding per client, and one
write per client per poll however many events it carries (50 clients cost the coordinator
little: see docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from core.event_kinds import event_text
from core.formats.jsonshape import shaped
from core.models import Event
from core.service.swarm import SwarmService
from core.waits import Background

log = logging.getLogger(__name__)
POLL_S = 0.1
BATCH = 500
QUEUE_MAX = 100  # chunks: a client this far behind is dropped (it reconnects: Last-Event-ID)
QUEUE_BYTES = 4 * 1_048_576  # characters of chunks one client may have waiting, likewise
HEARTBEAT_S = 15.0
RECHECK_S = 2.0  # an open stream asks again whether its token still works
REVOKED = 'event: revoked\ndata: {"error": "unknown, revoked or expired token"}\n\n'


class ChunkQueue(asyncio.Queue[str | None]):
    """A listener's chunks, counted in characters as well as chunks (``QUEUE_MAX``,
    ``QUEUE_BYTES``): events with large texts fill it by size long before by count."""

    def __init__(self) -> None:
        super().__init__(QUEUE_MAX)
        self.size = 0
        self.ended = False  # told to go: nothing more is queued

    def fits(self, chunk: str) -> bool:
        """Room for ``chunk``: by count, and by size unless the queue is empty (one chunk,
        however big, always passes: the client could never get it otherwise)."""
        return not self.full() and (self.empty() or self.size + len(chunk) <= QUEUE_BYTES)

    def _put(self, item: str | None) -> None:
        self.ended = self.ended or item is None
        self.size += len(item or "")
        super()._put(item)

    def _get(self) -> str | None:
        item: str | None = super()._get()
        self.size -= len(item or "")
        return item


@dataclass(frozen=True)
class Subscription:
    """A listener's queue and the newest event id when it began listening."""

    queue: ChunkQueue
    upto: int


class EventHub:
    """Fans the events table out to subscribers; polls only while someone listens."""

    def __init__(self, service: SwarmService, poll_s: float = POLL_S) -> None:
        self.service = service
        self.poll_s = poll_s
        self.recheck_s = RECHECK_S  # how often its streams ask again whether a token works
        self._subscribers: set[ChunkQueue] = set()
        self._last_id: int | None = None  # None while nobody listens
        self._task: asyncio.Task[None] | None = None
        self._polling = Background("event poller")
        self._lock = asyncio.Lock()  # a poll and a subscriber's catching up never interleave

    @property
    def listeners(self) -> int:
        """How many clients listen now."""
        return len(self._subscribers)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        """A queue of chunks of server-sent events written after ``upto`` (the newest
        event when it starts); None in it means the client fell too far behind."""
        queue = ChunkQueue()
        async with self._lock:
            if self._last_id is None:
                self._last_id = await self._newest_id()
            upto = self._last_id
            self._subscribers.add(queue)
        self._ensure_running()
        try:
            yield Subscription(queue, upto)
        finally:
            self._subscribers.discard(queue)
            if not self._subscribers:
                self._last_id = None  # the next listener starts from the newest event

    async def missed(self, after_id: int, upto: int) -> AsyncIterator[str]:
        """Every event after ``after_id`` up to ``upto``, one chunk per page of ``BATCH``
        (read as the client takes them: a long absence costs no memory)."""
        while after_id != upto:
            page = []
            for event in await self.service.history.events(after_id, BATCH):
                page.append(event)
                if event.id == upto:  # commit order: ids need not rise (tables.Unseen)
                    break
            if not page:
                return
            yield sse_chunk(page)
            after_id = page[-1].id

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = self._polling.start(self._run(), name="web-events")

    async def _run(self) -> None:
        while self._subscribers:
            try:
                await self.poll_once()
            except Exception:
                log.exception("reading new events failed; trying again")
            await asyncio.sleep(self.poll_s)

    async def poll_once(self) -> int:
        """Hand the events written since the last poll to every subscriber; how many."""
        async with self._lock:
            after = self._last_id if self._last_id is not None else await self._newest_id()
            events = await self.service.history.events(after, BATCH)
            self._last_id = events[-1].id if events else after
            if events:
                chunk = sse_chunk(events)
                for queue in list(self._subscribers):
                    _offer(queue, chunk)
            return len(events)

    async def stop(self) -> None:
        """End the poller and tell every subscriber to go."""
        for queue in list(self._subscribers):
            _offer(queue, None, force=True)
        self._subscribers.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _newest_id(self) -> int:
        newest = await self.service.history.last(1)
        return newest[-1].id if newest else 0


def sse_message(event: Event) -> str:
    """One server-sent event: the event as JSON with the notifier's wording as ``line``."""
    body = shaped({**event.to_json(), "line": event_text(event)})
    return f"id: {event.id}\nevent: swarm\ndata: {json.dumps(body, ensure_ascii=False)}\n\n"


def sse_chunk(events: list[Event]) -> str:
    """Several events as one piece of the stream."""
    return "".join(sse_message(e) for e in events)


async def sse_stream(
    hub: EventHub,
    after_id: int | None,
    allowed: Callable[[], Awaitable[bool]],
    heartbeat_s: float = HEARTBEAT_S,
    recheck_s: float = RECHECK_S,
) -> AsyncIterator[str]:
    """The text of an ``text/event-stream`` response: what the client missed after
    ``after_id``, then each new event, until the client goes or ``allowed()`` (asked at
    least every ``recheck_s``) says its token no longer works."""
    async with hub.subscribe() as subscription:
        yield "retry: 1000\n\n"
        checked = time.monotonic()
        if after_id is not None:
            async for page in hub.missed(after_id, subscription.upto):
                if time.monotonic() - checked >= recheck_s:
                    if not await allowed():
                        yield REVOKED
                        return
                    checked = time.monotonic()
                yield page
        written = time.monotonic()
        while True:
            try:
                async with asyncio.timeout(min(recheck_s, heartbeat_s)):  # see core/waits.py
                    chunk = await subscription.queue.get()
            except TimeoutError:
                chunk = ""
            now = time.monotonic()
            if now - checked >= recheck_s:
                if not await allowed():
                    yield REVOKED
                    return
                checked = now
            if chunk is None:
                return
            if chunk:
                yield chunk
                written = now
            elif now - written >= heartbeat_s:
                yield ": keep-alive\n\n"
                written = now


def _offer(queue: ChunkQueue, item: str | None, force: bool = False) -> None:
    """Queue ``item`` for one listener; a listener too far behind (by count or size) has its
    backlog dropped and is told to go (it reconnects with Last-Event-ID and catches up from
    the table, a page at a time): its memory is given back at once."""
    if queue.ended:
        return
    if item is None or queue.fits(item):
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(item)
            return
    if force:
        return
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(None)
