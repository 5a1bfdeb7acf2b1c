"""Posts swarm events to the configured channel, resuming where it stopped.

The cursor (last posted event id) is stored in the database after every message, so a crash
or a lost connection re-posts at most the message in flight and never drops one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from bot.discordbot.render import (
    ALERT_KINDS,
    ICONS,
    LONG_KINDS,
    MESSAGE_LIMIT,
    POSTED_KINDS,
    event_text,
    task_buttons_for,
)
from bot.discordbot.views import task_view
from core.models import Event
from core.service import SwarmService
from core.text import split_text

if TYPE_CHECKING:
    from bot.discordbot.client import SwarmBot

log = logging.getLogger(__name__)
CONSUMER = "discord"
MAX_BACKOFF_S = 30.0
FIRST_START_BACKLOG = 200


class Notifier:
    """Tails the events table and posts what a person wants to know."""

    def __init__(self, bot: SwarmBot, service: SwarmService, poll_s: float = 0.5) -> None:
        self.bot = bot
        self.service = service
        self.poll_s = poll_s
        self._wake = asyncio.Event()
        self._stopping = False
        service.on_change(self._wake.set)

    def stop(self) -> None:
        """Finish the message in flight, then return from ``run``."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Post events forever (until cancelled)."""
        await self.bot.wait_until_ready()
        channel = await self._channel()
        cursor = await self._start_cursor()
        backoff = 1.0
        while not self._stopping:
            self._wake.clear()
            try:
                cursor, posted = await self.post_pending(channel, cursor)
                backoff = 1.0
            except Exception as exc:  # a lost connection must not end the notifier
                log.warning("posting to Discord failed (%r); retrying in %.0f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            if not posted and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_s)

    async def _channel(self, channel_id: int | None = None) -> Any:
        channel_id = channel_id or self.bot.settings.channel_id or 0
        return self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)

    async def _start_cursor(self) -> int:
        cursor = await self.service.cursor(CONSUMER)
        if cursor == 0:  # first start: post the recent history, not years of it
            latest = await self.service.last_events(1)
            cursor = max(0, (latest[-1].id if latest else 0) - FIRST_START_BACKLOG)
            await self.service.set_cursor(CONSUMER, cursor)
            log.info("notifier starts after event %d", cursor)
        return cursor

    async def post_pending(self, channel: Any, cursor: int) -> tuple[int, bool]:
        """Post the events after ``cursor``; return the new cursor and whether any came."""
        events = await self.service.events(after_id=cursor, limit=100)
        if not events:
            return cursor, False
        for batch in batches(events):
            if self._stopping:
                break
            await self._post(channel, batch)
            cursor = batch[-1].id
            await self.service.set_cursor(CONSUMER, cursor)
        return cursor, True

    async def _post(self, channel: Any, batch: list[Event]) -> None:
        shown = [e for e in batch if e.kind in POSTED_KINDS]
        if not shown:
            return
        last = shown[-1]
        if last.kind in ALERT_KINDS:
            await self._alert(last)
        elif last.kind in LONG_KINDS:
            for piece in split_text(f"{ICONS.get(last.kind, '•')} {last.text}"):
                await channel.send(piece)
        elif (task_id := task_buttons_for(last)) is not None and len(shown) == 1:
            await channel.send(event_text(last), view=task_view(task_id))
        else:
            await channel.send("\n".join(event_text(e) for e in shown))

    async def _alert(self, event: Event) -> None:
        """Alerts go to the alerts channel; an opened one pings ``SWARM_ALERTS_ROLE_ID``
        (the only mention the bot ever allows)."""
        import discord

        alerts = await self._channel(self.bot.settings.alerts_channel_id)
        role = self.bot.settings.alerts_role_id
        if role is None or event.kind != "alert.opened":
            await alerts.send(event_text(event))
            return
        await alerts.send(f"<@&{role}> {event_text(event)}",
                          allowed_mentions=discord.AllowedMentions(roles=[discord.Object(role)]))


def _alone(event: Event) -> bool:
    """Events posted as a message of their own (buttons, another channel, long text)."""
    if event.kind not in POSTED_KINDS:
        return False
    return (task_buttons_for(event) is not None or event.kind in ALERT_KINDS
            or event.kind in LONG_KINDS)


def batches(events: list[Event]) -> list[list[Event]]:
    """Group events into messages: a task event with buttons alone, others up to 2,000 chars."""
    groups: list[list[Event]] = []
    current: list[Event] = []
    size = 0
    for event in events:
        line = len(event_text(event)) + 1 if event.kind in POSTED_KINDS else 0
        alone = _alone(event)
        if current and (alone or size + line > MESSAGE_LIMIT):
            groups.append(current)
            current, size = [], 0
        current.append(event)
        size += line
        if alone:
            groups.append(current)
            current, size = [], 0
    if current:
        groups.append(current)
    return groups
