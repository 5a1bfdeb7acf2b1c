"""Posts swarm events to a front end, resuming where it stopped (one loop for any front end).

Each task has one live post, edited in place as its state changes, with a thread for its
notes; each message to agents has one line updated to "delivered N/M"; plain events are lines
gathered into one post; a summary is posted whole. The front end (``core/coordinator/
front_end.py``: Discord's is ``bot/discordbot/front_end.py``) renders and sends; this module
decides what is posted when. The post ids live in the ``posts`` table, saved with the cursor
(last handled event id, ``event_cursors`` under the front end's name) in one transaction after
every post or edit, so a crash or a lost connection repeats at most the post in flight and
never drops one.

What a person must act on (a permission prompt, CI out of retries, a gate, an alert) is
posted by a second loop with its own cursor (``discord:urgent``; ``urgent_posts``), so it
never waits behind a flood of task cards.

Neither loop waits on one event for ever (``post_loop``): a live post (or thread) that was
deleted is posted anew, a post the front end refuses for good is skipped, recorded and
alerted, and what fails for now is tried again with backoff, its lag and failures shown by
``swarm status``, ``/metrics`` and the dashboard.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial

from core.coordinator.front_end import (
    FrontEnd,
    Lines,
    LongText,
    MessageLine,
    TaskCard,
    ThreadLine,
)
from core.coordinator.post_loop import PostLoop
from core.coordinator.urgent_posts import UrgentPosts
from core.errors import SwarmError
from core.event_kinds import URGENT_KINDS, EventKind, event_text, shown
from core.formats.text import split_text
from core.history.events import EventFilter
from core.models import Event, Task, TaskStatus
from core.posts.health import URGENT, urgent_consumer
from core.posts.notify import (
    NotifyLevel,
    creates_card,
    in_thread,
    message_headline,
)
from core.posts.queries import Post
from core.service.swarm import SwarmService
from core.waits import ErrorBackoff, wait_set

log = logging.getLogger(__name__)
FIRST_BACKOFF_S = 1.0  # the pause after a first failure for now, doubled per failure in a row
MAX_BACKOFF_S = 30.0
FIRST_START_BACKLOG = 200
ACTIVITY_S = 5.0  # a card's status line (its protocol agent's latest activity) at most this often
Step = Callable[[int], Awaitable[tuple[int, bool]]]


def task_key(task_id: int) -> str:
    """The ``posts`` key of a task's card."""
    return f"task:{task_id}"


