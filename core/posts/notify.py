"""What the notifier shows at each ``SWARM_NOTIFY`` level, whatever the front end: which
events post a task's card, which add a line to its thread, a message's headline (plain
text; each front end renders it its own way)."""

from __future__ import annotations

import enum

from core.event_kinds import Thread, shown
from core.models import Event


class NotifyLevel(enum.StrEnum):
    """``SWARM_NOTIFY``: how much reaches the channel."""

    quiet = "quiet"  # failures (tasks, deliveries, schedules), questions, campaign ends, alerts
    normal = "normal"  # one live message per task, notes in its thread, failed receipts
    verbose = "verbose"  # also every task event and delivery receipt in the task's thread


def creates_card(event: Event, level: NotifyLevel) -> bool:
    """Whether this event may post a task's card when it has none yet."""
    return kind_creates_card(event.kind, level)


def kind_creates_card(kind: str, level: NotifyLevel) -> bool:
    """Whether an event of this kind may post a task's card at this level."""
    entry = shown(kind)
    return entry.card and (level is not NotifyLevel.quiet or entry.quiet)


def in_thread(event: Event, level: NotifyLevel) -> bool:
    """Whether this task event adds a line to its task's thread at this level."""
    thread = shown(event.kind).thread
    if event.task_id is None or thread is None:
        return False
    if level is NotifyLevel.verbose:
        return True
    if level is NotifyLevel.normal:
        noted = thread is Thread.NOTE and bool((event.data or {}).get("note"))
        return noted or thread in (Thread.QUIET, Thread.NORMAL)
    return thread is Thread.QUIET


def message_headline(event: Event) -> str:
    """``cli → all: hello`` for a ``message.queued`` event."""
    data = event.data or {}
    if "text" not in data:  # written before the text was in the event
        return event.text
    target = str(data.get("target", "")).removeprefix("agent:")
    return f"{event.actor} → {target}: {data['text']}"
