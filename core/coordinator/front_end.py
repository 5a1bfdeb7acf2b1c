"""What the notifier asks of a front end (Discord today; Slack, Telegram or Matrix would be one
more): post an item, edit a post, open a task's thread, and say how its requests fail. The
notifier (``core/coordinator/notifier.py``) decides what is posted, when, under which key, and
what is tried again or skipped; the front end only renders and sends (no front-end import
here: each item is core data, rendered by the front end its own way).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from core.dialogs.permissions import Prompt
from core.github.links import CiDecision
from core.inbox.needs import Need
from core.models import Event, Task
from core.posts.queries import Post, Progress
from core.questions import Question


class Failure(enum.StrEnum):
    """How a request to a front end failed."""

    gone = "gone"  # the message, thread or channel was deleted
    refused = "refused"  # never accepted as it is (no access, a payload it refuses)
    transient = "transient"  # may pass later (rate limit, server error, a lost connection)


@dataclass(frozen=True)
class TaskCard:
    """A task's live card (``task:N``): the task, its last note while worked on, its open
    question, its protocol agent's latest activity."""

    task: Task
    note: str | None = None
    question: Question | None = None
    activity: str | None = None


@dataclass(frozen=True)
class ThreadLine:
    """One event's line in its task's thread."""

    event: Event


@dataclass(frozen=True)
class Lines:
    """Events that are one line each in the channel, gathered into one post."""

    events: tuple[Event, ...]


@dataclass(frozen=True)
class LongText:
    """A piece of an event posted whole (a summary), at most the front end's ``text_limit``."""

    text: str


@dataclass(frozen=True)
class MessageLine:
    """A message to agents (``message:N``): its headline and how far its deliveries got."""

    headline: str
    progress: Progress


@dataclass(frozen=True)
class PromptPost:
    """An agent's permission prompt (``prompt:N``), with an answer per option while open."""

    prompt: Prompt


@dataclass(frozen=True)
class CiPost:
    """A PR whose CI failed past its retries (``github-ci:N``): the failure and the choice."""

    task_id: int
    data: dict[str, Any]
    decided: CiDecision | None


@dataclass(frozen=True)
class GatePost:
    """A workflow gate that waits for a person's approval; ``decided``: what became of it
    once decided (``approved by cli``), its buttons gone, wherever it was decided."""

    task: Task
    campaign_id: int | None
    decided: str | None = None


@dataclass(frozen=True)
class AlertPost:
    """An alert's event (to the alerts channel); ``need``: the opened alert as the inbox
    shows it (its actions), when it is still open."""

    event: Event
    need: Need | None = None


Item = (
    TaskCard
    | ThreadLine
    | Lines
    | LongText
    | MessageLine
    | PromptPost
    | CiPost
    | GatePost
    | AlertPost
)


class FrontEnd(Protocol):
    """A front end's posts. ``name`` names its loops' cursors (``discord``, ``discord:urgent``)
    and its rows in ``swarm status``; ids are its own, as strings."""

    name: str
    text_limit: int  # characters one post holds

    def shown(self, item: Item) -> str:
        """What ``item``'s post shows (text and actions): an edit that would show the same is
        skipped."""
        ...

    async def send(self, item: Item, thread: str | None = None) -> str:
        """Post ``item`` (in ``thread``, a task's thread, when given); the new post's id."""
        ...

    async def edit(self, post: Post, item: Item) -> None:
        """Show ``item`` in the post ``post`` in place."""
        ...

    async def open_thread(self, post: Post, task: Task) -> str:
        """Open the thread of ``task`` on its card ``post``; the thread's id."""
        ...

    def failure(self, exc: BaseException) -> Failure | None:
        """How ``exc`` (raised by a request of this front end) failed; None when it is not
        the front end's (the notifier judges the rest)."""
        ...

    def describe(self, exc: BaseException) -> str:
        """One line for ``exc`` in the log and the loop's record."""
        ...

    async def seen(self, events: Sequence[Event]) -> None:
        """The events of a batch the normal loop went through (Discord: its campaigns' live
        messages follow them); nothing to do for a front end without such posts."""
        ...