class Notifier:
    """Tails the events table and shows ``front`` what a person wants to know."""

    def __init__(
        self, service: SwarmService, front: FrontEnd, level: NotifyLevel, poll_s: float = 0.5
    ) -> None:
        self.service = service
        self.front = front
        self.poll_s = poll_s
        self.level = level
        self._wake = asyncio.Event()
        self._urgent_wake = asyncio.Event()
        self._stopping = False
        self._lines: list[Event] = []
        self.normal = PostLoop(service, front, front.name)
        self.urgent = PostLoop(service, front, urgent_consumer(front.name))
        self.urgent_posts = UrgentPosts(service, self.urgent, level)
        self.activity_s = ACTIVITY_S
        self.first_backoff_s = FIRST_BACKOFF_S  # both read as each loop starts
        self.max_backoff_s = MAX_BACKOFF_S
        self._activity_at = 0.0  # when the status lines were last looked at (monotonic)
        service.on_change(self._wake.set)
        service.on_change(self._urgent_wake.set)

    def stop(self) -> None:
        """Finish the posts in flight, then return from ``run``."""
        self._stopping = True
        self._wake.set()
        self._urgent_wake.set()

    async def run(self) -> None:
        """Post events forever (until stopped): the urgent ones beside the others."""
        cursor = await self._start_cursor()
        urgent = await self.service.posts.cursor(self.urgent.consumer) or cursor
        async with asyncio.TaskGroup() as group:
            group.create_task(self._loop(self.normal, cursor, self.post_pending, self._wake))
            urgent_loop = self._loop(self.urgent, urgent, self.post_urgent, self._urgent_wake)
            group.create_task(urgent_loop)

    async def _loop(self, loop: PostLoop, cursor: int, step: Step, wake: asyncio.Event) -> None:
        """Run ``step`` until stopped: at once while it finds events, else on a change or
        every ``poll_s``; a failure for now (the front end down, a lost connection) is
        recorded and tried again with a growing pause, from the cursor saved."""
        backoff = ErrorBackoff(self.first_backoff_s, self.max_backoff_s)
        while not self._stopping:
            wake.clear()
            try:
                cursor, posted = await step(cursor)
                backoff.succeeded()
            except Exception as exc:  # a lost connection must not end the notifier
                delay = backoff.failed()
                log.warning(
                    "%s: posting failed (%s); retrying in %.0f s",
                    loop.consumer,
                    self.front.describe(exc),
                    delay,
                )
                cursor = await loop.retried(exc, cursor)
                await asyncio.sleep(delay)
                continue
            if not posted and not self._stopping:
                await wait_set(wake, self.poll_s)

    async def post_urgent(self, cursor: int) -> tuple[int, bool]:
        """Handle the events a person must act on after ``cursor`` (the urgent cursor)."""
        flt = EventFilter(kinds=URGENT)
        events = await self.service.history.find(flt, after_id=cursor, limit=100)
        for event in events:
            if self._stopping:
                break
            await self.urgent.guarded(event, partial(self.urgent_posts.handle, event))
            await self.service.posts.set_cursor(self.urgent.consumer, event.id)
            cursor = event.id
        return cursor, bool(events)

    async def _start_cursor(self) -> int:
        cursor = await self.service.posts.cursor(self.normal.consumer)
        if cursor == 0:  # first start: post the recent history, not years of it
            latest = await self.service.history.last(1)
            cursor = max(0, (latest[-1].id if latest else 0) - FIRST_START_BACKLOG)
            await self.service.posts.set_cursor(self.normal.consumer, cursor)
            log.info("%s: the notifier starts after event %d", self.front.name, cursor)
        return cursor

    async def post_pending(self, cursor: int) -> tuple[int, bool]:
        """Handle the events after ``cursor``; return the new cursor and whether any came."""
        self._lines.clear()  # left by a failed step: read again from the cursor
        await self._refresh_activity()
        events = await self.service.history.events(after_id=cursor, limit=100)
        if not events:
            return cursor, False
        seen: list[Event] = []
        for event in events:
            if self._stopping:
                break
            cursor = await self._take(event, cursor)
            seen.append(event)
        await self.front.seen(seen)  # rendered from the current state: no cursor needed
        if self._lines:
            cursor = self._lines[-1].id
            await self._flush()
        await self.service.posts.set_cursor(self.normal.consumer, cursor)
        return cursor, True

    async def _take(self, event: Event, cursor: int) -> int:
        """Handle one event of the normal loop; the cursor after it."""
        if event.kind in URGENT_KINDS:  # posted by ``post_urgent``
            return cursor if self._lines else event.id
        if await self.normal.guarded(event, partial(self._handle, event)):
            await self._flush()
            return event.id
        if self._wants_line(event):
            size = sum(len(event_text(e)) + 1 for e in self._lines) + len(event_text(event))
            if size > self.front.text_limit:
                await self._flush()
            self._lines.append(event)
            return cursor
        return cursor if self._lines else event.id  # nothing to show: skipped past

    async def _refresh_activity(self) -> None:
        """At most every ``activity_s``: each task card in progress shows on its status line
        its agent's state as every other view shows it (a protocol agent's newest row too):
        one edit a card, none when it reads the same; never a post per chunk. A card gone is
        posted anew by its task's next event."""
        now = time.monotonic()
        if now - self._activity_at < self.activity_s:
            return
        self._activity_at = now
        for task_id, holder in (await self.service.tasks.holders()).items():
            post = await self.service.posts.post(self.front.name, task_key(task_id))
            if post is None:
                continue
            task = await self.service.tasks.get(task_id)
            question = await self.service.questions.open_question(task_id)
            card = TaskCard(task, post.note, question, holder.words())
            shown_now = self.front.shown(card)
            if shown_now == post.shown:
                continue
            try:
                await self.front.edit(post, card)
            except Exception as exc:  # best effort: the next look tries again
                log.warning("T-%d's status line not shown (%s)", task_id, self.front.describe(exc))
                continue
            await self.service.posts.keep_post(self.front.name, replace(post, shown=shown_now))

    async def _activity_of(self, task: Task) -> str | None:
        """The status line a card of ``task`` shows now (while in progress)."""
        if task.status is not TaskStatus.in_progress:
            return None
        holder = (await self.service.tasks.holders()).get(task.id)
        return holder.words() if holder is not None else None

    def _wants_line(self, event: Event) -> bool:
        entry = shown(event.kind)
        return entry.line and (self.level is not NotifyLevel.quiet or entry.quiet)

    async def _flush(self) -> None:
        """Post the plain lines gathered so far as one post."""
        if not self._lines:
            return
        lines, self._lines = self._lines, []
        try:
            await self.normal.send(Lines(tuple(lines)))
        except Exception as exc:
            if not self.normal.for_good(exc):
                raise
            await self.normal.skipped(lines[-1], exc)
        await self.service.posts.set_cursor(self.normal.consumer, lines[-1].id)

    async def _handle(self, event: Event) -> bool:
        """Post or edit what ``event`` changes; True when it was handled here (cursor saved)."""
        entry = shown(event.kind)
        if entry.long:
            if self.level is not NotifyLevel.quiet:
                await self._flush()
                for piece in split_text(f"{entry.icon} {event.text}", self.front.text_limit):
                    await self.normal.send(LongText(piece))
            return True
        if event.task_id is not None and entry.task:
            await self._flush()
            await self._task_event(event)
            return True
        message_id = (event.data or {}).get("message")
        if message_id is not None and entry.message:
            await self._flush()
            await self._message_event(event, int(message_id))
            return True
        return False

    async def _task_event(self, event: Event) -> None:
        """Create or edit the task's card; add the event's note to its thread. A card whose
        post or thread the front end refuses for good (deleted) is posted anew, once."""
        assert event.task_id is not None
        post = await self.service.posts.post(self.front.name, task_key(event.task_id))
        try:
            task = await self.service.tasks.get(event.task_id)
        except SwarmError:  # gone (archived): nothing left to show
            await self.service.posts.set_cursor(self.normal.consumer, event.id)
            return
        note = (
            (event.data or {}).get("note")
            if event.kind in (EventKind.TASK_STARTED, EventKind.TASK_PROGRESS)
            else (post.note if post and task.status.value == "in_progress" else None)
        )
        question = await self.service.questions.open_question(task.id)
        card = TaskCard(task, note, question, await self._activity_of(task))
        post = await self._show_card(event, card, post)
        if post is None or not in_thread(event, self.level):
            return
        try:
            await self._thread_post(post, task, event)
        except Exception as exc:
            if not self.normal.for_good(exc):
                raise
            await self.normal.reposted(post.key, event, exc)  # its thread is gone
            post = await self._show_card(event, card, None, anew=True)
            assert post is not None
            await self._thread_post(post, task, event)

    async def _show_card(
        self, event: Event, card: TaskCard, post: Post | None, anew: bool = False
    ) -> Post | None:
        """Post the card (when this event creates one, or ``anew``) or edit it; the post that
        shows it (None: no card)."""
        creates = anew or creates_card(event, self.level)
        key = task_key(card.task.id)
        return await self.normal.show(key, card, event, creates, post, card.note)

    async def _thread_post(self, post: Post, task: Task, event: Event) -> None:
        thread_id = post.thread_id
        if thread_id is None:
            thread_id = await self.front.open_thread(post, task)
            await self.service.posts.save_post(
                replace(post, thread_id=thread_id), self.normal.consumer, event.id - 1
            )  # the thread exists; the note is still to post
        await self.normal.send(ThreadLine(event), thread_id)
        await self.service.posts.set_cursor(self.normal.consumer, event.id)

    async def _message_event(self, event: Event, message_id: int) -> None:
        """A message to agents: one line, edited as its deliveries land."""
        key = f"message:{message_id}"
        post = await self.service.posts.post(self.front.name, key)
        consumer = self.normal.consumer
        if event.kind == EventKind.MESSAGE_QUEUED:
            if post is not None or self.level is NotifyLevel.quiet:
                await self.service.posts.set_cursor(consumer, event.id)
                return
            headline = message_headline(event)
            line = MessageLine(headline, await self.service.posts.message_progress(message_id))
            await self.normal.show(key, line, event, True, None, headline)
            return
        if post is None or post.note is None:  # a task's prompt, or quiet
            if event.kind == EventKind.DELIVERY_FAILED and (
                self.level is NotifyLevel.quiet or event.task_id is None
            ):
                await self.normal.send(Lines((event,)))
            await self.service.posts.set_cursor(consumer, event.id)
            return
        line = MessageLine(post.note, await self.service.posts.message_progress(message_id))
        await self.normal.show(key, line, event, True, post, post.note)
        await self.service.posts.set_cursor(consumer, event.id)  # when it showed the same
