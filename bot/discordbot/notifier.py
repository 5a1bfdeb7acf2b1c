"""Posts swarm events to the configured channel, resuming where it stopped.

Each task has one live message, edited in place as its state changes, with a thread for its
notes; each message to agents has one line updated to "delivered N/M"; a campaign shown with
``/campaign show`` has its message edited as its tasks change, and a gate that starts waiting
gets one post with its buttons (:mod:`bot.discordbot.campaign_posts`). The message and
thread ids live in the ``posts`` table, saved with the cursor (last handled event id) in one
transaction after every post or edit, so a crash or a lost connection repeats at most the
post in flight and never drops one.

What a person must act on (a permission prompt, CI out of retries, a gate, an alert) is
posted by a second loop with its own cursor (``discord:urgent``), so it never waits behind
a flood of task cards: Discord lets a channel take about five posts in five seconds.

Neither loop waits on one event for ever (:mod:`bot.discordbot.post_failures`): a live
message (or thread) that was deleted is posted anew, a post Discord refuses for good is
skipped, recorded and alerted, and what fails for now is tried again with backoff, its lag and
failures shown by ``swarm status``, ``/metrics`` and the dashboard.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.discordbot.campaign_posts import CampaignPosts
from bot.discordbot.cards import (
    Card,
    NotifyLevel,
    activity_words,
    creates_card,
    message_headline,
    progress_line,
    thread_note,
)
from bot.discordbot.github_posts import CiPosts
from bot.discordbot.post_failures import Loop, describe, for_good
from bot.discordbot.prompt_posts import PromptPosts
from bot.discordbot.render import MESSAGE_LIMIT
from bot.discordbot.views import card_view
from core.agents.service import TranscriptBook
from core.errors import SwarmError
from core.event_kinds import URGENT_KINDS, EventKind, Urgent, event_text, shown
from core.formats.text import split_text
from core.history.events import EventFilter
from core.models import Event, Task, TaskStatus
from core.posts.health import CONSUMER, URGENT, URGENT_CONSUMER
from core.posts.queries import Post
from core.service.swarm import SwarmService
from core.waits import ErrorBackoff, wait_set

if TYPE_CHECKING:
    from bot.discordbot.context import Bot

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 30.0
FIRST_START_BACKLOG = 200
ACTIVITY_S = 5.0  # a card's status line (its protocol agent's latest activity) at most this often


class Notifier:
    """Tails the events table and shows what a person wants to know."""

    def __init__(self, bot: Bot, service: SwarmService, poll_s: float = 0.5) -> None:
        self.bot = bot
        self.service = service
        self.poll_s = poll_s
        self.level = NotifyLevel(bot.settings.notify)
        self._wake = asyncio.Event()
        self._urgent_wake = asyncio.Event()
        self._stopping = False
        self._lines: list[Event] = []
        self.normal = Loop(service, CONSUMER)
        self.urgent = Loop(service, URGENT_CONSUMER)
        self.campaigns = CampaignPosts(bot)
        self.prompts = PromptPosts(bot, self.urgent)  # agents' permission prompts, buttons
        self.ci = CiPosts(bot, self.urgent)  # PRs whose CI failed past its retries
        self.transcripts = TranscriptBook(service.store)
        self.activity_s = ACTIVITY_S
        self._activity_at = 0.0  # when the status lines were last looked at (monotonic)
        service.on_change(self._wake.set)
        service.on_change(self._urgent_wake.set)

    def stop(self) -> None:
        """Finish the posts in flight, then return from ``run``."""
        self._stopping = True
        self._wake.set()
        self._urgent_wake.set()

    async def run(self) -> None:
        """Post events forever (until cancelled): the urgent ones beside the others."""
        await self.bot.wait_until_ready()
        channel = await self._channel()
        cursor = await self._start_cursor()
        urgent = await self.service.posts.cursor(URGENT_CONSUMER) or cursor
        async with asyncio.TaskGroup() as group:
            normal = self._loop(self.normal, channel, cursor, self.post_pending, self._wake)
            group.create_task(normal)
            urgent_loop = self._loop(
                self.urgent, channel, urgent, self.post_urgent, self._urgent_wake
            )
            group.create_task(urgent_loop)

    async def _loop(
        self,
        loop: Loop,
        channel: Any,
        cursor: int,
        step: Callable[[Any, int], Awaitable[tuple[int, bool]]],
        wake: asyncio.Event,
    ) -> None:
        """Run ``step`` until stopped: at once while it finds events, else on a change or
        every ``poll_s``; a failure for now (Discord down, a lost connection) is recorded and
        tried again with a growing pause, from the cursor saved."""
        backoff = ErrorBackoff(1.0, MAX_BACKOFF_S)
        while not self._stopping:
            wake.clear()
            try:
                cursor, posted = await step(channel, cursor)
                backoff.succeeded()
            except Exception as exc:  # a lost connection must not end the notifier
                delay = backoff.failed()
                log.warning(
                    "%s: posting to Discord failed (%s); retrying in %.0f s",
                    loop.consumer,
                    describe(exc),
                    delay,
                )
                cursor = await loop.retried(exc, cursor)
                await asyncio.sleep(delay)
                continue
            if not posted and not self._stopping:
                await wait_set(wake, self.poll_s)

    async def post_urgent(self, channel: Any, cursor: int) -> tuple[int, bool]:
        """Handle the events a person must act on after ``cursor`` (the urgent cursor)."""
        flt = EventFilter(kinds=URGENT)
        events = await self.service.history.find(flt, after_id=cursor, limit=100)
        for event in events:
            if self._stopping:
                break
            await self.urgent.guarded(event, partial(self._handle_urgent, channel, event))
            await self.service.posts.set_cursor(URGENT_CONSUMER, event.id)
            cursor = event.id
        return cursor, bool(events)

    async def _channel(self, channel_id: int | None = None) -> Any:
        channel_id = channel_id or self.bot.settings.channel_id or 0
        return self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)

    async def _start_cursor(self) -> int:
        cursor = await self.service.posts.cursor(CONSUMER)
        if cursor == 0:  # first start: post the recent history, not years of it
            latest = await self.service.history.last(1)
            cursor = max(0, (latest[-1].id if latest else 0) - FIRST_START_BACKLOG)
            await self.service.posts.set_cursor(CONSUMER, cursor)
            log.info("notifier starts after event %d", cursor)
        return cursor

    async def post_pending(self, channel: Any, cursor: int) -> tuple[int, bool]:
        """Handle the events after ``cursor``; return the new cursor and whether any came."""
        self._lines.clear()  # left by a failed step: read again from the cursor
        await self._refresh_activity(channel)
        events = await self.service.history.events(after_id=cursor, limit=100)
        if not events:
            return cursor, False
        for event in events:
            if self._stopping:
                break
            if event.kind in URGENT_KINDS:  # posted by ``post_urgent``
                if not self._lines:
                    cursor = event.id
            elif await self.normal.guarded(event, partial(self._handle, channel, event)):
                await self._flush(channel)
                cursor = event.id
            elif self._wants_line(event):
                if (
                    sum(len(event_text(e)) + 1 for e in self._lines) + len(event_text(event))
                    > MESSAGE_LIMIT
                ):
                    await self._flush(channel)
                self._lines.append(event)
            elif not self._lines:
                cursor = event.id  # nothing to show: skipped past
            await self.campaigns.note(event)
        await self.campaigns.refresh()  # rendered from the current state: no cursor needed
        if self._lines:
            cursor = self._lines[-1].id
            await self._flush(channel)
        await self.service.posts.set_cursor(CONSUMER, cursor)
        return cursor, True

    async def _refresh_activity(self, channel: Any) -> None:
        """At most every ``activity_s``: each task card whose protocol agent did something
        since shows it on its status line (one edit a card, none when it reads the same;
        never a message per chunk). A card gone is posted anew by its task's next event."""
        now = time.monotonic()
        if now - self._activity_at < self.activity_s:
            return
        self._activity_at = now
        for task_id, line in (await self.transcripts.activity()).items():
            post = await self.service.posts.post(f"task:{task_id}")
            if post is None:
                continue
            task = await self.service.tasks.get(task_id)
            question = await self.service.questions.open_question(task_id)
            card = Card(task, post.note, question, activity_words(line))
            if card.shown == post.shown:
                continue
            try:
                await channel.get_partial_message(post.message_id).edit(
                    content=card.text, view=card_view(task)
                )
            except Exception as exc:  # best effort: the next look tries again
                log.warning("T-%d's status line not shown (%s)", task_id, describe(exc))
                continue
            await self.service.posts.keep_post(replace(post, shown=card.shown))

    async def _activity_of(self, task: Task) -> str | None:
        """The status line a card of ``task`` shows now (while in progress)."""
        if task.status is not TaskStatus.in_progress:
            return None
        line = (await self.transcripts.activity()).get(task.id)
        return activity_words(line) if line is not None else None

    def _wants_line(self, event: Event) -> bool:
        entry = shown(event.kind)
        return entry.line and (self.level is not NotifyLevel.quiet or entry.quiet)

    async def _flush(self, channel: Any) -> None:
        """Post the plain lines gathered so far as one message."""
        if not self._lines:
            return
        lines, self._lines = self._lines, []
        try:
            await self.normal.send(channel, "\n".join(event_text(e) for e in lines))
        except Exception as exc:
            if not for_good(exc):
                raise
            await self.normal.skipped(lines[-1], exc)
        await self.service.posts.set_cursor(CONSUMER, lines[-1].id)

    async def _handle_urgent(self, channel: Any, event: Event) -> None:
        """Post or edit what an event a person must act on changes (posted at every level,
        alerts at ``quiet`` only when something failed)."""
        entry = shown(event.kind)
        if entry.urgent is Urgent.ALERT:
            if self.level is not NotifyLevel.quiet or entry.quiet:
                await self._alert(event)
        elif entry.urgent is Urgent.PROMPT:
            await self.prompts.handle(channel, event)
        elif entry.urgent is Urgent.CI:
            await self.ci.handle(channel, event)
        elif entry.urgent is Urgent.GATE and event.task_id is not None:
            await self.campaigns.gate_waiting(self.urgent, channel, event)

    async def _handle(self, channel: Any, event: Event) -> bool:
        """Post or edit what ``event`` changes; True when it was handled here (cursor saved)."""
        entry = shown(event.kind)
        if entry.long:
            if self.level is not NotifyLevel.quiet:
                await self._flush(channel)
                for piece in split_text(f"{entry.icon} {event.text}"):
                    await self.normal.send(channel, piece)
            return True
        if event.task_id is not None and entry.task:
            await self._flush(channel)
            await self._task_event(channel, event)
            return True
        message_id = (event.data or {}).get("message")
        if message_id is not None and entry.message:
            await self._flush(channel)
            await self._message_event(channel, event, int(message_id))
            return True
        return False

    async def _task_event(self, channel: Any, event: Event) -> None:
        """Create or edit the task's card; add the event's note to its thread. A card whose
        message or thread Discord refuses for good (deleted) is posted anew, once."""
        assert event.task_id is not None
        post = await self.service.posts.post(f"task:{event.task_id}")
        try:
            task = await self.service.tasks.get(event.task_id)
        except SwarmError:  # gone (archived): nothing left to show
            await self.service.posts.set_cursor(CONSUMER, event.id)
            return
        note = (
            (event.data or {}).get("note")
            if event.kind in (EventKind.TASK_STARTED, EventKind.TASK_PROGRESS)
            else (post.note if post and task.status.value == "in_progress" else None)
        )
        question = await self.service.questions.open_question(task.id)
        card = Card(task, note, question, await self._activity_of(task))
        post = await self._show_card(channel, event, card, post)
        line = thread_note(event, self.level)
        if post is None or line is None:
            return
        try:
            await self._thread_post(channel, post, task, line, event.id)
        except Exception as exc:
            if not for_good(exc):
                raise
            await self.normal.reposted(post.key, event, exc)  # its thread is gone
            post = await self._show_card(channel, event, card, None, anew=True)
            assert post is not None
            await self._thread_post(channel, post, task, line, event.id)

    async def _show_card(
        self, channel: Any, event: Event, card: Card, post: Post | None, anew: bool = False
    ) -> Post | None:
        """Post the card (when this event creates one, or ``anew``) or edit it; the post that
        shows it (None: no card)."""
        key = f"task:{card.task.id}"
        view = card_view(card.task)
        if post is None:
            if not anew and not creates_card(event, self.level):
                await self.service.posts.set_cursor(CONSUMER, event.id)
                return None
            sent = await self.normal.send(channel, card.text, view=view)
            post = Post(key, sent.id, None, card.note, card.shown)
        elif card.shown != post.shown:
            shown_by = await self.normal.edit_or_post(
                channel, post, event, content=card.text, view=view
            )
            thread_id = post.thread_id if shown_by == post.message_id else None
            post = Post(key, shown_by, thread_id, card.note, card.shown)
        else:
            return post
        await self.service.posts.save_post(post, CONSUMER, event.id)
        return post

    async def _thread_post(
        self, channel: Any, post: Post, task: Task, line: str, event_id: int
    ) -> None:
        thread_id = post.thread_id
        if thread_id is None:
            thread = await channel.get_partial_message(post.message_id).create_thread(
                name=f"{task.ref} {task.title}"[:100]
            )
            thread_id = thread.id
            await self.service.posts.save_post(
                Post(post.key, post.message_id, thread_id, post.note, post.shown),
                CONSUMER,
                event_id - 1,
            )  # the thread exists; the note is still to post
        await self.normal.send(self.bot.get_partial_messageable(thread_id), line)
        await self.service.posts.set_cursor(CONSUMER, event_id)

    async def _message_event(self, channel: Any, event: Event, message_id: int) -> None:
        """A message to agents: one line, edited as its deliveries land."""
        key = f"message:{message_id}"
        post = await self.service.posts.post(key)
        if event.kind == EventKind.MESSAGE_QUEUED:
            if post is not None or self.level is NotifyLevel.quiet:
                await self.service.posts.set_cursor(CONSUMER, event.id)
                return
            headline = message_headline(event)
            text = progress_line(headline, await self.service.posts.message_progress(message_id))
            sent = await self.normal.send(channel, text)
            await self.service.posts.save_post(
                Post(key, sent.id, None, headline, text), CONSUMER, event.id
            )
            return
        if post is None or post.note is None:  # a task's prompt, or quiet
            if event.kind == EventKind.DELIVERY_FAILED and (
                self.level is NotifyLevel.quiet or event.task_id is None
            ):
                await self.normal.send(channel, event_text(event))
            await self.service.posts.set_cursor(CONSUMER, event.id)
            return
        text = progress_line(post.note, await self.service.posts.message_progress(message_id))
        shown_by = post.message_id
        if text != post.shown:
            shown_by = await self.normal.edit_or_post(channel, post, event, content=text)
        await self.service.posts.save_post(
            Post(key, shown_by, None, post.note, text), CONSUMER, event.id
        )

    async def _alert(self, event: Event) -> None:
        """Alerts go to the alerts channel; an opened one carries its "Needs you" actions
        (a stalled agent's task: Hand on, Reassign, Nudge, Cancel) and pings
        ``SWARM_ALERTS_ROLE_ID`` (the only mention the bot ever allows)."""
        import discord

        alerts = await self._channel(self.bot.settings.alerts_channel_id)
        role = self.bot.settings.alerts_role_id
        if event.kind != EventKind.ALERT_OPENED:
            await self.urgent.send(alerts, event_text(event))
            return
        actions = await self._alert_actions(event)
        if role is None:
            await self.urgent.send(alerts, event_text(event), **actions)
            return
        await self.urgent.send(
            alerts,
            f"<@&{role}> {event_text(event)}",
            allowed_mentions=discord.AllowedMentions(roles=[discord.Object(role)]),
            **actions,
        )

    async def _alert_actions(self, event: Event) -> dict[str, Any]:
        """``{"view": ...}`` with the opened alert's buttons, as ``/inbox`` shows them;
        nothing when it has none or is no longer open (cleared by the time it is posted)."""
        from bot.discordbot.inbox_commands import inbox_view

        number = (event.data or {}).get("alert")
        if not isinstance(number, int):
            return {}
        try:
            need = await self.service.inbox.item(f"A-{number}")
        except SwarmError:
            return {}
        view = inbox_view([need])
        return {} if view is None else {"view": view}
